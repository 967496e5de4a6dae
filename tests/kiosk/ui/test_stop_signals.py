"""`systemctl stop` sends SIGTERM: the kiosk stops by itself within seconds (the kiosk lock
refuses a passer-by's window close, not the system's request). SIGINT likewise."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.ui


def _start_kiosk(display: str, tmp_path):
    db = tmp_path / "kiosk.db"
    subprocess.run([sys.executable, "-m", "kiosk.cli", "kiosk", "init", "--db", str(db), "--station", "文博苑社区"],
                   check=True, capture_output=True, timeout=60)
    log = tmp_path / "kiosk.log"
    env = dict(os.environ, DISPLAY=display, WEIGUANG_NO_SOUND="1")
    process = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "kiosk", "run", "--db", str(db)],
                               stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 60
    while "main loop" not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text(errors="replace")
        assert time.time() < deadline, "the kiosk did not start"
        time.sleep(0.2)
    time.sleep(1.0)   # the first frames
    return process, log


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_kiosk_stops_cleanly_on_a_system_signal(xdisplay, tmp_path, signum):
    process, log = _start_kiosk(xdisplay, tmp_path)
    try:
        process.send_signal(signum)
        assert process.wait(15) == 0, log.read_text(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
    text = log.read_text(errors="replace")
    assert re.search(r"stopping\W+" + signal.Signals(signum).name, text) and "Traceback" not in text
    assert "STREAM b'" not in text      # no Pillow DEBUG line per frame chunk
