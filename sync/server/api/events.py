from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from sync.protocol import PushRequest, PushResponse
from sync.server.api.deps import answer
from sync.server.api.errors import BAD_BODY, BUSY, DEVICE_AUTH, _doc, now
from sync.server.services import events

router = APIRouter(prefix="/events", tags=["events"])

# The body is parsed here, not by FastAPI (which would decode the JSON, then validate the
# Python objects, then run the dependency solver): its schema is documented by hand, and
# `document_push_body` adds the models it refers to to the OpenAPI components.
_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/PushRequest"}}}},
    "security": [{"HTTPBearer": []}]}


@router.post("", response_model=PushResponse, openapi_extra=_BODY, responses={
    **BAD_BODY, **DEVICE_AUTH, **BUSY,
    408: _doc("The body did not arrive in time (body_timeout); the connection is closed"),
    429: _doc("This device has too many pushes in flight (rate_limited); retry after Retry-After")})
async def push(http: Request) -> Response:
    """Store a batch of events; one answer per event: stored, duplicate or refused + code.

    Async, and lean: the token was checked and admission (429, 503 busy) decided before the
    body was read, in `app.PushGate`, which hands the device over; the raw body is parsed
    and validated once (`model_validate_json`) on the event loop; the batch joins the group
    writer's queue (`services.writer`) and this request waits for the commit without
    holding a thread."""
    device = http.scope["state"]["device"]
    try:
        raw = await http.body()
        body = PushRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in exc.errors(include_url=False, include_input=False)]) from None
    checked = events.check(device, body.events, clean=events.body_is_clean(raw))
    future = http.app.state.writer.submit(device, body.events, checked, int(time.time()))
    results = await asyncio.wrap_future(future)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    http.state.log_fields = {"device": device.id, **counts}   # on the request's access log line
    return answer(PushResponse(results=results, server_time=now()))


def document_push_body(schema: dict) -> dict:
    """Add PushRequest (and the models it refers to) to an OpenAPI schema's components."""
    own = PushRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in own.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault("PushRequest", own)
    return schema
