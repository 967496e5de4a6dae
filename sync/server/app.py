"""The FastAPI application: routers, error answers, the body limit, request logs.

    >>> app = create_app(ServerSettings(data_dir="/srv/weiguang"))   # opens the db, migrates
    >>> uvicorn.run(app)                                              # or `weiguang server run`

`create_app` opens the configured database, applies pending migrations and publishes
any new public key in DATA/keys as a change, so a restarted server is ready at once.

The layers a push goes through, outermost first: `PushGate` (admission: 503 busy with
Retry-After before the body is read), `BodyLimit` (413), `AccessLog`, the route (parse,
validate), then the group writer (`services.writer`: many pushes, one commit).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections import deque
from contextlib import asynccontextmanager

from fastapi import FastAPI

from sync.protocol import API_PREFIX
from sync.server import db
from sync.server.api import (activities, center, changes, devices, errors, events, health, review,
                             volunteers)
from sync.server.logs import log, setup_logging
from sync.server.services.changes import publish_public_keys
from sync.server.services.devices import forget_tokens
from sync.server.services.writer import GroupWriter
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


class PushGate:
    """Admission control for pushes, before anything reads the body: `concurrency` pushes
    admitted at once (read, validated, queued for the group writer); up to `queue` more
    wait, body unread, for at most `wait_seconds`; the rest, and those that waited too
    long, are answered 503 ``busy`` with Retry-After.

    Without it, the morning after an outage 2,000 kiosks' bodies were parsed and queued at
    once (12 GB), and each one that outlived the kiosk's 30 s read timeout came back as a
    copy. A waiting connection costs only its unread socket buffer (the server stops
    reading at its flow-control mark), so the queue can hold every kiosk of a city: a 503
    followed by the kiosk's backoff is the expensive path (the server idles while kiosks
    sleep).

    Who goes next: the waiting kiosk (by its bearer token) admitted least often lately,
    then arrival order. A kiosk back from an outage gets its first batch in before another
    sends its fifth, so none starves behind the big backlogs.

    Retry-After: the time the current backlog takes at the recent completion rate,
    jittered ×0.5–1 so refused kiosks come back spread out, not in step."""

    RATE_WINDOW = 10.0     # seconds of completions the rate is measured over
    FORGET_AFTER = 600.0   # admission counts start over this often (and stay bounded)

    def __init__(self, app, path: str, concurrency: int, queue: int, wait_seconds: float):
        self.app, self.path = app, path
        self.concurrency, self.queue, self.wait_seconds = concurrency, queue, wait_seconds
        self.active = self.waiting = 0
        self._waiters: list[tuple[int, int, asyncio.Future]] = []   # heap: (admitted, arrival, slot)
        self._arrivals = itertools.count()
        self._admitted: dict[bytes, int] = {}
        self._forget_at = time.monotonic() + self.FORGET_AFTER
        self._finished: deque[float] = deque(maxlen=4096)          # recent completion times

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            return await self.app(scope, receive, send)
        if not await self._admit(dict(scope["headers"]).get(b"authorization", b"")):
            response = errors.error_response(503, "busy", "too many pushes in flight; retry after Retry-After seconds",
                                             headers={"Retry-After": str(self.retry_after())})
            return await response(scope, receive, send)
        try:
            await self.app(scope, receive, send)
        finally:
            self._release()
            self._finished.append(time.monotonic())

    async def _admit(self, key: bytes) -> bool:
        """Take a slot (now, or when `_release` hands one over); False: busy."""
        if time.monotonic() > self._forget_at:
            self._admitted.clear()
            self._forget_at = time.monotonic() + self.FORGET_AFTER
        if self.active < self.concurrency and not self.waiting:
            self.active += 1
        else:
            if self.waiting >= self.queue:
                return False
            slot = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiters, (self._admitted.get(key, 0), next(self._arrivals), slot))
            self.waiting += 1
            try:
                async with asyncio.timeout(self.wait_seconds):
                    await slot
            except TimeoutError:
                if not slot.done() or slot.cancelled():
                    return False       # an abandoned entry: `_release` skips it
                # handed a slot just as the time ran out: use it
            except asyncio.CancelledError:
                if slot.done() and not slot.cancelled():
                    self._release()    # handed a slot, then cancelled: pass it on
                raise
            finally:
                self.waiting -= 1
        self._admitted[key] = self._admitted.get(key, 0) + 1
        return True

    def _release(self) -> None:
        """Hand this slot to the next waiter, or free it."""
        while self._waiters:
            slot = heapq.heappop(self._waiters)[2]
            if not slot.done():
                slot.set_result(None)   # `active` unchanged: the slot changes hands
                return
        self.active -= 1

    def rate(self) -> float:
        """Pushes answered per second over the last RATE_WINDOW seconds (busy: the capacity)."""
        horizon = time.monotonic() - self.RATE_WINDOW
        while self._finished and self._finished[0] < horizon:
            self._finished.popleft()
        return max(len(self._finished) / self.RATE_WINDOW, 1.0)

    def retry_after(self) -> int:
        backlog_seconds = (self.active + self.waiting + 1) / self.rate()
        return max(1, min(60, round(backlog_seconds * random.uniform(0.5, 1.0))))


class AccessLog:
    """One log line per request, with what the route put in ``request.state.log_fields``
    (pure ASGI: `@app.middleware("http")` costs a task and a stream per request)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 0

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
        try:
            await self.app(scope, receive, sending)
        finally:
            log.info("request", extra={"fields": {
                "method": scope["method"], "path": scope["path"], "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                **scope.get("state", {}).get("log_fields", {})}})


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or ServerSettings()
    setup_logging(settings.log_level)
    db.open_database(settings)
    applied = db.migrate()
    if settings.keys_dir.exists():
        publish_public_keys(settings.keys_dir)
    log.info("server ready", extra={"fields": {"database": db.describe(), "migrations_applied": applied}})

    forget_tokens()  # tokens cached from a previous app's database (tests)
    writer = GroupWriter(settings)

    @asynccontextmanager
    async def lifespan(app):
        yield
        await asyncio.to_thread(writer.close)   # commit and answer what is queued

    app = FastAPI(title="Weiguang center", version="1",
                  description="Kiosk sync API (see sync/protocol.py; device tokens) and the center's desk "
                              "(tag center: session cookie or user API token `wgu_…`)",
                  lifespan=lifespan)
    app.state.settings, app.state.writer = settings, writer
    for module in (health, devices, events, changes, center, volunteers, review, activities):
        app.include_router(module.router, prefix=API_PREFIX)
    errors.install(app)
    from sync.server import web
    web.install(app, settings)      # the dashboard's pages, static files, the session cookie

    app.add_middleware(AccessLog)
    # Outermost last: an oversized body is refused before any other layer reads it, and a
    # push over the limit is refused before even that.
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(PushGate, path=API_PREFIX + "/events", concurrency=settings.push_concurrency,
                       queue=settings.push_queue, wait_seconds=settings.push_wait_seconds)
    return app
