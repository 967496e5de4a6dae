from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from sync.protocol import PAGE_SIZE, PAYLOAD_MODELS, PullResponse
from sync.server.api.deps import answer, current_device, get_settings
from sync.server.api.errors import BAD_QUERY, DEVICE_AUTH, now
from sync.server.models import Device
from sync.server.services import changes, fleet
from sync.server.settings import ServerSettings

router = APIRouter(prefix="/changes", tags=["changes"])


@router.get("", response_model=PullResponse, responses={**BAD_QUERY, **DEVICE_AUTH})
def pull(cursor: int = Query(0, ge=0, le=2**63 - 1, description="the cursor of the last page, 0 at first"),
         limit: int = Query(PAGE_SIZE, ge=1, le=PAGE_SIZE),
         pending: int | None = Query(None, ge=0, le=10**9, description="the kiosk's outbox (fleet page)"),
         refused: int | None = Query(None, ge=0, le=10**9, description="events the center refused"),
         clock_offset_ms: int | None = Query(None, ge=-10**12, le=10**12, description="its measured clock offset"),
         app_version: str | None = Query(None, max_length=32),
         device: Device = Depends(current_device),
         settings: ServerSettings = Depends(get_settings)) -> Response:
    """Changes for this kiosk's station after `cursor`, oldest first; `more` when another page waits.
    The first pull of a round also reports the kiosk's state for the center's fleet page."""
    if pending is not None or refused is not None or clock_offset_ms is not None or app_version:
        fleet.record_report(device, pending, refused, clock_offset_ms, app_version)
    page = changes.pull(device.station, cursor, min(limit, settings.page_size))
    return answer(PullResponse(changes=page.changes, cursor=page.cursor, more=page.more, server_time=now(),
                               page_key=_page_key(settings.session_secret(), device.station),
                               event_types=sorted(PAYLOAD_MODELS)))


def _page_key(secret: str, station: str) -> str:
    import base64

    from sync import mylink
    return base64.urlsafe_b64encode(mylink.station_key(secret, station)).decode("ascii")
