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


# --- the service menu, a request's state, the resident's rating (评单) ---------------------

MOBILE = re.compile(r"^1[3-9]\d{9}$")     # what the number pad takes: a mainland mobile number


def menu(store: KioskStore) -> list[dict]:
    """The services to order, each with its preset descriptions: the center's menu from the
    pull, or the default until one arrives."""
    from sync.service_menu import DEFAULT_MENU
    pulled = store.settings.get("service_menu") or {}
    return pulled.get("items") or DEFAULT_MENU


def is_mobile(digits: str) -> bool:
    return bool(MOBILE.match(digits or ""))


@dataclass
class Lookup:
    result: str                 # found / unknown / refused
    code: str = "ok"            # bad_number / bad_last4
    number: str | None = None
    service: str = ""
    state: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _key(number: str, last4: str) -> tuple[str, str, str | None]:
    number, last4 = (number or "").strip().upper(), (last4 or "").strip()
    if not number or len(number) > 40 or any(ord(c) < 33 for c in number):
        return number, last4, "bad_number"
    if len(last4) != 4 or not last4.isdigit():
        return number, last4, "bad_last4"
    return number, last4, None


def lookup(store: KioskStore, number: str, last4: str) -> Lookup:
    """The request's state as this kiosk last heard it from the center (its station's
    requests), when the number and the four digits match; else unknown (the same answer
    for a wrong number and wrong digits)."""
    from kiosk.store import RequestState
    from sync.service_menu import check
    number, last4, bad = _key(number, last4)
    if bad:
        return Lookup("refused", bad)
    row = RequestState.get_or_none(RequestState.number == number)
    if row is None or row.check != check(number, last4):
        return Lookup("unknown", number=number)
    return Lookup("found", number=number, service=row.service, state=row.state)


def rate(store: KioskStore, number: str, last4: str, rating: int, comments: list[str] | None = None) -> Lookup:
    """The resident's rating, queued as a ``service_rating`` event (offline too); the center
    checks the number and digits. Refused here when this kiosk knows better: bad_rating,
    or the request known here and not completed (not_completed)."""
    from kiosk.store import RequestState
    from sync.protocol import ServiceRatingPayload
    from sync.service_menu import RATING_COMMENTS, check
    number, last4, bad = _key(number, last4)
    if bad:
        return Lookup("refused", bad)
    chosen = list(dict.fromkeys(comments or []))
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5 \
            or any(c not in RATING_COMMENTS for c in chosen):
        return Lookup("refused", "bad_rating")
    known = RequestState.get_or_none(RequestState.number == number)
    if known is not None and known.check == check(number, last4) and known.state != "completed":
        return Lookup("refused", "not_completed", number=number, service=known.service, state=known.state)
    payload = ServiceRatingPayload(number=number, last4=last4, rating=rating, comments=chosen, at=int(store.clock()))
    store.record("service_rating", payload.model_dump(mode="json"))
    return Lookup("queued", number=number, service=known.service if known else "",
                  state=known.state if known else None)
