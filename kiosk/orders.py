"""Residents' service orders (点单) taken at the kiosk; the center dispatches them (派单).

    >>> take_order(store, service="理发", phone="13912345678").result
    'queued'

The order is stored and queued as a ``service_request`` event in one transaction; the
number it gets is what the resident keeps to follow the order: the station's local date,
the kiosk number, a daily counter (``261130-17-001``; see `sync.order_numbers`).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from peewee import IntegrityError

from kiosk.store import KioskStore, ServiceRequest
from sync import order_numbers
from sync.protocol import ServiceRequestPayload

# Mainland mobile numbers, or a landline with its area code (0352-1234567).
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


@dataclass
class OrderResult:
    result: str                 # queued / refused
    code: str = "ok"            # bad_phone / bad_service / note_too_long
    number: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def take_order(store: KioskStore, service: str, phone: str, note: str = "") -> OrderResult:
    service, phone, note = service.strip(), phone.strip().replace(" ", ""), note.strip()
    if not service or len(service) > 100 or any(ord(c) < 32 for c in service):
        return OrderResult("refused", "bad_service")
    if not PHONE.match(phone):
        return OrderResult("refused", "bad_phone")
    if len(note) > 500:
        return OrderResult("refused", "note_too_long")
    now = int(store.clock())
    station = store.settings.get("station") or {}
    day = datetime.fromtimestamp(now, ZoneInfo(station.get("timezone") or "Asia/Shanghai")).strftime("%y%m%d")
    # The kiosk number the center gave at enrolment keeps numbers apart across the fleet;
    # before enrolment, a local prefix that no enrolled kiosk's number can have.
    kiosk_number, device_id = store.settings.get("kiosk_number"), store.settings.get("device_id", "")
    prefix = order_numbers.prefix(day, kiosk_number, device_id)
    for _attempt in range(5):
        number = order_numbers.order_number(day, kiosk_number, device_id, _last_counter(prefix) + 1)
        payload = ServiceRequestPayload(number=number, service=service, phone=phone, note=note, at=now)
        try:
            store.record("service_request", payload.model_dump(mode="json"), lambda: ServiceRequest.create(
                number=number, service=service, phone=phone, note=note, created_at=now))
        except IntegrityError:
            continue  # another process on this database took the number meanwhile: count again
        return OrderResult("queued", number=number)
    raise RuntimeError("could not number the order: the order table keeps changing")


def _last_counter(prefix: str) -> int:
    """The highest counter among this kiosk's numbers with `prefix` (0: none yet today)."""
    tails = (row.number[len(prefix):] for row in
             ServiceRequest.select(ServiceRequest.number).where(ServiceRequest.number.startswith(prefix)))
    return max((int(tail) for tail in tails if tail.isdigit()), default=0)
