"""Kiosk numbers: a short number per enrolled device, unique across the fleet, never reused.

    >>> assign(device_id)      # inside the enrolment transaction
    17

It is the kiosk's part of its order numbers (`sync.order_numbers`), so it has to be short
(a resident reads the order number aloud: the first 2,000 kiosks get 1..2000) and must
never name two devices, not even a revoked one and a new one (orders of both exist).
"""

from __future__ import annotations

from peewee import fn

from sync.server.db import LOCK_KIOSK_NUMBERS, advisory_lock
from sync.server.models import Device


def assign(device_id: str) -> int:
    """The device's kiosk number, given now if it has none (the next after the highest ever
    given); call inside `writing()`, after the device row exists."""
    current = Device.select(Device.kiosk_number).where(Device.id == device_id).scalar()
    if current is not None:
        return current
    # Two enrolments at once on PostgreSQL would read the same maximum: serialise them
    # (SQLite writers are serialised already); the unique index stays the last word.
    advisory_lock(LOCK_KIOSK_NUMBERS)
    number = (Device.select(fn.MAX(Device.kiosk_number)).scalar() or 0) + 1
    Device.update(kiosk_number=number).where(Device.id == device_id).execute()
    return number
