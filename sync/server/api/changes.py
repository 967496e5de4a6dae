from __future__ import annotations

import asyncio
import base64

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from sync import mylink
from sync.protocol import PAGE_SIZE, PAYLOAD_MODELS, PullResponse
from sync.server.api.deps import _bearer, answer
from sync.server.api.errors import BAD_QUERY, DEVICE_AUTH, now
from sync.server.models import Device
from sync.server.services import changes, devices, fleet
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
    settings: ServerSettings = http.app.state.settings
    page = await asyncio.to_thread(_read, device, cursor, min(limit, settings.page_size),
                                   (pending, refused, clock_offset_ms, app_version))
    return answer(PullResponse(changes=page.changes, cursor=page.cursor, more=page.more, server_time=now(),
                               page_key=_page_key(http.app.state, settings, device.station),
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
