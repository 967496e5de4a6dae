"""Two kiosks of one station and one of another, against one real `weiguang server run`, with
interleaved, partly conflicting histories synced in between (some through the fault proxy):
every event ends on the server exactly once, and every session has the owner, minutes, flags
and state the rules give it (issue 7)."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.attendance import Attendance
from kiosk.store import OutboxEvent, db, open_store
from sync.client import SyncAgent
from tests.sync.e2e.conftest import SERVER_CLI, WEIGUANG, child_env, weiguang, weiguang_json

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not SERVER_CLI.exists(), reason="the server (sync/server/cli.py) is missing")]

HOUR = 3600
STATION_TZ = ZoneInfo("Asia/Shanghai")    # the stations' zone: kiosk init's default


def make_kiosk(center, url: str, path, station: str) -> str:
    weiguang("kiosk", "init", "--db", path, "--station", station, "--keys", center.data / "keys")
    answer = weiguang_json("kiosk", "enroll", "--db", path, "--server", url, center.code(station))
    assert answer["enrolled"], answer
    return str(path)


def on_roster(center, vids: list[str]) -> None:
    """The volunteers on the center's roster (the service, on the server's database)."""
    code = (
        "import sys; from pathlib import Path;"
        "from sync.server.settings import ServerSettings; from sync.server.db import open_database;"
        "from sync.roster import RosterEntry; from sync.server.services.changes import import_roster;"
        "open_database(ServerSettings(data_dir=Path(sys.argv[1])));"
        "import_roster([RosterEntry(v, '志愿者') for v in sys.argv[2:]])")
    subprocess.run([WEIGUANG[0], "-c", code, str(center.data), *vids], check=True, env=child_env(), timeout=60)


class Fleet:
    """Kiosk databases in one process: each step opens the one it acts on (one db per process)."""

    def __init__(self, paths: dict[str, str]):
        self.paths = paths
        self.outbox: dict[str, list[str]] = {name: [] for name in paths}

    def scan(self, name: str, token: str, at: int) -> str:
        store = open_store(self.paths[name])
        try:
            return Attendance(store).scan(token, at=at).result
        finally:
            db.close()

    def record(self, name: str, event_type: str, payload: dict) -> None:
        """An event as a misbehaving kiosk would send it (straight into its outbox)."""
        store = open_store(self.paths[name])
        try:
            store.record(event_type, payload)
        finally:
            db.close()

    def sync(self, name: str) -> dict:
        store = open_store(self.paths[name])
        try:
            status = SyncAgent(store, backoff=0.05, retries=6).sync_once()
            self.outbox[name] = [(e.id, e.status, e.code) for e in OutboxEvent.select().order_by(OutboxEvent.seq)]
            return status
        finally:
            db.close()


def test_two_kiosks_of_one_station_and_one_of_another(center, proxy, tmp_path, badges):
    tokens = badges(6)                      # V00000 … V00005
    on_roster(center, [f"V{i:05d}" for i in range(6)])
    fleet = Fleet({
        "A": make_kiosk(center, proxy.url, tmp_path / "a.db", "文博苑社区"),
        "B": make_kiosk(center, center.url, tmp_path / "b.db", "文博苑社区"),
        "C": make_kiosk(center, center.url, tmp_path / "c.db", "东关街站"),
    })
    t0 = int(time.time()) - 10 * HOUR
    # V3's late check-out (t0 + 7 h) must fall on its check-in's local day (the rule is per
    # local day): run between 03:00 and 10:00 at the station, t0 starts that day's 07:00.
    day = datetime.fromtimestamp(t0, STATION_TZ).date()
    if datetime.fromtimestamp(t0 + 7 * HOUR, STATION_TZ).date() != day:
        t0 = int(datetime(day.year, day.month, day.day, 7, tzinfo=STATION_TZ).timestamp())
    # V0: in and out at A (2 h). V1: in at A, then in at B (B cannot know), out at B (1 h).
    # V2: in at A, and 10 minutes later at C, another station: both flagged two_stations.
    # V3: in at C, scans out hours after the automatic close: the late check-out (review).
    assert fleet.scan("A", tokens[0], t0) == "checked_in"
    assert fleet.scan("A", tokens[1], t0 + 60) == "checked_in"
    assert fleet.scan("A", tokens[2], t0 + 120) == "checked_in"
    assert fleet.sync("A")["ok"]
    proxy.set("drop", every=2)              # A's answers get lost half of the time from here
    assert fleet.scan("B", tokens[1], t0 + HOUR) == "checked_in"
    assert fleet.scan("C", tokens[2], t0 + 720) == "checked_in"
    assert fleet.scan("C", tokens[3], t0 + 900) == "checked_in"
    assert fleet.sync("C")["ok"]
    assert fleet.scan("A", tokens[0], t0 + 2 * HOUR) == "checked_out"
    assert fleet.sync("A")["ok"]
    assert fleet.scan("B", tokens[1], t0 + 2 * HOUR) == "checked_out"
    assert fleet.sync("B")["ok"]
    # C, of another station, pushes a check-out of A's session of V0 (a second one) and of V2.
    [(v2_at_a,)] = center.query("SELECT id FROM sessions WHERE vid = 'V00002' ORDER BY check_in_at LIMIT 1")
    fleet.record("C", "checkout", {"session_id": v2_at_a, "vid": "V00002", "at": t0 + 9 * HOUR,
                                   "minutes": 0, "flags": [], "closed_by": "scan"})
    assert fleet.scan("C", tokens[3], t0 + 7 * HOUR) == "checked_out"  # late: after the automatic close
    assert fleet.sync("C")["ok"]
    proxy.set("pass")
    for name in "ABC":
        assert fleet.sync(name)["ok"]

    # Every event exactly once: what each kiosk holds as stored is on the server once, and the
    # refused one is refused with its code, kept at C.
    stored = [i for name in "ABC" for i, status, _ in fleet.outbox[name] if status == "stored"]
    on_server = [r[0] for r in center.query("SELECT id FROM events")]
    assert sorted(stored) == sorted(on_server) and len(on_server) == len(set(on_server))
    refused = [(code) for name in "ABC" for _, status, code in fleet.outbox[name] if status == "refused"]
    assert refused == ["wrong_station"]

    sessions = {}
    for vid, station, minutes, flags, state in center.query(
            "SELECT vid, s.station, minutes, flags, state FROM sessions s ORDER BY check_in_at"):
        sessions.setdefault(vid, []).append((station, minutes, set(filter(None, flags.split(","))), state))
    (v0,) = sessions["V00000"]
    assert (v0[1], v0[3]) == (120, "closed")
    a_open, b_closed = sessions["V00001"]          # A's session still open; B's credited 1 h
    assert (a_open[1], a_open[3]) == (None, "open") and (b_closed[1], b_closed[3]) == (60, "closed")
    assert a_open[0] == b_closed[0]                # both at station 文博苑社区
    first, second = sessions["V00002"]
    assert first[0] != second[0] and "two_stations" in first[2] and "two_stations" in second[2]
    assert first[3] == "open" and second[3] == "open"   # C's forged check-out changed nothing
    (late,) = sessions["V00003"]
    assert (late[3], late[1]) == ("review", 405) and {"auto_closed", "late_checkout"} <= late[2]
    assert center.stats()["sessions"] == {"open": 3, "closed": 2, "review": 1}
