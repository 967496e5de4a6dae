"""Shared dependencies (the settings, the device behind the bearer token) and `answer`."""

from __future__ import annotations

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from sync.server.models import Device
from sync.server.services import devices
from sync.server.settings import ServerSettings

_bearer = HTTPBearer(auto_error=False, description="the device token from enrolment")


def get_settings(request: Request) -> ServerSettings:
    return request.app.state.settings


async def current_device(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Device:
    """401 without a known token, 403 device_revoked for a revoked kiosk. Async, on the
    event loop: the token is almost always in `devices`' cache, so a trip to the thread
    pool would cost more than the lookup."""
    return devices.authenticate(credentials.credentials if credentials else None)


def answer(model: BaseModel) -> Response:
    """A 200 with the model as JSON. Routes on the sync path return this instead of the model:
    FastAPI would validate the model again against `response_model` (in the thread pool, for
    a sync route) before serialising it. `response_model=` still documents the answer."""
    return Response(model.model_dump_json(), media_type="application/json")
