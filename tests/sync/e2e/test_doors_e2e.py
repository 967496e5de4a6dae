"""The doors against a real `weiguang server run` on 127.0.0.1 (issue 7, build 6): slow
connections, with or without a token, do not starve a real kiosk's push, and another
kiosk's id plus a valid code does not take that kiosk over."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
import requests

from sync.client import SyncAgent
from tests.sync.e2e.conftest import SERVER_CLI, assert_exactly_once, scan_all, weiguang, weiguang_json
from tests.sync.server.slow import SlowSenders

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not SERVER_CLI.exists(), reason="the server (sync/server/cli.py) is missing")]

ENROLL = "/api/v1/devices/enroll"
EVENTS = "/api/v1/events"
SLOW = 64          # as many as the server's push slots (push_concurrency, default 64)


def push_within_two_seconds(store) -> dict:
    """One sync round of the real agent whose every request must be answered within 2 s
    (connect and read timeouts of 2 s, no retry), timed as a whole too."""
    started = time.monotonic()
    status = SyncAgent(store, timeout=(2, 2), retries=1).sync_once()
    return {**status, "seconds": time.monotonic() - started}


def test_slow_connections_without_a_token_do_not_starve_a_kiosk(center, kiosk_store, badges):
    kiosk_store.set_sync_state(server_url=center.url)          # straight to the server, no proxy
    ids = scan_all(kiosk_store, badges(20))
    with SlowSenders(center.url, EVENTS, [None] * SLOW, every=2) as slow:
        time.sleep(0.5)                                        # all of them reach the server first
        status = push_within_two_seconds(kiosk_store)
        answered = slow.answers(within=10)
    assert status["ok"], status
    assert (status["pushed"], status["pending"]) == (20, 0) and status["seconds"] < 2
    assert_exactly_once(center, ids)
    # Each was answered 401 at once, body unread, and its connection closed.
    assert answered == [(401, "unauthorized", True)] * SLOW
    assert max(slow.sent) < 10


def test_slow_connections_with_a_valid_token_do_not_starve_a_kiosk(center, kiosk_store, badges):
    kiosk_store.set_sync_state(server_url=center.url)
    other = requests.post(center.url + ENROLL, json={"code": center.code()}, timeout=10).json()   # kiosk B
    ids = scan_all(kiosk_store, badges(20))
    with SlowSenders(center.url, EVENTS, [f"Bearer {other['token']}"] * SLOW, every=2) as slow:
        time.sleep(0.5)
        status = push_within_two_seconds(kiosk_store)
        answered = slow.answers(within=20)
    assert status["ok"], status
    assert (status["pushed"], status["pending"]) == (20, 0) and status["seconds"] < 2
    assert_exactly_once(center, ids)
    # B holds at most its own few slots (push_per_device, 8), each cut off when its body
    # has not come within body_timeout_seconds (5), then the 8 waiting behind them, cut
    # off likewise; the others refused at once.
    assert Counter(answered) == {(408, "body_timeout", True): 16, (429, "rate_limited", True): SLOW - 16}


def test_another_kiosks_id_with_a_new_code_is_refused(center, kiosk_store, badges):
    device_id = kiosk_store.sync_state()["device_id"]
    assert center.query("SELECT station FROM device WHERE id = ?", device_id) == [("WBY",)]
    hijack = requests.post(center.url + ENROLL, timeout=10,
                           json={"code": center.code("东关街站"), "device_id": device_id})
    assert (hijack.status_code, hijack.json()["code"]) == (409, "device_exists")
    # Kiosk A is still where it was and its token still works.
    assert center.query("SELECT station FROM device WHERE id = ?", device_id) == [("WBY",)]
    ids = scan_all(kiosk_store, badges(3))
    done = json.loads(weiguang("sync", "--db", kiosk_store.path).stdout)
    assert done["ok"] and done["pushed"] == 3 and done["pending"] == 0
    assert_exactly_once(center, ids)


def test_a_kiosk_reset_at_the_kiosk_enrols_again_under_a_new_id(center, proxy, kiosk_db, badges):
    from kiosk.store import db, open_store
    from kiosk.ui.services import KioskServices
    store = open_store(kiosk_db)
    try:
        first = scan_all(store, badges(2))
        assert SyncAgent(store).sync_once()["ok"]
        old_id = store.sync_state()["device_id"]
        services = KioskServices(store)
        services.reset_enrolment()                          # the coordinator's "reset" at the kiosk
        services.shutdown()
        later = scan_all(store, badges(4)[2:])[2:]          # recorded while not enrolled
    finally:
        db.close()
    answer = weiguang_json("kiosk", "enroll", "--db", kiosk_db, "--server", proxy.url, center.code())
    assert answer["enrolled"] and answer["device_id"] != old_id
    done = json.loads(weiguang("sync", "--db", kiosk_db).stdout)
    assert done["ok"] and done["pending"] == 0
    assert_exactly_once(center, first + later)
    assert center.query("SELECT device_id FROM events WHERE id = ?", later[0]) == [(answer["device_id"],)]
