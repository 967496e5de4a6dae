"""The FastAPI application: routers, error answers, the body limit, request logs.

    >>> app = create_app(ServerSettings(data_dir="/srv/weiguang"))   # opens the db, migrates
    >>> uvicorn.run(app)                                              # or `weiguang server run`

`create_app` opens the configured database, applies pending migrations and publishes
any new public key in DATA/keys as a change, so a restarted server is ready at once.

The layers a request goes through, outermost first: `AccessLog`; for a push `PushGate`
(the bearer token first: 401/403 at once; then admission: 429 when this device has too
many pushes in flight, 503 busy with Retry-After; all before the body is read); for an
enrolment `EnrolLimit` (429 per client address); `BodyLimit` (413, and 408 when the
body does not arrive in time); the route (parse, validate), then the group writer
(`services.writer`: many pushes, one commit). An admitted push skips the layers between
`PushGate` and its route: the gate calls the route directly (`api.events.direct`, under a
`BodyLimit` of its own); a kiosk's pull with a plain query and a cached token skips them
too (`PullPath`, `api.changes.lean`).
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import ipaddress
import itertools
import math
import random
import time
from collections import deque
from contextlib import asynccontextmanager

import limits
from fastapi import FastAPI
from fastapi.security.utils import get_authorization_scheme_param
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from peewee import InterfaceError, OperationalError

from sync.protocol import API_PREFIX, BODY_TIMEOUT, RATE_LIMITED
from sync.server import db
from sync.server.api import (activities, center, certificates, changes, devices, errors, events, health, reports,
                             review, signups, volunteers)
from sync.server.logs import log, setup_logging
from sync.server.models import Device
from sync.server.services import ServiceError
from sync.server.services import devices as device_service
from sync.server.services.changes import publish_public_keys
from sync.server.services.devices import forget_tokens
from sync.server.services.sessions import forget_network
from sync.server.services.writer import GroupWriter
from sync.server.settings import ServerSettings


# Sent with an answer given before the request's body was read in full: the rest of
# it is not wanted, and a slow sender must not keep the connection.
CLOSE = {"Connection": "close"}


# A kiosk's push refuses a NUL per event (bad_text), and a roster import per row; every
# other request holding one is refused whole: PostgreSQL text cannot hold it (a 500).
NUL_CHECKED_APART = (API_PREFIX + "/events", "/import")


def _holds_nul(*parts: bytes) -> bool:
    return any(b"\x00" in part or b"%00" in part or b"\\u0000" in part for part in parts)


async def _nul_refused(scope, receive, send) -> None:
    # Both 422 shapes the API documents: `detail` (a field) and `rows` (a roster import).
    response = errors.error_response(422, "bad_text", "a NUL character is not text",
                                     detail=[{"loc": ["request"], "msg": "a NUL character", "type": "bad_text"}],
                                     rows=[{"line": 0, "error": "a NUL character is not text", "code": "bad_text"}])
    await response(scope, receive, send)


class BodyLimit:
    """Read a POST's body in full before anything parses it, and refuse it early: 413 for
    a body over `limit` bytes (by Content-Length when declared, else by counting the
    stream: a chunked body has no length); 408 body_timeout, connection closed, for a
    body that has not arrived completely `timeout` seconds after reading began (a
    sender trickling a byte every few seconds would otherwise hold its push slot, or a
    worker, for as long as it likes)."""

    def __init__(self, app, limit: int, timeout: float):
        self.app, self.limit, self.timeout = app, limit, timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if _holds_nul(scope.get("raw_path") or b"", scope.get("query_string") or b""):
            return await _nul_refused(scope, receive, send)
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._too_large(scope, receive, send)
        try:
            async with asyncio.timeout(self.timeout):
                body = await self._read(receive)
        except TimeoutError:
            response = errors.error_response(408, BODY_TIMEOUT, f"the body did not arrive within {self.timeout:g} s",
                                             headers=CLOSE)
            return await response(scope, receive, send)
        if body is None:                  # the client went away
            return
        if len(body) > self.limit:
            return await self._too_large(scope, receive, send)
        if not scope["path"].endswith(NUL_CHECKED_APART) and _holds_nul(body):
            return await _nul_refused(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, replay, send)

    async def _read(self, receive) -> bytes | None:
        """The whole body (or its first bytes past the limit); None if the client left."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit or not message.get("more_body"):
                return b"".join(chunks)

    async def _too_large(self, scope, receive, send):
        response = errors.error_response(413, "payload_too_large", f"the body is larger than {self.limit} bytes")
        await response(scope, receive, send)


