"""Shared dependencies: the settings and the device behind the bearer token."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sync.server.models import Device
from sync.server.services import devices
from sync.server.settings import ServerSettings

_bearer = HTTPBearer(auto_error=False, description="the device token from enrolment")


def get_settings(request: Request) -> ServerSettings:
    return request.app.state.settings


def current_device(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Device:
    """401 without a known token, 403 device_revoked for a revoked kiosk."""
    return devices.authenticate(credentials.credentials if credentials else None)
