"""Accounts at the center's desk: users, passwords (argon2), API tokens, log-in with
rate limits and lockout.

    >>> password = add_user("li", site="WBY", role="coordinator")   # generated, shown once
    >>> user = login("li", password, client="203.0.113.5")          # or ServiceError
    >>> token = make_token("li")                                    # "wgu_…": Authorization: Bearer
    >>> user_for_token(token).username
    'li'

Log-in is limited by the `limits` library (a moving window in memory: a burst of guesses
is refused with rate_limited before any password is hashed): per client address, per
username from one address, and per username from everywhere (a looser bound on guessing
spread over many addresses). LOCK_AFTER wrong passwords in a row for one name from one
address lock that name *from that address* for LOCK_SECONDS: a stranger cannot lock the
real coordinator out by failing on purpose. Unknown names lock exactly like real ones, so
the answers never tell which names exist.

User tokens start with USER_TOKEN_PREFIX, device tokens never do: the two kinds are told
apart before any lookup, and each is looked up only in its own table, so a kiosk's token
never opens a coordinator endpoint, nor a user's token a kiosk endpoint.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from sync.server.db import reading, writing
from sync.server.models import ApiToken, User
from sync.server.services import ServiceError, audit, sites
from sync.server.services.scope import ROLES

USER_TOKEN_PREFIX = "wgu_"
LOCK_AFTER = 5
LOCK_SECONDS = 15 * 60
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")
MIN_PASSWORD = 10

_hasher = PasswordHasher()
_limiter = MovingWindowRateLimiter(MemoryStorage())
PER_CLIENT = RateLimitItemPerMinute(20)
PER_USERNAME = RateLimitItemPerMinute(10)           # one name, from one address
PER_USERNAME_EVERYWHERE = RateLimitItemPerMinute(100)
_failures: dict[tuple[str, str], tuple[int, float]] = {}
MAX_REMEMBERED = 100_000   # (name, address) -> (wrong in a row, locked until)
# A hash to verify against when the username is unknown, so that a wrong username costs
# the same time as a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash(secrets.token_hex(8))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def configure(per_client: int, per_username: int) -> None:
    """Set the log-in rate limits (from the settings, at start-up)."""
    global PER_CLIENT, PER_USERNAME
    PER_CLIENT, PER_USERNAME = RateLimitItemPerMinute(per_client), RateLimitItemPerMinute(per_username)


def reset_limits() -> None:
    """Forget the in-memory log-in rate limits and lockouts (tests)."""
    _limiter.storage.reset()
    _failures.clear()


def get_user(username: str) -> User | None:
    with reading():
        return User.get_or_none(User.username == username)


def add_user(username: str, site: str | None, role: str = "coordinator", password: str | None = None,
             actor: str = "cli", replace: bool = False) -> str:
    """Create an account at `site` (None: the root); returns its password (generated when
    not given). Refuses bad_user, unknown site (not_found), user_exists."""
    if not USERNAME.match(username or ""):
        raise ServiceError("bad_user", "a username is 2-64 letters, digits, _ . - and starts with a letter or digit")
    if role not in ROLES:
        raise ServiceError("bad_user", f"role must be one of {', '.join(ROLES)}")
    if password is not None and len(password) < MIN_PASSWORD:
        raise ServiceError("bad_password", f"a password has at least {MIN_PASSWORD} characters")
    if site is not None and sites.get_site(site) is None:
        near = sites.nearest(site)
        raise ServiceError("not_found", f"no site {site!r} in the network"
                           + (f"; nearest: {', '.join(near)}" if near else ""))
    password = password or secrets.token_urlsafe(12)
    with writing():
        existing = User.get_or_none(User.username == username)
        if existing is not None and not replace:
            raise ServiceError("user_exists", f"the account {username} exists already")
        fields = dict(password_hash=_hasher.hash(password), site=site, role=role, failed_logins=0,
                      locked_until=None, disabled_at=None)
        if existing is None:
            User.create(username=username, created_at=int(time.time()), **fields)
        else:   # a reset: the old password's sessions and tokens end with it
            User.update(session_generation=User.session_generation + 1, **fields) \
                .where(User.username == username).execute()
            ApiToken.update(revoked_at=int(time.time())).where(
                (ApiToken.username == username) & ApiToken.revoked_at.is_null()).execute()
        audit.record(actor, "user.add" if existing is None else "user.reset", "user", username, site=site,
                     before=None if existing is None else {"site": existing.site, "role": existing.role},
                     after={"site": site, "role": role})
    return password


def check_password(username: str, password: str) -> bool:
    """The password is right (no limits, no lockout: for the CLI and tests)."""
    user = get_user(username)
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def login(username: str, password: str, client: str = "", now: float | None = None) -> User:
    """The user, if the password is right and the account not locked. Refuses
    rate_limited (too many tries from this address or for this name), account_locked,
    bad_login (wrong name or password: the answer does not say which)."""
    now = int(time.time() if now is None else now)
    username = (username or "").strip()[:64]
    name, client = username.lower(), client or "?"
    if not _limiter.hit(PER_CLIENT, "client", client) or \
            not _limiter.hit(PER_USERNAME, "user", name, client) or \
            not _limiter.hit(PER_USERNAME_EVERYWHERE, "user-everywhere", name):
        raise ServiceError("rate_limited", "too many log-in attempts; wait a minute")
    wrong, locked_until = _failures.get((name, client), (0, 0))
    if locked_until > now:
        raise ServiceError("account_locked", "locked after repeated wrong passwords from this place; "
                                             f"try again in {int(locked_until - now) // 60 + 1} minutes")
    user = get_user(username)
    right = check_password(username, password or "")   # hashes even for an unknown name: same time
    if user is not None and user.disabled_at is not None:
        user, right = None, False                        # answered like a wrong password
    if user is None or not right:
        wrong += 1
        if wrong >= LOCK_AFTER:
            _failures[(name, client)] = (0, now + LOCK_SECONDS)
            if user is not None:
                with writing():
                    audit.record("system", "user.lock", "user", username, site=user.site,
                                 after={"locked_until": now + LOCK_SECONDS, "address": client},
                                 reason=f"{LOCK_AFTER} wrong passwords from one address")
        else:
            _failures[(name, client)] = (wrong, 0)
        if len(_failures) > MAX_REMEMBERED:   # bounded memory: forget counts, keep the locks
            for key in [k for k, (_, until) in _failures.items() if until <= now]:
                del _failures[key]
        raise ServiceError("bad_login", "wrong username or password")
    _failures.pop((name, client), None)
    return user


def end_sessions(username: str) -> None:
    """Every session cookie of this user stops working (log-out ends the copies too)."""
    with writing():
        User.update(session_generation=User.session_generation + 1).where(User.username == username).execute()


def revoke_tokens(username: str, actor: str = "cli") -> int:
    """Revoke every API token of this user; returns how many."""
    with writing():
        user = User.get_or_none(User.username == username)
        if user is None:
            raise ServiceError("not_found", f"no account {username!r}")
        count = ApiToken.update(revoked_at=int(time.time())).where(
            (ApiToken.username == username) & ApiToken.revoked_at.is_null()).execute()
        audit.record(actor, "token.revoke", "user", username, site=user.site, after={"revoked": count})
    return count


def disable_user(username: str, actor: str = "cli") -> None:
    """No more log-in, sessions or tokens for this account (a reset with `user add --replace`
    enables it again)."""
    with writing():
        user = User.get_or_none(User.username == username)
        if user is None:
            raise ServiceError("not_found", f"no account {username!r}")
        User.update(disabled_at=int(time.time()), session_generation=User.session_generation + 1) \
            .where(User.username == username).execute()
        ApiToken.update(revoked_at=int(time.time())).where(
            (ApiToken.username == username) & ApiToken.revoked_at.is_null()).execute()
        audit.record(actor, "user.disable", "user", username, site=user.site, after={"disabled": True})


def make_token(username: str, actor: str = "cli") -> str:
    """A new API token for this user (shown once; stored as sha256)."""
    user = get_user(username)
    if user is None:
        raise ServiceError("not_found", f"no account {username!r}")
    token = USER_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with writing():
        ApiToken.create(token_hash=_sha256(token), username=username, created_at=int(time.time()))
        audit.record(actor, "token.add", "user", username, site=user.site)
    return token


def user_for_token(token: str | None) -> User:
    """The user behind a user API token. Refuses unauthorized (none, a device token, unknown,
    revoked, or the account is gone)."""
    if not token or not token.startswith(USER_TOKEN_PREFIX):
        raise ServiceError("unauthorized", "a user API token is required (Authorization: Bearer wgu_…)")
    with reading():
        row = ApiToken.get_or_none(ApiToken.token_hash == _sha256(token))
        user = User.get_or_none(User.username == row.username) if row and row.revoked_at is None else None
    if user is None or user.disabled_at is not None:
        raise ServiceError("unauthorized", "unknown or revoked API token")
    return user
