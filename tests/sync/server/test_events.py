"""Push: stored once, duplicates, refusals, and the error answers."""

from __future__ import annotations

import json
import threading

from sync import protocol
from sync.server import db
from sync.server.models import Device, StoredEvent
from sync.server.services import events as events_service
from tests.sync.server.helpers import T0


def count_events() -> int:
    with db.reading():
        return StoredEvent.select().count()


def test_push_stores_then_the_same_batch_is_all_duplicate(kiosk):
    batch = [kiosk.checkin(f"V{i:04d}", T0 + i) for i in range(20)]
    assert kiosk.statuses(batch) == [("stored", None)] * 20
    assert kiosk.statuses(batch) == [("duplicate", None)] * 20
    assert count_events() == 20


def test_an_id_twice_in_one_batch_is_stored_once(kiosk):
    event = kiosk.checkin("V0001", T0)
    assert kiosk.statuses([event, event]) == [("stored", None), ("duplicate", None)]
    assert count_events() == 1


def test_two_concurrent_pushes_of_one_batch_store_it_once(kiosk, server_settings):
    batch = [protocol.Event.model_validate(kiosk.checkin(f"V{i:04d}", T0 + i)) for i in range(200)]
    with db.reading():
        device = Device.get_by_id(kiosk.device_id)
    start, answers = threading.Barrier(2), []

    def push():
        start.wait()
        answers.append([r.status for r in events_service.push(device, batch, server_settings)])
    threads = [threading.Thread(target=push) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count_events() == 200
    # Each event: stored by exactly one of the two pushes, duplicate for the other.
    assert all(sorted(pair) == ["duplicate", "stored"] for pair in zip(*answers))


def test_refusals_carry_their_codes_and_store_nothing(kiosk):
    good = kiosk.checkin("V0001", T0)
    bad = kiosk.event("checkin", {"vid": "V0002"})                        # no session_id, no at
    extra = kiosk.event("service_request", {"number": "1", "service": "x", "phone": "12345", "at": T0, "evil": 1})
    other = kiosk.checkin("V0003", T0, device_id="someone-else")
    orphan = kiosk.event("checkout", {"session_id": "00000000-0000-4000-8000-000000000000", "vid": "V0004",
                                      "at": T0, "minutes": 0})
    huge = kiosk.checkin("V0005", 10**30)
    assert kiosk.statuses([good, bad, extra, other, orphan, huge]) == [
        ("stored", None), ("refused", "bad_payload"), ("refused", "bad_payload"), ("refused", "wrong_device"),
        ("refused", "unknown_session"), ("refused", "bad_payload")]
    assert count_events() == 1


def test_a_checkout_may_follow_its_checkin_in_the_same_batch(kiosk):
    checkin = kiosk.checkin("V0001", T0)
    assert kiosk.statuses([checkin, kiosk.checkout(checkin, T0 + 3600)]) == [("stored", None)] * 2


def test_body_over_the_limit_is_413_by_length_and_by_stream(kiosk, api):
    big = json.dumps({"events": [], "pad": "x" * protocol.MAX_BODY_BYTES}).encode()
    answer = api.post("/api/v1/events", content=big, headers={**kiosk.headers, "Content-Type": "application/json"})
    assert answer.status_code == 413 and answer.json()["code"] == "payload_too_large"
    assert answer.json()["server_time"]

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(protocol.MAX_BODY_BYTES // 100_000 + 2):
            yield b"x" * 100_000
    answer = api.post("/api/v1/events", content=chunks(), headers=kiosk.headers)
    assert answer.status_code == 413 and answer.json()["server_time"]


def test_malformed_bodies_are_422_with_field_details(kiosk, api):
    for body in ({"events": [{"id": "not-a-uuid"}]}, {"events": "x"}, {"wrong": []},
                 {"events": [kiosk.checkin("V1", T0)] * (protocol.MAX_BATCH + 1)}):
        answer = api.post("/api/v1/events", json=body, headers=kiosk.headers)
        assert answer.status_code == 422, body
        assert answer.json()["code"] == "invalid_request" and answer.json()["server_time"]
        assert answer.json()["detail"] and "loc" in answer.json()["detail"][0]
    answer = api.post("/api/v1/events", content=b"{not json", headers={**kiosk.headers, "Content-Type": "application/json"})
    assert answer.status_code in (400, 422) and answer.json()["server_time"]
    assert count_events() == 0
