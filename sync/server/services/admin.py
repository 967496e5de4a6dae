"""The account `weiguang server init` makes: a center administrator of the root (the whole
network). Accounts themselves live in `services.accounts`.

    >>> password = create_admin("admin")          # generated when not given; shown once
    >>> check_password("admin", password)
    True
"""

from __future__ import annotations

from sync.server.services import accounts


def create_admin(username: str = "admin", password: str | None = None) -> str:
    """Create (or reset the password of) the root's center administrator; returns the password."""
    return accounts.add_user(username, site=None, role="center_admin", password=password, replace=True)


def admin_exists(username: str = "admin") -> bool:
    return accounts.get_user(username) is not None


def check_password(username: str, password: str) -> bool:
    return accounts.check_password(username, password)
