"""Several server workers on PostgreSQL: a real `weiguang server run --workers 2` process
(uvicorn's supervisor and two worker processes on one port) against a real PostgreSQL
database (tests/conftest.py's cluster). The same batches go through both workers at once,
for one device and for several: every event is stored once, every session once, and
every push is answered (stored or duplicate, never an error). On SQLite the command
refuses --workers 2 with a clear message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg2
import pytest
import requests

from tests.conftest import reset_postgres
from tests.sync.e2e.conftest import WEIGUANG, child_env, free_port

T0 = 1_760_000_000


def env_for(url: str | None) -> dict:
    env = child_env()
    if url:
        env["DATABASE_URL"] = url
    return env


def cli(*args, url: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([*WEIGUANG, *map(str, args)], capture_output=True, text=True, timeout=120, env=env_for(url))
    if check:
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


class Workers:
    """`weiguang server run --workers N` on PostgreSQL."""

    def __init__(self, data: Path, url: str, workers: int):
        self.data, self.url_db, self.workers, self.port = data, url, workers, free_port()
        cli("server", "init", "--data", data, "--admin-password", "e2e-admin-pw", url=url)
        sites = data / "sites.csv"
        sites.write_text("code,name,tier,parent\nPC,平城区新时代文明实践中心,center,\n"
                         "PC-XJNL,新建南路街道新时代文明实践所,institute,PC\nWBY,文博苑社区,station,PC-XJNL\n",
                         encoding="utf-8")
        cli("server", "sites", "import", "--data", data, sites, url=url)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Workers":
        self.log = open(self.data / "server.log", "ab")
        self.process = subprocess.Popen([*WEIGUANG, "server", "run", "--data", str(self.data), "--port",
                                         str(self.port), "--workers", str(self.workers)],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=env_for(self.url_db))
        deadline = time.time() + 90
        while True:
            assert self.process.poll() is None, (self.data / "server.log").read_text()
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            assert time.time() < deadline, "the workers did not answer /api/v1/health"
            time.sleep(0.2)
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.log.close()

    def enrol(self) -> tuple[str, str]:
        code = json.loads(cli("server", "code", "--data", self.data, "--station", "文博苑社区", "--json",
                              url=self.url_db).stdout.splitlines()[-1])["code"]
        answer = requests.post(self.url + "/api/v1/devices/enroll", json={"code": code}, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()["device_id"], answer.json()["token"]

    def push_pids(self) -> set[int]:
        """The worker processes that answered pushes (their access log lines)."""
        pids = set()
        for line in (self.data / "server.log").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{") and '"/api/v1/events"' in line:
                entry = json.loads(line)
                if entry.get("path") == "/api/v1/events" and entry.get("status") == 200:
                    pids.add(entry["pid"])
        return pids


def event(device_id: str, seq: int, kind: str, payload: dict) -> dict:
    return {"id": str(uuid.uuid4()), "device_id": device_id, "seq": seq, "type": kind,
            "device_time": "2025-10-09T08:00:00+00:00", "clock_offset_ms": 0, "payload": payload}


def batches_for(device_id: str, volunteers: int) -> list[list[dict]]:
    """Check-ins, then their check-outs an hour later, in two batches."""
    sessions = [(str(uuid.uuid4()), f"V{device_id[:4]}{i:04d}") for i in range(volunteers)]
    checkins = [event(device_id, i + 1, "checkin", {"session_id": s, "vid": v, "serial": 1, "at": T0})
                for i, (s, v) in enumerate(sessions)]
    checkouts = [event(device_id, volunteers + i + 1, "checkout",
                       {"session_id": s, "vid": v, "at": T0 + 3600, "minutes": 60, "closed_by": "scan"})
                 for i, (s, v) in enumerate(sessions)]
    return [checkins, checkouts]


def push_all_at_once(url: str, sends: list[tuple[str, list[dict]]]) -> list[dict]:
    """Every (token, batch) on its own connection, released together; the answers."""
    answers: list[dict | None] = [None] * len(sends)
    go = threading.Barrier(len(sends))

    def send(i: int, token: str, batch: list[dict]) -> None:
        with requests.Session() as http:    # a connection of its own: the kernel picks the worker
            go.wait(30)
            for _ in range(10):             # a 429/503 is an answer to retry, not a failure
                answer = http.post(url + "/api/v1/events", json={"events": batch}, timeout=60,
                                   headers={"Authorization": f"Bearer {token}"})
                if answer.status_code not in (429, 503):
                    break
                time.sleep(0.2)
            answers[i] = {"status": answer.status_code, "body": answer.json()}
    threads = [threading.Thread(target=send, args=(i, t, b)) for i, (t, b) in enumerate(sends)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def test_the_same_batches_through_two_workers_store_every_event_and_session_once(postgres_url, tmp_path):
    reset_postgres(postgres_url)
    with Workers(tmp_path / "center", postgres_url, workers=2) as center:
        kiosks = [center.enrol() for _ in range(4)]
        plans = {device: batches_for(device, 60) for device, _ in kiosks}
        every_id = {e["id"] for batches in plans.values() for b in batches for e in b}
        for step in range(2):               # check-ins, then check-outs
            for round_ in range(3):         # the same batches again: duplicates, through either worker
                sends = []
                for device, token in kiosks:
                    batch = plans[device][step]
                    # one device's batch four times at once, on four connections; the other
                    # devices' batches beside it
                    sends += [(token, batch)] * 4
                answers = push_all_at_once(center.url, sends)
                for answer in answers:
                    assert answer and answer["status"] == 200, answer
                    statuses = {r["status"] for r in answer["body"]["results"]}
                    assert statuses <= {"stored", "duplicate"}, answer["body"]
                # of the copies of one batch sent at once, each event is "stored" in exactly one answer
                for device, token in kiosks:
                    copies = [a for (t, _), a in zip(sends, answers) if t == token]
                    stored = [r["id"] for a in copies for r in a["body"]["results"] if r["status"] == "stored"]
                    assert len(stored) == len(set(stored))
                    if round_ == 0:
                        assert set(stored) == {e["id"] for e in plans[device][step]}
                    else:
                        assert stored == []
        served_by = center.push_pids()

    assert len(served_by) >= 2, f"every push was served by one worker ({served_by}): not a test of two"
    with psycopg2.connect(postgres_url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT id, COUNT(*) FROM events GROUP BY id")
        rows = cursor.fetchall()
        assert all(n == 1 for _, n in rows) and {i for i, _ in rows} == every_id
        cursor.execute("SELECT id, check_out_at, minutes FROM sessions")
        sessions = cursor.fetchall()
    conn.close()
    expected = {e["payload"]["session_id"] for b in plans.values() for e in b[0]}
    assert len(sessions) == len(expected) and {s[0] for s in sessions} == expected
    assert all(s[1] == T0 + 3600 and s[2] == 60 for s in sessions), sessions[:3]


def test_sqlite_refuses_several_workers_with_a_reason(tmp_path):
    data = tmp_path / "center"
    cli("server", "init", "--data", data, "--admin-password", "e2e-admin-pw")
    done = cli("server", "run", "--data", data, "--port", str(free_port()), "--workers", "2", check=False)
    assert done.returncode == 2
    assert "PostgreSQL" in done.stderr and "single writer" in done.stderr
