"""The sync agent against a fake center on 127.0.0.1 (tests/sync/client/conftest.py)."""

from __future__ import annotations

import time

import pytest
import requests
from peewee import fn

from kiosk.store import OutboxEvent, TrustedKey
from sync.client import EnrollError, SyncAgent, enroll, full_jitter
from tests.sync.client.conftest import PUBLIC_KEY, record_checkins

FAST = dict(backoff=0.01, retries=3)


def agent(store, **kwargs) -> SyncAgent:
    return SyncAgent(store, **{**FAST, **kwargs})


def statuses(store) -> dict[str, int]:
    query = OutboxEvent.select(OutboxEvent.status, fn.COUNT(OutboxEvent.id)).group_by(OutboxEvent.status)
    return dict(query.tuples())


# --- enrolment ----------------------------------------------------------------------------

def test_enroll_keeps_token_station_keys_and_own_device_id(store, center):
    own_id = store.sync_state()["device_id"]
    answer = enroll(store, center.url + "/", "GOOD-CODE")
    state = store.sync_state()
    assert answer.device_id == own_id == state["device_id"]
    assert state["server_url"] == center.url and state["token"] == "tok-1"
    assert state["cursor"] == 0
    assert store.settings.get("station")["name"] == "文博苑社区"
    assert store.public_keys() == {"k1": PUBLIC_KEY}


def test_enroll_refused_raises_with_the_servers_code(store, center):
    with pytest.raises(EnrollError) as refused:
        enroll(store, center.url, "WRONG-CODE")
    assert refused.value.code == "bad_code"
    assert store.sync_state()["token"] is None
    assert center.requests == [("enroll", 0)]          # a 4xx is not retried


def test_enroll_rate_limited_is_said_at_once_not_retried(store, center):
    # A coordinator waits at the screen: no minutes of "enrolling…" behind Retry-After: 60.
    with pytest.raises(EnrollError) as refused:
        enroll(store, center.url, "TOO-MANY")
    assert refused.value.code == "rate_limited" and center.requests == [("enroll", 0)]


def test_enroll_unreachable_raises_network(store, unused_port):
    with pytest.raises(EnrollError) as failed:
        enroll(store, f"http://127.0.0.1:{unused_port}", "GOOD-CODE")
    assert failed.value.code == "network"


def test_enroll_measures_the_clock_offset(store, center):
    center.skew = 3 * 3600
    enroll(store, center.url, "GOOD-CODE")
    assert abs(store.sync_state()["clock_offset_ms"] - 3 * 3600 * 1000) < 1000


# --- one round ------------------------------------------------------------------------------

def test_not_enrolled_says_so_without_raising(store):
    record_checkins(store, 2)
    status = agent(store).sync_once()
    assert not status["ok"] and not status["enrolled"]
    assert status["error_code"] == "not_enrolled" and status["pending"] == 2
    assert not status["running"] and not status["online"]


def test_push_in_batches_oldest_first_then_nothing_left(enrolled, center):
    ids = record_checkins(enrolled, 450)
    status = agent(enrolled, batch_size=200).sync_once()
    assert status["ok"] and status["online"] and status["progress"] == 1.0
    assert (status["pushed"], status["duplicates"], status["refused"], status["pending"]) == (450, 0, 0, 0)
    assert [n for path, n in center.requests if path == "events"] == [200, 200, 50]
    assert list(center.events) == ids                      # oldest first, each once
    assert [e["seq"] for e in center.events.values()] == list(range(1, 451))
    assert status["last_success"] and status["last_error"] is None
    again = agent(enrolled).sync_once()
    assert again["ok"] and again["pushed"] == 0 and len(center.events) == 450


def test_duplicates_are_acknowledged_and_counted(enrolled, center):
    ids = record_checkins(enrolled, 5)
    center.events.update({i: {} for i in ids[:3]})         # the server committed them before; the answer was lost
    status = agent(enrolled).sync_once()
    assert (status["pushed"], status["duplicates"], status["pending"]) == (5, 3, 0)
    assert statuses(enrolled) == {"stored": 5}


