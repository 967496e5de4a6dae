"""Failed scans at the center (issue 11), on both backends: a kiosk's failed_scan events are
stored once each (a re-push is a duplicate), put on the server's clock, listed for the fleet
page within scope; a bad one is refused alone; an unknown event type is refused alone."""

from __future__ import annotations

import uuid

from sync.server.services import failed_scans
from sync.server.services.scope import CLI, Scope

from tests.sync.server.conftest import enrol
from tests.sync.server.helpers import T0


def failed(kiosk, code, at, vid=None, serial=None, offset_ms=0):
    return kiosk.event("failed_scan", {"id": str(uuid.uuid4()), "at": at, "code": code, "vid": vid,
                                       "serial": serial}, offset_ms=offset_ms)


def test_failed_scans_are_stored_once_and_listed_within_scope(api, kiosk):
    other = enrol(api, station="s2")
    events = [failed(kiosk, "revoked", T0, "14020200006", 6), failed(kiosk, "expired", T0 + 60, "14020200007", 7),
              failed(kiosk, "foreign", T0 + 120, offset_ms=30_000)]
    assert kiosk.statuses(events) == [("stored", None)] * 3
    assert kiosk.statuses(events) == [("duplicate", None)] * 3           # re-sent: stored once
    assert other.statuses([failed(other, "foreign", T0)]) == [("stored", None)]
    rows = failed_scans.recent(CLI, since=T0 - 1)
    mine = [(r["code"], r["vid"], r["serial"], r["at"]) for r in rows if r["station"] == "s1"]
    assert mine == [("foreign", None, None, T0 + 150), ("expired", "14020200007", 7, T0 + 60),
                    ("revoked", "14020200006", 6, T0)]                    # newest first, on the server's clock
    s1_only = Scope("wby", "coordinator", "s1", frozenset({"s1"}))
    assert {r["station"] for r in failed_scans.recent(s1_only, since=0)} == {"s1"}
    assert failed_scans.counts_by_device(s1_only, since=0) == {kiosk.device_id: 3}


def test_a_bad_failed_scan_and_an_unknown_type_are_refused_alone(api, kiosk):
    good = failed(kiosk, "revoked", T0, "14020200006", 6)
    too_long = failed(kiosk, "x" * 40, T0)
    text_smuggled = kiosk.event("failed_scan", {"id": str(uuid.uuid4()), "at": T0, "code": "foreign",
                                                "text": "https://qr.alipay.com/secret"})
    newer = kiosk.event("hologram_scan", {"at": T0})
    assert kiosk.statuses([good, too_long, text_smuggled, newer]) == [
        ("stored", None), ("refused", "bad_payload"), ("refused", "bad_payload"), ("refused", "unknown_type")]
    assert [r["code"] for r in failed_scans.recent(CLI, since=0)] == ["revoked"]


def test_failed_scans_older_than_the_keeping_time_are_deleted_by_a_later_push(api, kiosk, monkeypatch):
    import time

    from sync.server.db import reading, writing
    from sync.server.models import FailedScan
    old = [failed(kiosk, "revoked", T0, "14020200006", 6), failed(kiosk, "foreign", T0)]
    recent = failed(kiosk, "expired", T0, "14020200007", 7)
    assert kiosk.statuses(old) == [("stored", None)] * 2
    now = int(time.time())
    with writing():     # as if they had arrived 91 days ago
        FailedScan.update(received_at=now - 91 * 86400).execute()
    monkeypatch.setattr(failed_scans, "_last_pruned", {"at": now - 2 * failed_scans.PRUNE_EVERY_SECONDS})
    assert kiosk.statuses([recent]) == [("stored", None)]
    with reading():
        assert [r.code for r in FailedScan.select()] == ["expired"]
        assert failed_scans.counts_by_device(CLI, since=0) == {kiosk.device_id: 1}


def test_the_fleet_listing_reads_failed_scans_by_arrival_from_an_index(api, kiosk):
    from sync.server.db import db, reading
    with reading():
        indexed = {tuple(ix.columns) for ix in db.get_indexes("failed_scans")}
    assert ("received_at",) in indexed and ("device_id", "received_at") in indexed
