"""Issue 12: the kiosk's session ids are time-ordered (UUIDv7, as its event ids), so the
center's sessions index takes each new one at its right edge instead of at a random page.
Older kiosks' UUIDv4 ids keep syncing: the wire takes any UUID."""

import json
import uuid

from kiosk.store import OutboxEvent, Session
from sync import protocol

from .conftest import at


def test_check_ins_get_time_ordered_session_ids(desk, badge):
    ids = []
    for n in range(5):
        decision = desk.scan(badge(vid=f"1402020000{n}", serial=n + 1), at=at("2026-11-30 09:00") + n)
        assert decision.result == "checked_in"
        ids.append(decision.session_id)
    assert [uuid.UUID(i).version for i in ids] == [7] * 5
    assert ids == sorted(ids)                       # made later, sorts later
    assert sorted(s.id for s in Session.select()) == ids
    payloads = [json.loads(e.payload) for e in OutboxEvent.select().order_by(OutboxEvent.seq)]
    assert [p["session_id"] for p in payloads] == ids
    for p in payloads:
        protocol.CheckinPayload.model_validate(p)


def test_the_wire_still_takes_an_older_kiosks_random_session_id():
    payload = {"session_id": str(uuid.uuid4()), "vid": "14020200001", "serial": 1, "role": "volunteer",
               "activity_id": None, "at": 1796040000}
    assert protocol.CheckinPayload.model_validate(payload).session_id.version == 4
