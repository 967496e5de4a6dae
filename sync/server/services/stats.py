"""Counts for `weiguang server stats` and the dashboard::

    >>> stats()
    {"events": {"checkin": 12, ...}, "sessions": {"open": 3, ...}, "requests": {"ordered": 1}, "devices": 2}

`devices` counts enrolled, unrevoked kiosks.
"""

from __future__ import annotations

from peewee import fn

from sync.server.db import reading
from sync.server.models import Device, HoursSession, ServiceRequest, StoredEvent


def _count_by(field) -> dict[str, int]:
    return {key: n for key, n in field.model.select(field, fn.COUNT(1)).group_by(field).tuples()}


def stats() -> dict:
    with reading():
        return {
            "events": _count_by(StoredEvent.type),
            "sessions": _count_by(HoursSession.state),
            "requests": _count_by(ServiceRequest.state),
            "devices": Device.select().where(Device.revoked_at.is_null()).count(),
        }
