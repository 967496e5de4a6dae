"""Server-side hours: authoritative minutes, each review flag, service requests, stats."""

from __future__ import annotations

import time

import pytest

from sync.roster import RosterEntry
from sync.server.services import changes, sessions
from sync.server.services.stats import stats
from tests.sync.server.conftest import enrol

NOW = int(time.time())


@pytest.fixture(autouse=True)
def pushed_at_once(server_settings):
    """These tests push a whole day at once; only test_recorded_offline keeps the 1 h limit."""
    server_settings.offline_after_seconds = 24 * 3600


@pytest.fixture(autouse=True)
def roster(server_app):
    """The volunteers these tests scan are on the roster (else: unknown_volunteer)."""
    changes.import_roster([RosterEntry(f"V{i:04d}", f"志愿者{i}") for i in range(1, 10)])


def only_session(vid: str):
    [session] = sessions.sessions_of(vid)
    return session


def flags(vid: str) -> set[str]:
    return set(filter(None, only_session(vid).flags.split(",")))


def test_minutes_follow_the_server_rules_not_the_kiosk(kiosk):
    changes.set_rules({"rounding_minutes": 30}, station="s1")
    checkin = kiosk.checkin("V0001", NOW - 7200)
    kiosk.statuses([checkin, kiosk.checkout(checkin, NOW - 7200 + 100 * 60, minutes=95)])
    session = only_session("V0001")
    assert (session.minutes, session.kiosk_minutes, session.state) == (90, 95, "closed")
    assert flags("V0001") == set()


def test_an_open_session_is_open(kiosk):
    kiosk.statuses([kiosk.checkin("V0001", NOW - 60)])
    assert (only_session("V0001").state, only_session("V0001").minutes) == ("open", None)


def test_recorded_offline(kiosk, server_settings):
    server_settings.offline_after_seconds = 3600
    checkin = kiosk.checkin("V0001", NOW - 3 * 3600)
    kiosk.statuses([checkin, kiosk.checkout(checkin, NOW - 2 * 3600)])
    # Recorded offline is how a kiosk without network works: noted, still credited.
    assert flags("V0001") == {"recorded_offline"} and only_session("V0001").state == "closed"
    assert only_session("V0001").minutes == 60


def test_clock_skew_and_times_moved_onto_the_server_clock(kiosk):
    checkin = kiosk.checkin("V0001", NOW - 600, offset_ms=10 * 60 * 1000)  # kiosk 10 min slow
    kiosk.statuses([checkin])
    assert flags("V0001") == {"clock_skew"}
    assert only_session("V0001").check_in_at == NOW
    kiosk.statuses([kiosk.checkout(checkin, NOW - 600 + 3600, offset_ms=10 * 60 * 1000)])
    assert only_session("V0001").state == "review"   # a clock that far off needs a person's look


def test_auto_closed_by_the_kiosk_and_by_the_server(kiosk):
    checkin = kiosk.checkin("V0001", NOW - 1800)
    kiosk.statuses([checkin, kiosk.checkout(checkin, NOW - 60, closed_by="auto")])
    assert flags("V0001") == {"auto_closed"} and only_session("V0001").state == "review"
    changes.upsert_activity("a1", "义诊", NOW - 4 * 3600, NOW - 3 * 3600, station="s1")
    kiosk.statuses([kiosk.checkin("V0002", NOW - 4 * 3600 + 600, activity_id="a1")])
    assert sessions.close_overdue(NOW) == 1
    session = only_session("V0002")
    assert session.check_out_at == NOW - 3 * 3600 + 30 * 60 and "auto_closed" in flags("V0002")
    assert session.state == "review"


def test_two_stations_flags_both_sessions(api, kiosk):
    elsewhere = enrol(api, "s2")
    kiosk.statuses([kiosk.checkin("V0001", NOW - 600)])
    elsewhere.statuses([elsewhere.checkin("V0001", NOW - 300)])
    assert [s.flags for s in sessions.sessions_of("V0001")] == ["two_stations", "two_stations"]
    kiosk.statuses([kiosk.checkin("V0009", NOW - 7200)])
    elsewhere.statuses([elsewhere.checkin("V0009", NOW - 60)])  # two hours apart: fine
    assert [s.flags for s in sessions.sessions_of("V0009")] == ["", ""]


def test_a_correction_recredits_and_flags(kiosk):
    checkin = kiosk.checkin("V0001", NOW - 7200)
    kiosk.statuses([checkin, kiosk.checkout(checkin, NOW - 7200 + 3600)])
    fix = kiosk.event("correction", {"session_id": checkin["payload"]["session_id"], "field": "check_out",
                                     "value": NOW - 7200 + 2 * 3600, "reason": "忘记签退", "by_vid": "C0001"})
    assert kiosk.statuses([fix]) == [("stored", None)]
    assert (only_session("V0001").minutes, flags("V0001")) == (120, {"corrected"})


def test_service_requests_and_stats(kiosk):
    checkin = kiosk.checkin("V0001", NOW - 7200)
    request = kiosk.event("service_request", {"number": "A001", "service": "理发", "phone": "13800000000", "at": NOW})
    kiosk.statuses([checkin, kiosk.checkout(checkin, NOW - 3600), kiosk.checkin("V0002", NOW), request])
    assert stats() == {"events": {"checkin": 2, "checkout": 1, "service_request": 1},
                       "sessions": {"closed": 1, "open": 1}, "requests": {"submitted": 1}, "devices": 1}


@pytest.mark.parametrize("n", [3])
def test_replayed_batches_do_not_double_hours(kiosk, n):
    checkin = kiosk.checkin("V0001", NOW - 7200)
    batch = [checkin, kiosk.checkout(checkin, NOW - 3600)]
    for _ in range(n):
        kiosk.statuses(batch)
    assert len(sessions.sessions_of("V0001")) == 1 and only_session("V0001").minutes == 60
