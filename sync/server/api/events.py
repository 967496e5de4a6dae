from __future__ import annotations

import asyncio
import inspect
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


def direct(app):
    """POST /api/v1/events as a plain ASGI app, for `app.PushGate` to call once it has
    admitted a push: the same `push` function, without the layers between the gate and the
    route (session cookie, routing, the request wrappers: ≈ 1 ms a push, 5 µs an event).
    What those layers give a push is done here: the app's exception handlers (by the
    exception's class, as Starlette's ExceptionMiddleware looks them up; anything handled
    by none, `Exception` included, goes up to the server-error layer as before) and the
    page headers every answer carries (`web.PageHeaders`). The body limit and timeout
    stay: `create_app` wraps this in `BodyLimit`."""

    async def asgi(scope, receive, send):
        request = Request(scope, receive, send)
        await answer_directly(app, request, send, lambda: push(request))
    return asgi


async def answer_directly(app, request: Request, send, respond) -> None:
    """Send what `respond()` (a coroutine giving a Response) answers, as the routed app would:
    an exception goes to the app's handler for its class (`exception_handler_for`; one handled
    by none goes up to the server-error layer), and the page headers every answer carries
    (`web.PageHeaders`) are added. For the routes called past the middleware stack (the push,
    the kiosk's pull)."""
    from sync.server.web import PAGE_HEADERS
    try:
        response = await respond()
    except Exception as exc:  # noqa: BLE001 - answered by the app's handler, or raised on
        handler = exception_handler_for(app, exc)
        if handler is None:
            raise
        response = handler(request, exc)
        if inspect.isawaitable(response):
            response = await response

    async def sending(message):
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *PAGE_HEADERS]
        await send(message)
    await response(request.scope, request.receive, sending)


def exception_handler_for(app, exc: Exception):
    """The app's handler for this exception, looked up by its class as Starlette's
    ExceptionMiddleware does; None for one handled by none (`Exception` included: that
    one goes up to the server-error layer)."""
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in app.exception_handlers:
            return app.exception_handlers[cls]
    return None


def document_push_body(schema: dict) -> dict:
    """Add PushRequest (and the models it refers to) to an OpenAPI schema's components."""
    own = PushRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in own.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault("PushRequest", own)
    return schema