def test_refused_events_stay_visible_with_their_code(enrolled, center):
    ids = record_checkins(enrolled, 4)
    center.refuse[ids[1]] = "unknown_session"
    status = agent(enrolled).sync_once()
    assert status["ok"] and status["refused"] == 1 and status["pending"] == 0
    refused = enrolled.refused_events()
    assert [(r.id, r.code) for r in refused] == [(ids[1], "unknown_session")]
    agent(enrolled).sync_once()                            # not re-sent, still visible
    assert ids[1] not in center.events and len(enrolled.refused_events()) == 1


def test_pull_pages_until_done_and_resumes_from_the_cursor(enrolled, center):
    center.add_changes(1100)
    status = agent(enrolled).sync_once()
    assert status["ok"] and status["pulled"] == 1100
    assert enrolled.sync_state()["cursor"] == 1100
    assert [p for p, _ in center.requests].count("changes") == 3
    assert enrolled.volunteer_name("V01099") == "志愿者1099"
    center.add_changes(7)
    assert agent(enrolled).sync_once()["pulled"] == 7


def test_pulled_keys_and_deletions_apply(enrolled, center):
    from sync.protocol import Change
    center.changes = [Change(kind="public_key", key="k2", data={"public_key": PUBLIC_KEY}, version=1),
                      Change(kind="revocation", key="42", data={"vid": "V1"}, version=2),
                      Change(kind="revocation", key="42", data=None, version=3)]
    agent(enrolled).sync_once()
    assert TrustedKey.get_by_id("k2").public_key == PUBLIC_KEY
    assert not enrolled.is_revoked(42)


# --- failures ----------------------------------------------------------------------------

@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_are_retried_within_the_round(enrolled, center, status):
    record_checkins(enrolled, 3)
    center.faults = [("status", status), ("status", status)]
    result = agent(enrolled).sync_once()
    assert result["ok"] and result["pushed"] == 3 and len(center.events) == 3


def test_a_4xx_is_reported_not_retried(enrolled, center):
    record_checkins(enrolled, 3)
    center.faults = [("status", 422)]
    result = agent(enrolled).sync_once()
    assert not result["ok"] and result["online"]
    assert result["error_code"] == "injected_422" and "422" in result["last_error"]
    assert result["pending"] == 3 and center.faults == [] and center.events == {}
    assert result["last_failure"] and not result["halted"]


def test_retries_exhausted_leaves_events_pending(enrolled, center):
    record_checkins(enrolled, 3)
    center.faults = [("status", 503)] * 3
    result = agent(enrolled).sync_once()
    assert not result["ok"] and result["error_code"] == "injected_503" and result["pending"] == 3
    assert agent(enrolled).sync_once()["pushed"] == 3      # the next round drains


def test_revoked_token_halts_and_keeps_events_pending(enrolled, center):
    record_checkins(enrolled, 3)
    center.tokens.clear()
    result = agent(enrolled).sync_once()
    assert not result["ok"] and result["halted"]
    assert result["error_code"] == "token_revoked" and "401" in result["last_error"]
    assert result["pending"] == 3
    assert center.requests == []                           # one 401, not retried (the fake logs after auth)


def test_timeout_is_retried(enrolled, center):
    record_checkins(enrolled, 2)
    center.faults = [("delay", 1.5)]
    result = agent(enrolled, timeout=(1, 0.5)).sync_once()
    assert result["ok"] and result["pushed"] == 2


def test_unreachable_server_reports_offline(enrolled, unused_port):
    enrolled.set_sync_state(server_url=f"http://127.0.0.1:{unused_port}")
    record_checkins(enrolled, 1)
    result = agent(enrolled).sync_once()
    assert not result["ok"] and not result["online"] and result["error_code"] == "network"
    assert result["pending"] == 1


def test_too_large_batch_is_halved(enrolled, center):
    record_checkins(enrolled, 120)
    center.max_events = 50
    result = agent(enrolled, batch_size=200).sync_once()
    assert result["ok"] and len(center.events) == 120
    assert [n for p, n in center.requests if p == "events"][:3] == [120, 60, 30]


def test_clock_offset_measured_each_round_and_stamped_on_new_events(enrolled, center):
    center.skew = -3 * 3600                                # the kiosk runs three hours fast
    agent(enrolled).sync_once()
    offset = enrolled.sync_state()["clock_offset_ms"]
    assert abs(offset + 3 * 3600 * 1000) < 1000
    record_checkins(enrolled, 1)
    agent(enrolled).sync_once()
    assert next(iter(center.events.values()))["clock_offset_ms"] == offset


