"""Log in, log out, and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sync.server.api.auth import SESSION_GENERATION, SESSION_USER, Actor, check_csrf, csrf_token, current_actor
from sync.server.services import ServiceError, accounts
from sync.server.web.i18n import COOKIE, LANGUAGES
from sync.server.web.pages import render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site (no //host, no scheme): an open redirect helps phishing."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/", out: int = 0):
    return render(request, "login.html", None, next=safe_next(next), logged_out=bool(out))


@router.post("/login")
async def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")):
    await check_csrf(request)
    try:
        user = accounts.login(username, password, client=request.client.host if request.client else "")
    except ServiceError as exc:
        if exc.code not in ("bad_login", "account_locked", "rate_limited"):
            raise
        status = {"rate_limited": 429, "account_locked": 403}.get(exc.code, 401)
        return render(request, "login.html", None, status_code=status, next=safe_next(next), error=exc.code,
                      username=username)
    # A fresh session at log-in (new CSRF token): a session fixed before log-in is worthless.
    request.session.clear()
    request.session[SESSION_USER] = user.username
    request.session[SESSION_GENERATION] = user.session_generation
    csrf_token(request)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request, actor: Actor = Depends(current_actor)):
    accounts.end_sessions(actor.user.username)   # a copy of this cookie dies too
    request.session.clear()
    return RedirectResponse("/login?out=1", status_code=303)


@router.get("/lang/{language}")
def switch_language(language: str, next: str = "/"):
    response = RedirectResponse(safe_next(next), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(COOKIE, language, max_age=365 * 86400, samesite="lax", httponly=True)
    return response

