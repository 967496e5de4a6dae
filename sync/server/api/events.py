from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Depends, Request, Response

from sync.protocol import PushRequest, PushResponse
from sync.server.api.deps import answer, current_device
from sync.server.api.errors import BAD_BODY, BUSY, DEVICE_AUTH, _doc, now
from sync.server.models import Device
from sync.server.services import events

router = APIRouter(prefix="/events", tags=["events"])


@router.post("", response_model=PushResponse, responses={
    **BAD_BODY, **DEVICE_AUTH, **BUSY,
    408: _doc("The body did not arrive in time (body_timeout); the connection is closed"),
    429: _doc("This device has too many pushes in flight (rate_limited); retry after Retry-After")})
async def push(body: PushRequest, http: Request, device: Device = Depends(current_device)) -> Response:
    """Store a batch of events; one answer per event: stored, duplicate or refused + code.

    Async: validation runs on the event loop, the batch joins the group writer's queue
    (`services.writer`) and this request waits for the commit without holding a thread.
    The token is checked, and admission (429, 503 busy) decided, before the body is read,
    in `app.PushGate`."""
    checked = events.check(device, body.events)
    future = http.app.state.writer.submit(device, body.events, checked, int(time.time()))
    results = await asyncio.wrap_future(future)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    http.state.log_fields = {"device": device.id, **counts}   # on the request's access log line
    return answer(PushResponse(results=results, server_time=now()))
