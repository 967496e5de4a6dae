"""Rendering the dashboard's pages: one Jinja2 environment, every template extends
base.html, and `render` hands each one the same context (the translator, the language,
the user, the CSRF token).

    return render(request, "home.html", actor, overview=...)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from sync.server.api.auth import Actor, csrf_token
from sync.server.services import ServiceError
from sync.server.web.i18n import language_of, translator

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
DISPLAY_TZ = ZoneInfo("Asia/Shanghai")


def local_time(ts: int | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time for a page; one no calendar can show (a kiosk's wild clock) is shown as "?",
    never a failed page."""
    if ts is None:
        return ""
    try:
        return datetime.fromtimestamp(ts, DISPLAY_TZ).strftime(fmt)
    except (OverflowError, OSError, ValueError):
        return "?"


templates.env.filters["local_time"] = local_time


def render(request: Request, name: str, actor: Actor | None, status_code: int = 200, **context) -> HTMLResponse:
    language = language_of(request)
    return templates.TemplateResponse(request, name, {
        "t": translator(language), "lang": language, "actor": actor, "csrf": csrf_token(request),
        "path": request.url.path, **context}, status_code=status_code)


def error_page(request: Request, exc: ServiceError, status: int):
    """A ServiceError on a page: the log-in page for `unauthorized`, else a page saying why."""
    if exc.code == "unauthorized":
        from fastapi.responses import RedirectResponse
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    actor = getattr(request.state, "actor", None)
    return render(request, "error.html", actor, status_code=status, code=exc.code, message=exc.message)
