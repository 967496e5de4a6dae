"""End-to-end harness: a real `weiguang server run` subprocess on 127.0.0.1, the fault proxy
in front of it, and kiosks made with the real CLI (`kiosk init`, `kiosk enroll`).

The server's own database is read directly (read-only sqlite3) to check that every event
is there exactly once; `weiguang server stats --json` is checked too, as the contract.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.sync.e2e.faultproxy import FaultProxy

SERVER_CLI = Path(__file__).resolve().parents[3] / "sync" / "server" / "cli.py"
WEIGUANG = [sys.executable, "-m", "kiosk.cli"]


def weiguang(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    done = subprocess.run([*WEIGUANG, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=child_env())
    if check and done.returncode != 0:
        raise AssertionError(f"weiguang {' '.join(map(str, args))} exited {done.returncode}:\n"
                             f"{done.stdout}\n{done.stderr}")
    return done


def weiguang_json(*args: str) -> dict:
    """The last JSON line a command printed."""
    lines = [line for line in weiguang(*args).stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def child_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(SERVER_CLI.parents[2])
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Center:
    """`weiguang server run` as a child process; killed, restarted, inspected."""

    def __init__(self, data: Path):
        self.data = data
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        weiguang("server", "init", "--data", data, "--admin-password", "e2e-admin-pw")
        sites = data / "sites.csv"       # the network: a kiosk can only be enrolled at a known station
        sites.write_text("code,name,tier,parent\nPC,平城区新时代文明实践中心,center,\n"
                         "PC-XJNL,新建南路街道新时代文明实践所,institute,PC\nWBY,文博苑社区,station,PC-XJNL\n"
                         "DGJ,东关街站,station,PC-XJNL\n",
                         encoding="utf-8")
        weiguang("server", "sites", "import", "--data", data, sites)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: float = 30) -> "Center":
        log = open(self.data / "server.log", "ab")
        self.process = subprocess.Popen([*WEIGUANG, "server", "run", "--data", str(self.data), "--port",
                                         str(self.port)], stdout=log, stderr=subprocess.STDOUT, env=child_env())
        deadline = time.time() + wait
        while time.time() < deadline:
            assert self.process.poll() is None, f"the server exited:\n{(self.data / 'server.log').read_text()}"
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError("the server did not answer /api/v1/health")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, as a power cut."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def code(self, station: str = "文博苑社区") -> str:
        return weiguang_json("server", "code", "--data", self.data, "--station", station, "--json")["code"]

    def stats(self) -> dict:
        return weiguang_json("server", "stats", "--data", self.data, "--json")

    def query(self, sql: str, *params) -> list[tuple]:
        with sqlite3.connect(f"file:{self.data / 'weiguang.db'}?mode=ro", uri=True, timeout=30) as conn:
            return conn.execute(sql, params).fetchall()

    def event_ids(self) -> list[str]:
        """Every stored event id, repeats included (the primary key forbids them; we still look)."""
        return [row[0] for row in self.query("SELECT id FROM events")]


@pytest.fixture
def center(tmp_path):
    center = Center(tmp_path / "center")
    center.start()
    yield center
    center.stop()


@pytest.fixture
def proxy(center):
    with FaultProxy(center.port) as proxy:
        yield proxy


@pytest.fixture
def badges(center, tmp_path):
    """Badge tokens signed by the center's keys, one per volunteer, made on demand."""
    def make(n: int) -> list[str]:
        roster = tmp_path / f"roster{n}.csv"
        roster.write_text("vid,name\n" + "".join(f"V{i:05d},志愿者{i}\n" for i in range(n)), encoding="utf-8")
        done = weiguang("badge", "issue", "--keys", center.data / "keys", "--csv", roster, "--out", "-")
        return done.stdout.split()
    return make


@pytest.fixture
def kiosk_db(center, proxy, tmp_path):
    """A kiosk database made and enrolled through the proxy with the real CLI."""
    db = tmp_path / "kiosk.db"
    weiguang("kiosk", "init", "--db", db, "--station", "文博苑社区", "--keys", center.data / "keys")
    answer = weiguang_json("kiosk", "enroll", "--db", db, "--server", proxy.url, center.code())
    assert answer["enrolled"], answer
    return db


@pytest.fixture
def kiosk_store(kiosk_db):
    from kiosk.store import db, open_store
    store = open_store(kiosk_db)
    yield store
    db.close()


def scan_all(store, tokens: list[str], at: int | None = None) -> list[str]:
    """Each token scanned once (a check-in each); the outbox ids in order."""
    from kiosk.attendance import Attendance
    from kiosk.store import OutboxEvent
    desk = Attendance(store)
    for token in tokens:
        assert desk.scan(token, at=at).result == "checked_in"
    return [row.id for row in OutboxEvent.select(OutboxEvent.id).order_by(OutboxEvent.seq)]


def assert_exactly_once(center: Center, ids: list[str]) -> None:
    stored = center.event_ids()
    assert len(stored) == len(set(stored)) and set(stored) == set(ids), \
        f"{len(stored)} stored, {len(set(ids) - set(stored))} missing, {len(set(stored) - set(ids))} extra"
