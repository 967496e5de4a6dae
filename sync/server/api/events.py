from __future__ import annotations

from fastapi import APIRouter, Depends

from sync.protocol import PushRequest, PushResponse
from sync.server.api.deps import current_device, get_settings
from sync.server.api.errors import BAD_BODY, DEVICE_AUTH, now
from sync.server.logs import log
from sync.server.models import Device
from sync.server.services import events
from sync.server.settings import ServerSettings

router = APIRouter(prefix="/events", tags=["events"])


@router.post("", response_model=PushResponse, responses={**BAD_BODY, **DEVICE_AUTH})
def push(request: PushRequest, device: Device = Depends(current_device),
         settings: ServerSettings = Depends(get_settings)) -> PushResponse:
    """Store a batch of events; one answer per event: stored, duplicate or refused + code."""
    results = events.push(device, request.events, settings)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    log.info("push", extra={"fields": {"device": device.id, **counts}})
    return PushResponse(results=results, server_time=now())
