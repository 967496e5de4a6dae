"""Issue 12, the lighter push path: what it skips must never let through what the full
checks refuse. The body pre-scan (`events.body_is_clean`) sends any body that could hold a
NUL, a lone surrogate or an integer past 2**53 to the full per-payload scan; the partial
index on deferred events (migration 0016) replaces the full one. Both backends
(`server_settings`)."""

from __future__ import annotations

import json
import time

import pytest

from sync.server import db
from sync.server.services import events

NOW = int(time.time())


@pytest.mark.parametrize("body, clean", [
    (b'{"events":[{"payload":{"vid":"V0001","at":1796040000}}]}', True),
    (b'{"payload":{"note":"\\u00e9\\u7406"}}', True),                # escapes of real characters
    (b'{"payload":{"vid":"V\\u0000"}}', False),                      # a NUL
    (b'{"payload":{"vid":"\\uD800"}}', False),                       # a lone surrogate (the parser refuses it too)
    (b'{"payload":{"vid":"\\udfff"}}', False),
    (b'{"payload":{"serial":9007199254740993}}', False),             # past 2**53
    (b'{"payload":{"serial":-9007199254740993}}', False),
    (b'{"payload":{"x":[[{"n":12345678901234567890}]]}}', False),    # nested
    (b'{"payload":{"vid":"1234567890123456"}}', False),              # 16 digits in a text: the full scan, to be sure
    (b'{"payload":{"vid":"V\x00"}}', False),
])
def test_the_body_pre_scan_sends_anything_doubtful_to_the_full_scan(body, clean):
    assert events.body_is_clean(body) is clean


def test_hostile_payloads_in_a_batch_keep_their_codes(kiosk):
    good = kiosk.checkin("V0001", NOW - 600)
    nested_nul = kiosk.event("service_request", {"number": "N1", "service": "理发", "phone": "13800000000",
                                                 "note": "a", "at": NOW, "extra": {"deep": ["x\u0000"]}})
    big_int = kiosk.checkin("V0002", NOW - 600)
    big_int["payload"]["serial"] = 2**60
    nested_big = kiosk.event("checkin", {"session_id": good["payload"]["session_id"][:-1] + "0", "vid": "V0003",
                                         "serial": 1, "at": NOW - 600, "x": [{"y": -(2**54)}]})
    long_vid = kiosk.checkin("1234567890123456", NOW - 600)     # 16 digits: the full scan, then stored
    assert kiosk.statuses([good, nested_nul, big_int, nested_big, long_vid]) == [
        ("stored", None), ("refused", "bad_text"), ("refused", "bad_payload"), ("refused", "bad_payload"),
        ("stored", None)]


def test_a_batch_of_clean_events_still_refuses_by_the_models(kiosk):
    # The scan skipped (a clean body), the payload models still decide.
    wrong = kiosk.checkin("V0001", NOW - 600)
    wrong["payload"]["serial"] = "7"                # a text where an integer belongs
    unknown = kiosk.event("teleport", {"at": NOW})
    body = json.dumps({"events": [wrong, unknown]}).encode()
    assert events.body_is_clean(body)
    assert kiosk.statuses([wrong, unknown]) == [("refused", "bad_payload"), ("refused", "unknown_type")]


def index_names() -> set[str]:
    with db.reading():
        return {i.name for i in db.db.get_indexes("events")}


def test_migration_0016_replaces_the_full_session_index_by_the_partial_one(server_app):
    with db.writing():            # a database as 0001 and 0002 of the earlier code left it
        db.db.execute_sql('DROP INDEX "events_deferred_session_id"')
        db.db.execute_sql('CREATE INDEX "storedevent_session_id" ON "events" ("session_id")')
        db.db.execute_sql('CREATE INDEX IF NOT EXISTS "events_session_id" ON "events" ("session_id")')
        db.db.execute_sql("DELETE FROM migrations WHERE name = '0017_deferred_events_index'")
    assert db.migrate() == ["0017_deferred_events_index"]
    names = index_names()
    assert "events_deferred_session_id" in names
    assert not names & {"storedevent_session_id", "events_session_id"}
    with db.writing():            # again: nothing changes
        dict(db.MIGRATIONS)["0017_deferred_events_index"]()
    assert index_names() == names


def test_a_deferred_check_out_still_waits_for_its_check_in(kiosk):
    checkin = kiosk.checkin("V0001", NOW - 3600)
    checkout = kiosk.checkout(checkin, NOW - 600)
    kiosk.seq = 0
    checkin["seq"], checkout["seq"] = 1, 2          # the check-in is still on the way
    assert kiosk.statuses([checkout]) == [("stored", None)]
    with db.reading():
        assert db.db.execute_sql('SELECT "deferred" FROM "events"').fetchall() == [(1,)]
    assert kiosk.statuses([checkin]) == [("stored", None)]
    with db.reading():
        assert sorted(db.db.execute_sql('SELECT "deferred" FROM "events"').fetchall()) == [(0,), (0,)]
        assert db.db.execute_sql('SELECT "check_out_at" FROM "sessions"').fetchall() == [(NOW - 600,)]