class EnrolLimit:
    """Enrolment attempts per client address: at most `rate` (the `limits` notation,
    "10/minute"), counted in memory in a moving window; beyond it 429 rate_limited with
    Retry-After, before the body is read. The code is the credential, so this bounds
    guessing; refused attempts do not count. IPv6 addresses count per /64 (one host
    holds a whole /64). Behind a proxy, uvicorn's proxy headers give the real address."""

    def __init__(self, app, path: str, rate: str):
        self.app, self.path = app, path
        self.rate = limits.parse(rate)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            return await self.app(scope, receive, send)
        address = self.address(scope)
        if not self.limiter.hit(self.rate, "enrol", address):
            reset = self.limiter.get_window_stats(self.rate, "enrol", address).reset_time
            response = errors.error_response(
                429, RATE_LIMITED, "too many enrolment attempts from this address; retry after Retry-After seconds",
                headers={"Retry-After": str(max(1, math.ceil(reset - time.time()))), **CLOSE})
            return await response(scope, receive, send)
        await self.app(scope, receive, send)

    @staticmethod
    def address(scope) -> str:
        host = (scope.get("client") or ("unknown", 0))[0]
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return host
        if ip.version == 6:
            if ip.ipv4_mapped is not None:         # ::ffff:a.b.c.d is IPv4 a.b.c.d
                return str(ip.ipv4_mapped)
            return str(ipaddress.ip_network(f"{ip}/64", strict=False))
        return str(ip)


class _Lane:
    """One device's pushes in `PushGate`: `slots` (per_device) and how many hold or wait."""

    __slots__ = ("slots", "users")

    def __init__(self, per_device: int):
        self.slots, self.users = asyncio.Semaphore(per_device), 0


class PushGate:
    """Admission control for pushes, before anything reads the body.

    First the bearer token: a push without a valid one is answered 401/403 at once, body
    unread, and takes no slot (64 idle connections with no token, trickling a body, once
    held every slot while real kiosks waited 20 s for a 503). The token cache answers
    most; a lookup in the database runs on a thread, off the event loop.

    Then one device's lane: `per_device` of its pushes at once (waiting for a slot or
    admitted), as many again waiting behind them, body unread (a kiosk's overlapping
    retries are served in turn, not refused); beyond that 429 rate_limited with
    Retry-After at once. One kiosk's token, slow or stolen, holds a few slots, never all
    of them, and never the queue (a slow body is cut off by `BodyLimit` besides).

    Then `concurrency` pushes admitted at once (read, validated, queued for the group
    writer); up to `queue` more wait, body unread, for at most `wait_seconds`; the rest,
    and those that waited too long, are answered 503 ``busy`` with Retry-After.

    Without it, the morning after an outage 2,000 kiosks' bodies were parsed and queued at
    once (12 GB), and each one that outlived the kiosk's 30 s read timeout came back as a
    copy. A waiting connection costs only its unread socket buffer (the server stops
    reading at its flow-control mark), so the queue can hold every kiosk of a city: a 503
    followed by the kiosk's backoff is the expensive path (the server idles while kiosks
    sleep).

    Who goes next: the waiting kiosk admitted least often lately, then arrival order. A
    kiosk back from an outage gets its first batch in before another sends its fifth, so
    none starves behind the big backlogs.

    Retry-After: the time the current backlog takes at the recent completion rate,
    jittered ×0.5–1 so refused kiosks come back spread out, not in step."""

    RATE_WINDOW = 10.0     # seconds of completions the rate is measured over
    FORGET_AFTER = 600.0   # admission counts start over this often (and stay bounded)

    def __init__(self, app, path: str, concurrency: int, queue: int, wait_seconds: float, per_device: int,
                 direct=None):
        # direct: the push route as an ASGI app, called for an admitted push instead of the
        # layers below (`api.events.direct`); None: through them.
        self.app, self.path, self.direct = app, path, direct or app
        self.concurrency, self.queue, self.wait_seconds = concurrency, queue, wait_seconds
        self.per_device = per_device
        self.active = self.waiting = 0
        self._waiters: list[tuple[int, int, asyncio.Future]] = []   # heap: (admitted, arrival, slot)
        self._arrivals = itertools.count()
        self._admitted: dict[str, int] = {}                          # device id -> admissions lately
        self._lanes: dict[str, _Lane] = {}                           # device id -> its pushes now
        self._forget_at = time.monotonic() + self.FORGET_AFTER
        self._finished: deque[float] = deque(maxlen=4096)          # recent completion times

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            return await self.app(scope, receive, send)
        try:
            device = await self._authenticate(scope)
        except ServiceError as exc:
            return await self._answer(scope, receive, send, errors.STATUS_BY_CODE.get(exc.code, 401),
                                      exc.code, exc.message)
        except (OperationalError, InterfaceError) as exc:
            log.error("database error", extra={"fields": {"path": scope["path"], "error": str(exc)}})
            return await self._answer(scope, receive, send, 503, "database_unavailable",
                                      "the database does not answer; retry later")
        scope.setdefault("state", {})["device"] = device      # for the route: no second lookup
        key = device.id
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(self.per_device)
        if lane.users >= 2 * self.per_device:
            return await self._answer(scope, receive, send, 429, RATE_LIMITED,
                                      f"this device has {lane.users} pushes in flight already; "
                                      "retry after Retry-After seconds", retry_after=True)
        lane.users += 1
        deadline = asyncio.get_running_loop().time() + self.wait_seconds   # for both waits together
        try:
            try:
                async with asyncio.timeout_at(deadline):
                    await lane.slots.acquire()
            except TimeoutError:
                return await self._busy(scope, receive, send)
            try:
                if not await self._admit(key, deadline):
                    return await self._busy(scope, receive, send)
                try:
                    await self.direct(scope, receive, send)
                finally:
                    self._release()
                    self._finished.append(time.monotonic())
            finally:
                lane.slots.release()
        finally:
            lane.users -= 1
            if not lane.users:
                del self._lanes[key]

    @staticmethod
    async def _authenticate(scope) -> Device:
        """The pushing device, from the token cache or (on a thread) the database."""
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, token = get_authorization_scheme_param(header)
        token = token if scheme.lower() == "bearer" else None
        device = device_service.authenticate_from_cache(token)
        if device is None:
            device = await asyncio.to_thread(device_service.authenticate, token)
        return device

    async def _busy(self, scope, receive, send):
        await self._answer(scope, receive, send, 503, "busy", "too many pushes in flight; retry after "
                           "Retry-After seconds", retry_after=True)

    async def _answer(self, scope, receive, send, status: int, code: str, message: str, retry_after=False):
        """An answer before the body is read; the connection is closed after it."""
        headers = {"Retry-After": str(self.retry_after())} if retry_after else {}
        response = errors.error_response(status, code, message, headers={**headers, **CLOSE})
        await response(scope, receive, send)

    async def _admit(self, key: str, deadline: float) -> bool:
        """Take a slot (now, or when `_release` hands one over before the loop's clock
        reaches `deadline`); False: busy."""
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
                async with asyncio.timeout_at(deadline):
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


