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

# Every answer: no other site may frame the desk (a click on "revoke" under a decoy), no
# content sniffing, no page address leaked to other sites.
PAGE_HEADERS = [(b"x-frame-options", b"DENY"), (b"content-security-policy", b"frame-ancestors 'none'"),
                (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]


class PageHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def sending(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *PAGE_HEADERS]
            await send(message)
        await self.app(scope, receive, sending)
SESSION_SECONDS = 8 * 3600


def install(app: FastAPI, settings: ServerSettings) -> None:
    from sync.server.services import accounts
    accounts.configure(settings.login_per_client_per_minute, settings.login_per_username_per_minute)
    from sync.server.services import signups
    signups.configure(settings.public_url)
    from sync.server.web import (activities, audit, certificates, fleet, home, mypage, public, reports, review,
                                 session, volunteers)
    for module in (session, home, certificates, mypage, volunteers, review, activities, fleet, audit, public,
                   reports):
        app.include_router(module.router)
    from sync.server.web import service_requests
    app.include_router(service_requests.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/static-font/weiguang.ttf", include_in_schema=False)
    def font():
        """The bundled Chinese font, for machines without one (the page prefers the system's)."""
        from sync.assets import font_path
        return FileResponse(font_path(), media_type="font/ttf", headers={"Cache-Control": "max-age=604800"})

    app.add_middleware(PageHeaders)
    # Signed (itsdangerous, settings.session_secret()), HttpOnly, SameSite=Lax; Secure in production.
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret(), session_cookie=SESSION_COOKIE,
                       max_age=SESSION_SECONDS, same_site="lax", https_only=settings.env == "production")
