"""Residents' service orders (点单) taken at the kiosk; the center dispatches them (派单).

    >>> take_order(store, service="理发", phone="13912345678").result
    'queued'

The order is stored and queued as a ``service_request`` event in one transaction; the
number it gets is what the resident keeps to follow the order.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime

from kiosk.store import KioskStore, ServiceRequest

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
    day = datetime.fromtimestamp(now).strftime("%y%m%d")
    # The device prefix keeps numbers from two kiosks apart; the counter restarts daily.
    prefix = f"{store.settings.get('device_id', '0000')[:4].upper()}-{day}-"
    count = ServiceRequest.select().where(ServiceRequest.number.startswith(prefix)).count()
    number = f"{prefix}{count + 1:03d}"
    payload = {"number": number, "service": service, "phone": phone, "note": note, "at": now}
    store.record("service_request", payload, lambda: ServiceRequest.create(
        number=number, service=service, phone=phone, note=note, created_at=now))
    return OrderResult("queued", number=number)
