"""The FastAPI application: routers, error answers, the body limit, request logs.

    >>> app = create_app(ServerSettings(data_dir="/srv/weiguang"))   # opens the db, migrates
    >>> uvicorn.run(app)                                              # or `weiguang server run`

`create_app` opens the configured database, applies pending migrations and publishes
any new public key in DATA/keys as a change, so a restarted server is ready at once.
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Request

from sync.protocol import API_PREFIX
from sync.server import db
from sync.server.api import changes, devices, errors, events, health
from sync.server.logs import log, setup_logging
from sync.server.services.changes import publish_public_keys
from sync.server.settings import ServerSettings


class BodyLimit:
    """Answer 413 to a body over `limit` bytes before anything parses it: by Content-Length
    when declared, else by counting the stream (a chunked body has no length)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._too_large(scope, receive, send)
        # Read the whole (bounded) body now, then replay it to the app.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await self._too_large(scope, receive, send)
            if not message.get("more_body"):
                break
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, replay, send)

    async def _too_large(self, scope, receive, send):
        response = errors.error_response(413, "payload_too_large", f"the body is larger than {self.limit} bytes")
        await response(scope, receive, send)


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or ServerSettings()
    setup_logging(settings.log_level)
    db.open_database(settings)
    applied = db.migrate()
    if settings.keys_dir.exists():
        publish_public_keys(settings.keys_dir)
    log.info("server ready", extra={"fields": {"database": db.describe(), "migrations_applied": applied}})

    app = FastAPI(title="Weiguang center", version="1", description="Kiosk sync API (see sync/protocol.py)")
    app.state.settings = settings
    for module in (health, devices, events, changes):
        app.include_router(module.router, prefix=API_PREFIX)
    errors.install(app)

    @app.middleware("http")
    async def access_log(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        log.info("request", extra={"fields": {
            "method": request.method, "path": request.url.path, "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1)}})
        return response

    # Outermost, so an oversized body is refused before any other layer reads it.
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
