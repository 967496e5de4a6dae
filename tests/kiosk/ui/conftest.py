"""UI journeys drive the real app under Xvfb: one virtual display per test session, one app
process per journey (Kivy opens one window per process), journeys run two at a time."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def xdisplay():
    """DISPLAY of a private Xvfb server (started here, stopped at the end of the session)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    for number in range(120, 160):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    proc = subprocess.Popen([xvfb, f":{number}", "-screen", "0", "1920x1920x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("Xvfb did not start")
        time.sleep(0.05)
    yield f":{number}"
    proc.terminate()
    proc.wait(5)


class Journey:
    def __init__(self, folder: Path, result: dict, log: str, returncode: int):
        self.folder, self.result, self.log, self.returncode = folder, result, log, returncode

    def rows(self, sql: str, *args) -> list[tuple]:
        with sqlite3.connect(self.folder / "kiosk.db") as con:
            return con.execute(sql, args).fetchall()

    def __getitem__(self, key):
        return self.result[key]


def run_journey(display: str, folder: Path, name: str, size: str = "1280x800", lang: str = "zh_CN",
                env: dict | None = None, timeout: float = 120) -> Journey:
    folder.mkdir(parents=True, exist_ok=True)
    environ = dict(os.environ, DISPLAY=display, WEIGUANG_NO_SOUND="1", KIVY_NO_CONSOLELOG="1",
                   PYTHONPATH=str(ROOT), **(env or {}))
    proc = subprocess.run([sys.executable, "-m", "tests.kiosk.ui.harness", "--journey", name, "--dir", str(folder),
                           "--size", size, "--lang", lang], cwd=ROOT, env=environ, capture_output=True, text=True,
                          timeout=timeout)
    result_file = folder / "result.json"
    result = json.loads(result_file.read_text()) if result_file.exists() else {"error": "no result"}
    return Journey(folder, result, proc.stdout[-4000:] + proc.stderr[-4000:], proc.returncode)


JOURNEYS = ["sync_down_up", "check_in_out", "held_20s", "refusals", "two_open", "browse", "coordinator_unlock", "correct_time",
            "status_and_rating"]


@pytest.fixture(scope="session")
def journeys(xdisplay, tmp_path_factory):
    """All journeys, run once per session, two at a time; name -> Journey."""
    base = tmp_path_factory.mktemp("journeys")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(run_journey, xdisplay, base / name, name) for name in
                   sorted(JOURNEYS, key=lambda n: n != "held_20s")}   # the long one first
        return {name: f.result() for name, f in futures.items()}


def ok(journey: Journey) -> Journey:
    assert journey.result.get("error") is None, f"{journey.result.get('error')}\n{journey.log}"
    return journey