def test_batch_size_is_bounded(store):
    with pytest.raises(ValueError):
        SyncAgent(store, batch_size=501)


def test_full_jitter_stays_within_its_bound():
    for attempt in range(1, 12):
        bound = min(60, 0.5 * 2 ** (attempt - 1))
        draws = [full_jitter(attempt, 0.5, 60) for _ in range(200)]
        assert all(0 <= d <= bound for d in draws) and max(draws) > bound / 2


# --- on its own thread ----------------------------------------------------------------

def test_thread_syncs_while_the_scan_path_writes(enrolled, center):
    sync = agent(enrolled, interval=0.05)
    sync.start()
    try:
        ids = []
        for _ in range(20):                                 # scans keep coming on this thread
            ids += record_checkins(enrolled, 5)
            sync.trigger()
            assert isinstance(sync.status()["running"], bool)   # never blocks
        deadline = time.time() + 10
        while enrolled.count_pending() and time.time() < deadline:
            time.sleep(0.05)
    finally:
        sync.stop()
    assert set(center.events) == set(ids) and enrolled.count_pending() == 0
    assert sync.status()["last_success"] and not sync.status()["running"]


def test_thread_halts_on_revoked_token_until_triggered(enrolled, center):
    record_checkins(enrolled, 1)
    center.tokens.clear()
    sync = agent(enrolled, interval=0.01)
    sync.start()
    try:
        time.sleep(0.5)
        assert sync.status()["halted"]
        attempts = len(center.requests)
        center.tokens.add("tok-1")                          # re-enrolled
        sync.trigger()
        deadline = time.time() + 5
        while not sync.status()["ok"] and time.time() < deadline:
            time.sleep(0.02)
    finally:
        sync.stop()
    assert attempts == 0 and sync.status()["ok"] and len(center.events) == 1


@pytest.mark.parametrize("status, body, code, message", [
    (422, {"code": "invalid_request", "message": "bad", "detail": [{"loc": ["x"]}]}, "invalid_request", "bad"),
    (403, {"detail": {"code": "device_revoked", "message": "gone"}}, "device_revoked", "gone"),
    (404, {"detail": "Not Found"}, "http_404", "Not Found"),
    (502, "<html>bad gateway</html>", "http_502", "<html>bad gateway</html>"),
])
def test_error_answers_keep_the_servers_code(status, body, code, message):
    from sync.client import _error
    error = _error(status, body, body if isinstance(body, str) else "")
    assert (error.code, error.args[0], error.retryable) == (code, message, status >= 500)


def test_last_success_and_failure_survive_a_restart(enrolled, center):
    assert agent(enrolled).sync_once()["ok"]
    center.tokens.clear()
    failed = agent(enrolled).sync_once()
    fresh = agent(enrolled).status()                       # a new agent, as after a reboot
    assert fresh["last_success"] == failed["last_success"] is not None
    assert fresh["last_failure"] == failed["last_failure"] is not None
    assert "token_revoked" in fresh["last_error"] and fresh["enrolled"]


def test_retry_after_is_a_floor_for_the_backoff(enrolled, center):
    record_checkins(enrolled, 1)
    center.faults, center.retry_after = [("status", 503)], 1
    started = time.monotonic()
    result = agent(enrolled).sync_once()
    assert result["ok"] and time.monotonic() - started >= 1


def test_thread_backs_off_after_failed_rounds(enrolled, unused_port):
    class Counting(requests.Session):
        calls = 0

        def request(self, *args, **kwargs):
            Counting.calls += 1
            return super().request(*args, **kwargs)

    enrolled.set_sync_state(server_url=f"http://127.0.0.1:{unused_port}")
    record_checkins(enrolled, 1)
    sync = SyncAgent(enrolled, http=Counting(), interval=0.01, retries=1)
    sync.start()
    time.sleep(1.0)
    sync.stop()
    # Without backoff: ~100 rounds in a second; with full jitter doubling from 10 ms: about a dozen.
    assert 3 <= Counting.calls <= 30
    assert sync.status()["error_code"] == "network" and sync.status()["pending"] == 1
