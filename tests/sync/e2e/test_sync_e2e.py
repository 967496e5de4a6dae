"""A real kiosk against a real `weiguang server run`, through the fault proxy: whatever
breaks, every event ends on the server exactly once, and nothing is silently dropped."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from kiosk.store import OutboxEvent
from sync.client import SyncAgent
from tests.sync.e2e.conftest import SERVER_CLI, WEIGUANG, assert_exactly_once, child_env, scan_all, weiguang

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not SERVER_CLI.exists(), reason="the server (sync/server/cli.py) is missing")]


def agent(store, **kwargs) -> SyncAgent:
    return SyncAgent(store, **{"backoff": 0.05, "retries": 6, **kwargs})


def test_backlog_recorded_offline_arrives_exactly_once(center, proxy, kiosk_store, badges):
    # 1. The server goes down; the kiosk keeps recording.
    center.stop()
    ids = scan_all(kiosk_store, badges(1000))
    offline = agent(kiosk_store, retries=2).sync_once()
    assert not offline["ok"] and offline["error_code"] == "network" and offline["pending"] == 1000
    # 2. The server comes back; one sync drains the backlog.
    center.start()
    status = agent(kiosk_store).sync_once()
    assert status["ok"] and (status["pushed"], status["refused"], status["pending"]) == (1000, 0, 0)
    assert_exactly_once(center, ids)
    stats = center.stats()
    assert stats["events"] == {"checkin": 1000} and stats["devices"] == 1
    # 3. A second sync changes nothing (through the CLI, as the contract says).
    again = json.loads(weiguang("sync", "--db", kiosk_store.path).stdout)
    assert again["ok"] and again["pushed"] == 0 and again["pending"] == 0
    assert center.stats() == stats


def test_server_killed_mid_batch_then_restarted(center, proxy, kiosk_store, badges):
    ids = scan_all(kiosk_store, badges(600))
    proxy.on_forward = lambda n: n == 2 and center.kill()      # the 2nd push reached it: SIGKILL
    failed = agent(kiosk_store, retries=2).sync_once()
    assert not failed["ok"] and failed["pending"] > 0
    proxy.on_forward = None
    center.start()
    status = agent(kiosk_store).sync_once()
    assert status["ok"] and status["pending"] == 0
    assert_exactly_once(center, ids)


def test_answer_lost_after_commit(center, proxy, kiosk_store, badges):
    ids = scan_all(kiosk_store, badges(500))
    proxy.set("drop", every=2)
    status = agent(kiosk_store, batch_size=100).sync_once()
    assert status["ok"] and status["duplicates"] > 0 and status["pending"] == 0
    assert_exactly_once(center, ids)


def test_intermittent_500_and_503(center, proxy, kiosk_store, badges):
    tokens = badges(600)
    scan_all(kiosk_store, tokens[:500])
    proxy.set("error", every=2, status=500, limit=3)
    first = agent(kiosk_store, batch_size=100).sync_once()
    proxy.set("error", every=2, status=503)
    ids = scan_all(kiosk_store, tokens[500:])                  # all 600 outbox ids
    second = agent(kiosk_store, batch_size=25).sync_once()
    assert first["ok"] and second["ok"] and second["pending"] == 0 and proxy.faults >= 4
    assert_exactly_once(center, ids)


def test_server_too_slow_client_times_out(center, proxy, kiosk_store, badges):
    ids = scan_all(kiosk_store, badges(300))
    proxy.set("delay", delay=1.5, every=2, limit=2)
    status = agent(kiosk_store, batch_size=100, timeout=(2, 0.5)).sync_once()
    assert status["ok"] and status["duplicates"] >= 100 and status["pending"] == 0
    assert_exactly_once(center, ids)


def test_kiosk_killed_mid_sync_then_synced_again(center, proxy, kiosk_store, badges):
    ids = scan_all(kiosk_store, badges(1000))
    proxy.set("delay", delay=0.4)                              # answers held: a sync takes seconds
    child = subprocess.Popen([*WEIGUANG, "sync", "--db", str(kiosk_store.path)], env=child_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while len(center.event_ids()) < 200 and time.time() < deadline:  # the first batch committed
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert 0 < len(center.event_ids()) < 1000 and kiosk_store.count_pending() > 0
    proxy.set("pass")
    done = weiguang("sync", "--db", kiosk_store.path)
    status = json.loads(done.stdout)
    assert status["ok"] and status["pending"] == 0
    assert_exactly_once(center, ids)


def test_revoked_token_is_reported_and_events_kept(center, proxy, kiosk_store, badges):
    tokens = badges(20)
    ids = scan_all(kiosk_store, tokens[:10])
    assert agent(kiosk_store).sync_once()["ok"]
    revoke(center, kiosk_store.sync_state()["device_id"])
    later = scan_all(kiosk_store, tokens[10:])[10:]
    status = agent(kiosk_store).sync_once()
    assert not status["ok"] and status["halted"] and status["pending"] == 10
    assert status["error_code"] == "device_revoked" and "403" in status["last_error"]
    assert {row.id for row in OutboxEvent.select().where(OutboxEvent.status == "pending")} == set(later)
    assert_exactly_once(center, ids)


def test_kiosk_clock_three_hours_wrong(center, proxy, kiosk_db, badges):
    from kiosk.store import db, open_store
    skew = -3 * 3600                                           # the kiosk runs three hours slow
    store = open_store(kiosk_db, clock=lambda: time.time() + skew)
    try:
        assert agent(store).sync_once()["ok"]                  # measures the offset
        offset = store.sync_state()["clock_offset_ms"]
        assert abs(offset + skew * 1000) < 2000
        ids = scan_all(store, badges(5))
        assert agent(store).sync_once()["ok"]
    finally:
        db.close()
    assert_exactly_once(center, ids)
    rows = center.query("SELECT clock_offset_ms FROM events")
    assert all(r[0] == offset for r in rows)
    now = time.time()
    for check_in_at, flags in center.query("SELECT check_in_at, flags FROM sessions"):
        assert abs(check_in_at - now) < 120, "the server puts the scan on its own clock"
        assert "clock_skew" in flags


def revoke(center, device_id: str) -> None:
    """Revoke a kiosk as the center's coordinator would (the service, on the server's database)."""
    code = (
        "import sys; from pathlib import Path;"
        "from sync.server.settings import ServerSettings; from sync.server.db import open_database;"
        "from sync.server.services.devices import revoke_device;"
        "open_database(ServerSettings(data_dir=Path(sys.argv[1])));"
        "assert revoke_device(sys.argv[2])")
    subprocess.run([WEIGUANG[0], "-c", code, str(center.data), device_id], check=True, env=child_env(),
                   timeout=60)
