"""Center accounts (the dashboard's coordinators); passwords hashed with argon2.

    >>> password = create_admin("admin")          # generated when not given; shown once
    >>> check_password("admin", password)
    True
"""

from __future__ import annotations

import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sync.server.db import reading, writing
from sync.server.models import Admin

_hasher = PasswordHasher()


def create_admin(username: str = "admin", password: str | None = None) -> str:
    """Create (or reset the password of) an account; returns the password."""
    password = password or secrets.token_urlsafe(12)
    with writing():
        Admin.delete().where(Admin.username == username).execute()
        Admin.create(username=username, password_hash=_hasher.hash(password), created_at=int(time.time()))
    return password


def admin_exists(username: str = "admin") -> bool:
    with reading():
        return Admin.select().where(Admin.username == username).exists()


def check_password(username: str, password: str) -> bool:
    with reading():
        row = Admin.get_or_none(Admin.username == username)
    if row is None:
        return False
    try:
        return _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