def test_one_encoding_gives_the_digest_of_before_and_a_payload_that_reads_back_the_same():
    from sync import protocol
    payloads = [{"vid": "V0001", "at": NOW, "session_id": "0190a0a0-0000-7000-8000-000000000001", "serial": 3},
                {"note": "理发 \u2028 \"quoted\" \\", "z": [1, 2.5, None, True, {"b": 1, "a": [{}]}], "a": -7},
                {}, {"x": "\U0001f600", "nested": {"k": {"j": ["é"]}}}]
    batch = [protocol.Event(id="0190a0a0-0000-7000-8000-00000000000" + str(i), device_id=device, seq=i + 1,
                            type=kind, device_time="2026-11-30T08:00:00+08:00", payload=payload)
             for i, (payload, device, kind) in enumerate(zip(payloads, ["k1", "k1", "k2", "设备"],
                                                             ["checkin", "checkin", "teleport", "checkin"]))]
    digests, texts = events._digests(batch)
    assert digests == [events.digest(e) for e in batch]
    assert [json.loads(t) for t in texts] == payloads


def test_the_direct_push_route_answers_as_the_framework_did(api, kiosk):
    # PushGate calls the push route directly (api.events.direct): the app's error answers,
    # the page headers and the access-log fields must be those of the routed request.
    bad = api.post("/api/v1/events", content=b'{"events": [{"id": "x"}]}', headers={
        **kiosk.headers, "Content-Type": "application/json"})
    assert bad.status_code == 422
    body = bad.json()
    assert body["code"] == "invalid_request" and body["detail"][0]["loc"][:2] == ["body", "events"]
    assert bad.headers["x-frame-options"] == "DENY" and bad.headers["x-content-type-options"] == "nosniff"
    ok = kiosk.push([kiosk.checkin("V0001", NOW - 600)])
    assert ok.status_code == 200 and ok.headers["referrer-policy"] == "same-origin"
    assert [r["status"] for r in ok.json()["results"]] == ["stored"]
    # Revoked in the database behind the token cache: the group writer refuses, and the
    # app's handler for ServiceError answers 403 device_revoked.
    from sync.server.models import Device
    with db.writing():
        Device.update(revoked_at=NOW).where(Device.id == kiosk.device_id).execute()
    revoked = kiosk.push([kiosk.checkin("V0002", NOW - 600)])
    assert (revoked.status_code, revoked.json()["code"]) == (403, "device_revoked")
    assert revoked.headers["content-security-policy"] == "frame-ancestors 'none'"


def test_payloads_validated_together_answer_as_each_one_alone():
    """`events.check` validates the payloads of one type in one call; a batch with some bad
    ones gets, per event, what `_validate` gives that event alone (no database needed)."""
    from datetime import datetime, timezone
    from uuid import uuid4

    from sync import protocol
    from sync.server.models import Device
    device = Device(id="k1", station="s1")

    def event(seq, type_, payload, device_id="k1", offset=0):
        return protocol.Event(id=uuid4(), device_id=device_id, seq=seq, type=type_, clock_offset_ms=offset,
                              device_time=datetime.now(timezone.utc), payload=payload)
    good = {"session_id": str(uuid4()), "vid": "V1", "serial": 1, "at": NOW}
    batches = [
        [event(1, "checkin", good), event(2, "checkin", {**good, "session_id": str(uuid4())})],
        [event(1, "checkin", good), event(2, "checkin", {**good, "serial": "1"}), event(3, "checkin", {**good, "x": 1}),
         event(4, "checkout", {"session_id": good["session_id"], "vid": "V1", "at": NOW, "minutes": 5}),
         event(5, "checkout", {"session_id": good["session_id"], "vid": "V1", "at": NOW}),
         event(6, "teleport", {"at": NOW}), event(7, "checkin", good, device_id="k2"),
         event(8, "checkin", {**good, "at": protocol.LATEST}, offset=5_000),
         event(9, "checkin", {**good, "vid": "V\u0000"}), event(10, "checkin", {**good, "serial": 2**60}),
         event(11, "failed_scan", {"id": str(uuid4()), "at": NOW, "code": "foreign"})],
    ]
    for batch in batches:
        together = events.check(device, batch)
        alone = [events._validate(e, device) for e in batch]
        assert [c if type(c) is str else c.payload for c in together] == alone
    assert [c if type(c) is str else "ok" for c in events.check(device, batches[1])] == [
        "ok", "bad_payload", "bad_payload", "ok", "bad_payload", "unknown_type", "wrong_device", "bad_payload",
        "bad_text", "bad_payload", "ok"]
