from __future__ import annotations

import asyncio
import base64

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.security.utils import get_authorization_scheme_param

from sync import mylink
from sync.protocol import PAGE_SIZE, PAYLOAD_MODELS, PullResponse
from sync.server.api.deps import _bearer, answer
from sync.server.api.errors import BAD_QUERY, DEVICE_AUTH, now
from sync.server.models import Device
from sync.server.services import ServiceError, changes, devices, fleet
from sync.server.settings import ServerSettings

router = APIRouter(prefix="/changes", tags=["changes"])
_EVENT_TYPES = sorted(PAYLOAD_MODELS)   # the event types this server stores (a kiosk holds back others)


@router.get("", response_model=PullResponse, responses={**BAD_QUERY, **DEVICE_AUTH})
async def pull(http: Request,
               cursor: int = Query(0, ge=0, le=2**63 - 1, description="the cursor of the last page, 0 at first"),
               limit: int = Query(PAGE_SIZE, ge=1, le=PAGE_SIZE),
               pending: int | None = Query(None, ge=0, le=10**9, description="the kiosk's outbox (fleet page)"),
               refused: int | None = Query(None, ge=0, le=10**9, description="events the center refused"),
               clock_offset_ms: int | None = Query(None, ge=-10**12, le=10**12, description="its measured clock offset"),
               app_version: str | None = Query(None, max_length=32),
               credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Response:
    """Changes for this kiosk's station after `cursor`, oldest first; `more` when another page waits.
    The first pull of a round also reports the kiosk's state for the center's fleet page.

    Async: the token comes from the cache on the event loop (the database, on a miss, on a
    thread), and the database work of the pull (the report, the page) takes one trip to
    the thread pool together."""
    token = credentials.credentials if credentials else None
    device = devices.authenticate_from_cache(token) or await asyncio.to_thread(devices.authenticate, token)
    return await _answer(http.app, device, cursor, limit, (pending, refused, clock_offset_ms, app_version))


async def _answer(app, device: Device, cursor: int, limit: int, report: tuple) -> Response:
    settings: ServerSettings = app.state.settings
    page = await asyncio.to_thread(_read, device, cursor, min(limit, settings.page_size), report)
    return answer(PullResponse(changes=page.changes, cursor=page.cursor, more=page.more, server_time=now(),
                               page_key=_page_key(app.state, settings, device.station),
                               event_types=_EVENT_TYPES))


def _read(device: Device, cursor: int, limit: int, report: tuple) -> changes.Page:
    pending, refused, clock_offset_ms, app_version = report
    if pending is not None or refused is not None or clock_offset_ms is not None or app_version:
        fleet.record_report(device, pending, refused, clock_offset_ms, app_version)
    return changes.pull(device.station, cursor, limit)


# (secret, station) -> the station's page key: an HMAC that never changes for a given secret.
_page_keys: dict[tuple[str, str], str] = {}


def _page_key(state, settings: ServerSettings, station: str) -> str:
    secret = getattr(state, "session_secret", None)
    if secret is None:    # read once per app (a file read otherwise, on every pull)
        secret = state.session_secret = settings.session_secret()
    key = _page_keys.get((secret, station))
    if key is None:
        if len(_page_keys) > 10_000:
            _page_keys.clear()
        key = _page_keys[(secret, station)] = base64.urlsafe_b64encode(mylink.station_key(secret, station)).decode()
    return key


# --- the kiosk's own pull, without the layers it does not need -----------------------------

# The query parameters `pull` takes, as (lowest, highest) for the integers; app_version apart.
_INT_RANGES = {"cursor": (0, 2**63 - 1), "limit": (1, PAGE_SIZE), "pending": (0, 10**9), "refused": (0, 10**9),
               "clock_offset_ms": (-10**12, 10**12)}
_VERSION_CHARS = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._-")


def plain_query(query: bytes) -> dict | None:
    """The pull's parameters from a query string as a kiosk writes it (each known name once,
    integers in plain digits within `pull`'s bounds, a version of letters, digits and
    ``._-``); None for anything else, which `pull` itself then answers (its 422s included)."""
    values: dict = {}
    if not query:
        return values
    for part in query.split(b"&"):
        name, equals, value = part.partition(b"=")
        key = name.decode("ascii", "replace")
        if not equals or not value or key in values:
            return None
        if key == "app_version":
            if len(value) > 32 or not _VERSION_CHARS.issuperset(value):
                return None
            values[key] = value.decode("ascii")
            continue
        bounds = _INT_RANGES.get(key)
        digits = value[1:] if value[:1] == b"-" and key == "clock_offset_ms" else value
        if bounds is None or not digits.isdigit() or len(digits) > 19 or (digits[:1] == b"0" and value != b"0"):
            return None
        number = int(value)
        if not bounds[0] <= number <= bounds[1]:
            return None
        values[key] = number
    return values


def lean(app):
    """GET /api/v1/changes for `app.PullPath`: a kiosk's pull with a plain query (`plain_query`)
    and a token in the cache is answered here, by the same `_answer` as `pull`, without the
    session, routing and dependency layers (query validation through pydantic, the bearer
    scheme: ≈ 0.25 ms a pull). Returns False, having sent nothing, for every other request:
    another query, no token or one not cached (the database then tells, on a thread), a
    revoked device, a cookie: `pull` answers those as before. The app's exception handlers
    and page headers apply as for a push (`events.direct`)."""
    from sync.server.api.events import answer_directly

    async def handle(scope, receive, send) -> bool:
        query = plain_query(scope.get("query_string") or b"")
        if query is None:
            return False
        authorization = None
        for name, value in scope["headers"]:
            if name == b"cookie" or (name == b"authorization" and authorization is not None):
                return False
            if name == b"authorization":
                authorization = value.decode("latin-1")
        scheme, token = get_authorization_scheme_param(authorization)
        if scheme.lower() != "bearer" or not token:
            return False
        try:
            device = devices.authenticate_from_cache(token)
        except ServiceError:
            return False
        if device is None:
            return False
        report = tuple(query.get(k) for k in ("pending", "refused", "clock_offset_ms", "app_version"))
        await answer_directly(app, Request(scope, receive, send), send, lambda: _answer(
            app, device, query.get("cursor", 0), query.get("limit", PAGE_SIZE), report))
        return True
    return handle
