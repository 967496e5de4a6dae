"""The center's dashboard: server-rendered pages (Jinja2, one base template) with htmx for
in-place updates, all served by this server (no CDN: a center may have no internet).

One router per area; each page's data comes from the same service call as its JSON twin
under /api/v1 (`sync.server.api.center`). `install` adds the signed session cookie, the
static files and the routers to the app.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from sync.server.settings import ServerSettings
from sync.server.web.pages import HERE

SESSION_COOKIE = "wg_session"
SESSION_SECONDS = 8 * 3600


def install(app: FastAPI, settings: ServerSettings) -> None:
    from sync.server.services import accounts
    accounts.configure(settings.login_per_client_per_minute, settings.login_per_username_per_minute)
    from sync.server.web import (activities, audit, certificates, fleet, home, mypage, reports, review, session,
                                 volunteers)
    for module in (session, home, certificates, mypage, volunteers, review, activities, fleet, audit, reports):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/static-font/weiguang.ttf", include_in_schema=False)
    def font():
        """The bundled Chinese font, for machines without one (the page prefers the system's)."""
        from sync.assets import font_path
        return FileResponse(font_path(), media_type="font/ttf", headers={"Cache-Control": "max-age=604800"})

    # Signed (itsdangerous, settings.secret_key), HttpOnly, SameSite=Lax; Secure in production.
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie=SESSION_COOKIE,
                       max_age=SESSION_SECONDS, same_site="lax", https_only=settings.env == "production")
