"""Every error answer is `sync.protocol.ErrorBody` (code, message, server_time); a 422
adds `detail` (the fields that failed). Service errors map to a status by their code.

Routes declare the error answers they can give with `responses=` from here, so the
OpenAPI schema documents every answer (schemathesis checks that).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from peewee import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.protocol import ErrorBody
from sync.server.logs import log
from sync.server.services import ServiceError

STATUS_BY_CODE = {
    "unauthorized": 401,
    "device_revoked": 403,
    "code_invalid": 400,        # unknown, used or expired: one answer
    "device_exists": 409,
    "bad_device_id": 400,
    "rate_limited": 429,
    "body_timeout": 408,
    "payload_too_large": 413,
    # the center's desk
    "not_found": 404,
    "forbidden": 403,
    "csrf_failed": 403,
    "account_locked": 403,
    "rate_limited": 429,
    "bad_login": 401,
    "import_refused": 422,
    "unknown_station": 404,
    "conflict": 409,
    "has_badge": 409,
    "not_in_review": 409,
    "reason_required": 422,
    "bad_decision": 422,
    "bad_activity": 422,
    "bad_rules": 422,
    "activity_cancelled": 409,
    "bad_pin": 422,
    "weak_pin": 422,
    "not_coordinator": 422,
    "bad_phone": 422,
    "activity_full": 409,
    "activity_over": 409,
    "already_signed_up": 409,
    # service requests (services.service_requests)
    "illegal_transition": 409,
    "already_taken": 409,
    "bad_action": 422,
    "bad_state": 422,
    "bad_team": 422,
    "bad_minutes": 422,
    "bad_volunteers": 422,
    "unknown_volunteer": 422,
    "bad_rating": 422,
    "bad_request_text": 422,
    "bad_menu": 422,
    "bad_period": 400,
    "bad_report": 400,
    "no_hours": 409,
    "link_invalid": 404,
    "link_expired": 410,
    "bad_certificate": 422,
}


class ValidationErrorBody(ErrorBody):
    detail: list[dict[str, Any]]


class RefusalBody(ErrorBody):
    """A 422 that is either a domain refusal (code, message) or invalid fields (with detail)."""
    detail: list[dict[str, Any]] | None = None


def _doc(description: str, model=ErrorBody) -> dict:
    return {"model": model, "description": description}


BAD_BODY = {400: _doc("The body is not JSON"),
            413: _doc("The body is larger than MAX_BODY_BYTES"),
            422: _doc("A field is missing or invalid; `detail` says which", ValidationErrorBody)}
BAD_QUERY = {422: _doc("A parameter is invalid; `detail` says which", ValidationErrorBody)}
BUSY = {503: _doc("Too many pushes in flight (busy), or the database does not answer; retry after "
                  "the Retry-After header's seconds")}
CENTER_AUTH = {401: _doc("No session and no (or an unknown) user API token; a device token is refused here"),
               403: _doc("forbidden (the role may not), csrf_failed (a cookie-authenticated change without "
                         "its X-CSRF-Token)")}
NOT_FOUND = {404: _doc("not_found: no such object in the caller's part of the network")}
DEVICE_AUTH = {401: _doc("No or an unknown device token"), 403: _doc("This device was revoked (device_revoked)")}


def now() -> datetime:
    return datetime.now(timezone.utc)


def error_response(status: int, code: str, message: str, headers: dict | None = None, **extra) -> JSONResponse:
    body = {"code": code, "message": message, "server_time": now().isoformat(), **extra}
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError):
        if not request.url.path.startswith("/api/"):
            from sync.server.web import pages
            return pages.error_page(request, exc, STATUS_BY_CODE.get(exc.code, 400))
        extra = {"rows": [r.as_dict() for r in exc.rows]} if hasattr(exc, "rows") else {}
        return error_response(STATUS_BY_CODE.get(exc.code, 400), exc.code, exc.message, **extra)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        # The offending input is left out: it can be large, binary, or a secret.
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return error_response(422, "invalid_request", "the request is invalid", detail=detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        if not request.url.path.startswith("/api/") and exc.status_code == 404:
            from sync.server.web import pages
            return pages.error_page(request, ServiceError(code, str(exc.detail)), 404)
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_unavailable(request: Request, exc: Exception):
        log.error("database error", extra={"fields": {"path": request.url.path, "error": str(exc)}})
        return error_response(503, "database_unavailable", "the database does not answer; retry later")

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.exception("unhandled error", extra={"fields": {"path": request.url.path}})
        return error_response(500, "internal_error", "the server failed; the request can be retried")
