"""Kiosk numbers at enrolment, and order numbers that name one order across the fleet."""

from __future__ import annotations

import uuid

from sync.order_numbers import order_number
from sync.server.db import reading
from sync.server.models import ServiceRequest
from sync.server.services import changes, devices
from tests.sync.server.conftest import enrol
from tests.sync.server.helpers import T0


def enrol_answer(api, device_id: str | None = None, station: str = "s1") -> dict:
    changes.upsert_station(station, f"站点 {station}")
    body = {"code": devices.make_enroll_code(station), **({"device_id": device_id} if device_id else {})}
    answer = api.post("/api/v1/devices/enroll", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def order(kiosk, number: str, **kw) -> dict:
    return kiosk.event("service_request", {"number": number, "service": "理发", "phone": "13912345678",
                                           "at": T0}, **kw)


def stored_numbers() -> list[str]:
    with reading():
        return sorted(r.number for r in ServiceRequest.select())


def kiosk_number(kiosk) -> int:
    from sync.server.models import Device
    with reading():
        return Device.get_by_id(kiosk.device_id).kiosk_number


def test_each_kiosk_gets_its_own_short_number_never_reused(api):
    # Two ids sharing their first four hex digits (with 2,000 kiosks, some pair always does).
    one, two = (f"abcd{i}234-{str(uuid.uuid4())[9:]}" for i in (1, 5))
    first, second = enrol_answer(api, one), enrol_answer(api, two)
    assert (first["kiosk_number"], second["kiosk_number"]) == (1, 2)
    devices.revoke_device(two)              # its orders keep its number: a new kiosk gets the next
    assert enrol_answer(api, station="s2")["kiosk_number"] == 3


def test_a_number_already_taken_is_refused(api, kiosk):
    mine = order_number("261130", kiosk_number(kiosk), kiosk.device_id, 1)
    first = order(kiosk, mine)
    # The same number again from this kiosk (a database restored from a backup), in a later
    # push and twice within one push; the first event sent again is a duplicate, not refused.
    assert kiosk.statuses([first]) == [("stored", None)]
    assert kiosk.statuses([order(kiosk, mine), first]) == [("refused", "duplicate_number"), ("duplicate", None)]
    again = order_number("261130", kiosk_number(kiosk), kiosk.device_id, 2)
    assert kiosk.statuses([order(kiosk, again), order(kiosk, again)]) == [
        ("stored", None), ("refused", "duplicate_number")]
    assert stored_numbers() == sorted([mine, again])


def test_standalone_and_earlier_numbers_are_unique_too(api, kiosk):
    other = enrol(api, "s2")
    for number in ("261130-LABCD12-001", "ABCD-261130-001"):     # before enrolment; the earlier form
        assert kiosk.statuses([order(kiosk, number)]) == [("stored", None)]
        assert other.statuses([order(other, number)]) == [("refused", "duplicate_number")]
    assert stored_numbers() == ["261130-LABCD12-001", "ABCD-261130-001"]


def test_a_kiosk_cannot_take_another_kiosks_numbers(api, kiosk):
    other = enrol(api, "s1")
    theirs = order_number("261130", kiosk_number(other), other.device_id, 1)
    padded = f"261130-0{kiosk_number(other)}-001"
    assert kiosk.statuses([order(kiosk, theirs), order(kiosk, padded)]) == [
        ("refused", "foreign_number"), ("refused", "foreign_number")]
    assert other.statuses([order(other, theirs)]) == [("stored", None)]
    assert stored_numbers() == [theirs]
