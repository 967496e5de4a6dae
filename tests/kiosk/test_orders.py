import json

import pytest

from kiosk.orders import take_order
from kiosk.store import OutboxEvent, ServiceRequest

from .conftest import at


def test_order_is_numbered_stored_and_queued(store):
    first = take_order(store, "理发", "139 1234 5678", "行动不便，请上门")
    second = take_order(store, "家电维修", "0352-1234567")
    assert (first.result, second.result) == ("queued", "queued")
    assert first.number.endswith("-001") and second.number.endswith("-002")
    assert ServiceRequest.get_by_id(first.number).phone == "13912345678"
    payloads = [json.loads(e.payload) for e in OutboxEvent.select().order_by(OutboxEvent.seq)]
    assert [p["number"] for p in payloads] == [first.number, second.number]


@pytest.mark.parametrize("service, phone, note, code", [
    ("理发", "12345", "", "bad_phone"), ("理发", "1391234567x", "", "bad_phone"),
    ("", "13912345678", "", "bad_service"), ("理\x00发", "13912345678", "", "bad_service"),
    ("理发", "13912345678", "长" * 501, "note_too_long"),
])
def test_bad_orders_are_refused_and_record_nothing(store, service, phone, note, code):
    assert take_order(store, service, phone, note).as_dict() == {"result": "refused", "code": code, "number": None}
    assert ServiceRequest.select().count() == 0 and OutboxEvent.select().count() == 0


def test_numbers_are_date_kiosk_counter_from_the_protocol_model(store):
    from sync.protocol import ServiceRequestPayload
    store.clock = lambda: at("2026-12-01 07:30")        # the station's date; still 30 November in UTC
    store.settings.set(device_id="abcd1234-0000-4000-8000-000000000000")
    standalone = take_order(store, "理发", "13912345678").number
    store.settings.set(kiosk_number=17)                  # what enrolment stores
    enrolled = [take_order(store, "理发", "13912345678").number for _ in range(2)]
    assert (standalone, enrolled) == ("261201-LABCD12-001", ["261201-17-001", "261201-17-002"])
    for event in OutboxEvent.select():
        ServiceRequestPayload.model_validate(json.loads(event.payload))   # the wire's own model


def test_a_number_taken_meanwhile_by_another_process_is_counted_again(store, monkeypatch):
    import kiosk.orders
    store.settings.set(kiosk_number=17)
    real = kiosk.orders._last_counter
    calls = []

    def stale(prefix):   # the first count misses the order another process just wrote
        calls.append(prefix)
        if len(calls) == 1:
            ServiceRequest.create(number=f"{prefix}001", service="理发", phone="13900000000", created_at=0)
            return 0
        return real(prefix)
    monkeypatch.setattr(kiosk.orders, "_last_counter", stale)
    assert take_order(store, "理发", "13912345678").number.endswith("-17-002")
    assert OutboxEvent.select().count() == 1
