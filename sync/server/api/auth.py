"""Who is asking, for the center's desk (pages and JSON alike): the one dependency every
coordinator route takes. It finds the user (an API token, or the signed session cookie),
checks CSRF for a cookie-authenticated change, and computes the Scope once
(`services.scope.scope_for`); services filter with that Scope and nothing else.

    @router.get("/volunteers")
    def roster(actor: Actor = Depends(current_actor)): ...

Two kinds of bearer token exist: a kiosk's device token (`api.deps.current_device`, the
sync endpoints) and a user's API token (``wgu_…``, here). Each dependency accepts only its
own kind, so neither opens the other's endpoints.

CSRF: a synchronizer token kept in the signed session (`csrf_token`), sent back by every
form as the field ``csrf_token`` and by htmx/scripts as the ``X-CSRF-Token`` header, and
compared in constant time. Chosen over starlette-csrf's double-submit cookie because that
middleware reads only a header, and our forms are plain HTML forms that must work
without JavaScript; the session is already signed (itsdangerous, settings.session_secret()), so
the token in it cannot be forged or read by another site. A request with a user API
token carries no cookie and needs no CSRF token (a browser never adds that header on
its own).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sync.server.models import User
from sync.server.services import ServiceError, accounts
from sync.server.services.scope import Scope, scope_for

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_USER = "user"

_bearer = HTTPBearer(auto_error=False, scheme_name="UserToken",
                     description="a user API token (`weiguang server token`), or the dashboard's session cookie")


class LoginRequired(ServiceError):
    """No user: a page redirects to the log-in page, JSON answers 401."""

    def __init__(self, message: str = "log in first, or send a user API token (Authorization: Bearer wgu_…)"):
        super().__init__("unauthorized", message)


@dataclass(frozen=True)
class Actor:
    user: User
    scope: Scope
    via: str            # "token" or "session"

    @property
    def username(self) -> str:
        return self.user.username


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


async def check_csrf(request: Request) -> None:
    """Refuse (403 csrf_failed) a cookie-authenticated change without the session's token."""
    expected = request.session.get(CSRF_FIELD, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = str((await request.form()).get(CSRF_FIELD, ""))
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise ServiceError("csrf_failed", "the form is out of date or was not sent from this site; reload and retry")


async def current_actor(request: Request) -> Actor:
    credentials: HTTPAuthorizationCredentials | None = await _bearer(request)
    if credentials is not None:
        user = accounts.user_for_token(credentials.credentials)
        request.state.actor = Actor(user, scope_for(user), "token")
        return request.state.actor
    username = request.session.get(SESSION_USER)
    user = accounts.get_user(username) if username else None
    if user is None:
        request.session.pop(SESSION_USER, None)
        raise LoginRequired()
    if request.method not in SAFE_METHODS:
        await check_csrf(request)
    request.state.actor = Actor(user, scope_for(user), "session")
    return request.state.actor