class PullPath:
    """A kiosk's pull (GET `path`) straight to its route when `handle` takes it
    (`api.changes.lean`: a plain query, a cached token); everything else, and every
    other request, through the layers below as before."""

    def __init__(self, app, path: str, handle):
        self.app, self.path, self.handle = app, path, handle

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == self.path \
                and await self.handle(scope, receive, send):
            return
        await self.app(scope, receive, send)


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


# The cyclic collector's generation-0 threshold: a push allocates thousands of objects, and
# at the default 700 the collector ran several times per request (~12 % of the server's CPU)
# for almost nothing (request objects are freed by reference counting, not by it).
GC_THRESHOLDS = (50_000, 20, 100)


def settle_garbage_collector() -> None:
    """After start-up: collect once, move everything alive now (modules, models, the app)
    to the permanent generation, which the collector never walks again, and raise the
    thresholds. Called once per server (worker) process, from the app's lifespan."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or ServerSettings()
    setup_logging(settings.log_level)
    db.open_database(settings)
    applied = db.migrate()
    if settings.keys_dir.exists():
        publish_public_keys(settings.keys_dir)
    log.info("server ready", extra={"fields": {"database": db.describe(), "migrations_applied": applied}})

    forget_tokens()  # tokens cached from a previous app's database (tests)
    forget_network()
    writer = GroupWriter(settings)

    @asynccontextmanager
    async def lifespan(app):
        settle_garbage_collector()
        yield
        await asyncio.to_thread(writer.close)   # commit and answer what is queued

    app = FastAPI(title="Weiguang center", version="1",
                  description="Kiosk sync API (see sync/protocol.py; device tokens) and the center's desk "
                              "(tag center: session cookie or user API token `wgu_…`)",
                  lifespan=lifespan)
    app.state.settings, app.state.writer = settings, writer
    default_openapi = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = events.document_push_body(default_openapi())
        return app.openapi_schema
    app.openapi = openapi
    for module in (health, devices, events, changes, center, volunteers, review, activities, signups, reports,
                   certificates):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(certificates.public, prefix=API_PREFIX)
    from sync.server.api import service_requests
    app.include_router(service_requests.router, prefix=API_PREFIX)
    app.include_router(service_requests.resident, prefix=API_PREFIX)
    errors.install(app)
    from sync.server import web
    web.install(app, settings)      # the dashboard's pages, static files, the session cookie

    # Outermost last: an oversized or slow body is refused before any other layer reads
    # it; an enrolment over its rate, and a push without a valid token or a slot, before
    # even that; every answer, refusals at the doors included, gets its log line.
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, timeout=settings.body_timeout_seconds)
    app.add_middleware(EnrolLimit, path=API_PREFIX + "/devices/enroll", rate=settings.enroll_rate_limit)
    app.add_middleware(PushGate, path=API_PREFIX + "/events", concurrency=settings.push_concurrency,
                       queue=settings.push_queue, wait_seconds=settings.push_wait_seconds,
                       per_device=settings.push_per_device,
                       direct=BodyLimit(events.direct(app), limit=settings.max_body_bytes,
                                        timeout=settings.body_timeout_seconds))
    app.add_middleware(PullPath, path=API_PREFIX + "/changes", handle=changes.lean(app))
    app.add_middleware(AccessLog)
    return app
