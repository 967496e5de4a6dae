import json

import pytest

from kiosk.orders import take_order
from kiosk.store import OutboxEvent, ServiceRequest


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
