"""sync.wire (the kiosk's pydantic-free side of the wire) holds to sync.protocol's models."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sync import protocol, wire

ROOT = Path(__file__).resolve().parents[2]
SID = str(uuid.uuid4())


def test_the_constants_are_protocols():
    for name in ("API_PREFIX", "MAX_BATCH", "PAGE_SIZE", "DEVICE_EXISTS", "HELD_BACK_TYPES"):
        assert getattr(wire, name) == getattr(protocol, name), name


PAYLOADS = [
    (protocol.CheckinPayload, wire.checkin_payload(SID, "14020200001", 3, "volunteer", "a1", 1796040000)),
    (protocol.CheckinPayload, wire.checkin_payload(SID.upper(), "14020200009", 0, "coordinator", None, 0)),
    (protocol.CheckoutPayload, wire.checkout_payload(SID, "14020200001", 1796047200, 120, ("late", "capped"), "auto")),
    (protocol.CheckoutPayload, wire.checkout_payload(SID, "V1", 5, 0, [], "coordinator", by_vid="14020200009")),
    (protocol.CorrectionPayload, wire.correction_payload(SID, "check_out", 1796047200, "忘记签退", "14020200009")),
    (protocol.ActivityClosedPayload, wire.activity_closed_payload("a1", 1796047200, "14020200009")),
    (protocol.FailedScanPayload, wire.failed_scan_payload(SID, 1796047200, "revoked", "14020200001", 7)),
    (protocol.FailedScanPayload, wire.failed_scan_payload(SID, 1796047200, "foreign")),
]


@pytest.mark.parametrize("model,payload", PAYLOADS)
def test_every_payload_is_what_its_model_dumps(model, payload):
    assert model.model_validate(payload).model_dump(mode="json") == payload
    assert set(payload) == set(model.model_fields)        # every field, none more


def test_answers_read_as_the_models_read_them():
    push = {"results": [{"id": SID.upper(), "status": "stored"}, {"id": SID, "status": "refused", "code": "conflict"}],
            "server_time": "2026-11-30T09:00:00Z"}
    mine, theirs = wire.PushResponse.parse(push), protocol.PushResponse.model_validate(push)
    assert [(r.id, r.status, r.code) for r in mine.results] == [(str(r.id), r.status, r.code) for r in theirs.results]
    assert mine.server_time == theirs.server_time
    pull = {"changes": [{"kind": "volunteer", "key": "1", "data": {"name": "林建国"}, "version": 4},
                        {"kind": "revocation", "key": "7", "data": None, "version": 5},
                        {"kind": "something_newer", "key": "x", "version": 6}],
            "cursor": 6, "more": False, "server_time": "2026-11-30T09:00:00+00:00", "page_key": "abc",
            "event_types": ["checkin", "failed_scan"]}
    mine, theirs = wire.PullResponse.parse(pull), protocol.PullResponse.model_validate(pull)
    assert [(c.kind, c.key, c.data, c.version) for c in mine.changes] == \
        [(c.kind, c.key, c.data, c.version) for c in theirs.changes]
    assert (mine.cursor, mine.more, mine.server_time, mine.page_key, mine.event_types) == \
        (theirs.cursor, theirs.more, theirs.server_time, theirs.page_key, theirs.event_types)
    old = wire.PullResponse.parse({"changes": [], "cursor": 0, "more": False, "server_time": "2026-11-30T09:00:00Z"})
    assert old.page_key is None and old.event_types is None
    enrol = {"device_id": "d1", "token": "t", "station": {"code": "WBY", "name": "文博苑社区"},
             "public_keys": {"k1": "AAAA"}, "server_time": "2026-11-30T09:00:00Z", "kiosk_number": 17}
    mine, theirs = wire.EnrollResponse.parse(enrol), protocol.EnrollResponse.model_validate(enrol)
    assert mine.station.model_dump() == theirs.station.model_dump()
    assert (mine.device_id, mine.token, mine.public_keys, mine.kiosk_number) == \
        (theirs.device_id, theirs.token, theirs.public_keys, theirs.kiosk_number)


@pytest.mark.parametrize("body", [
    None, [], {"results": "x", "server_time": "2026-11-30T09:00:00Z"},
    {"results": [{"id": "not-a-uuid", "status": "stored"}], "server_time": "2026-11-30T09:00:00Z"},
    {"results": [{"id": SID, "status": "lost"}], "server_time": "2026-11-30T09:00:00Z"},
    {"results": [], "server_time": "yesterday"}, {"results": []},
])
def test_a_malformed_push_answer_is_refused_as_the_model_refuses_it(body):
    with pytest.raises(wire.WireError):
        wire.PushResponse.parse(body)
    with pytest.raises(Exception):
        protocol.PushResponse.model_validate(body)


@pytest.mark.parametrize("body", [
    {"changes": [{"kind": "volunteer", "key": "1", "version": "4"}], "cursor": 1, "more": False, "server_time": "2026-11-30T09:00:00Z"},
    {"changes": [], "cursor": True, "more": False, "server_time": "2026-11-30T09:00:00Z"},
    {"changes": [], "cursor": 1, "more": "no", "server_time": "2026-11-30T09:00:00Z"},
    {"changes": [{"kind": "volunteer", "key": "1", "data": [1], "version": 4}], "cursor": 1, "more": False,
     "server_time": "2026-11-30T09:00:00Z"},
])
def test_a_malformed_pull_answer_is_refused(body):
    with pytest.raises(wire.WireError):
        wire.PullResponse.parse(body)


def test_a_kiosk_scanning_and_syncing_loads_neither_pydantic_nor_requests(tmp_path):
    from kiosk.ui.sample import make_kiosk
    _, tokens = make_kiosk(tmp_path / "k")
    script = ("import sys, json\n"
              "from kiosk.store import open_store\n"
              "from kiosk.attendance import Attendance\n"
              "from sync.client import SyncAgent\n"
              f"store = open_store({str(tmp_path / 'k' / 'kiosk.db')!r})\n"
              "att = Attendance(store)\n"
              f"d = att.scan({tokens['14020200001']!r})\n"
              "att.scan('WG1:AAAA')\n"
              "SyncAgent(store).sync_once()\n"
              "print(json.dumps({'result': d.result, 'pending': store.count_pending(),"
              " 'loaded': sorted(m for m in ('pydantic', 'cryptography', 'requests', 'urllib3') if m in sys.modules)}))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith('{"result": "checked_in", "pending": 2, "loaded": []}'), out.stdout
