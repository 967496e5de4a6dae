"""A kiosk database that cannot be used is said so plainly, by the CLI and by `open_store`:
damaged, empty; and a new one is private to its owner (issue 11, bad input)."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.store import StoreError, db, open_store

ROOT = Path(__file__).resolve().parents[2]


def weiguang(*args):
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def test_a_new_kiosk_database_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "kiosk.db"
    open_store(path)
    db.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_empty_file_is_not_taken_as_a_new_kiosk(tmp_path):
    path = tmp_path / "kiosk.db"
    path.write_bytes(b"")
    with pytest.raises(StoreError, match="empty file"):
        open_store(path)
    done = weiguang("kiosk", "scan", "--db", path, "WG1:X")
    assert done.returncode == 2 and "empty file" in done.stderr and "Traceback" not in done.stderr
    assert path.stat().st_size == 0      # nothing written into it


def test_a_damaged_file_says_so_without_a_traceback(tmp_path):
    path = tmp_path / "kiosk.db"
    path.write_bytes(os.urandom(8192))
    done = weiguang("kiosk", "scan", "--db", path, "WG1:X")
    assert done.returncode == 2 and "damaged" in done.stderr and "Traceback" not in done.stderr


def test_an_unknown_time_zone_is_refused_at_init(tmp_path):
    done = weiguang("kiosk", "init", "--db", tmp_path / "k.db", "--station", "文博苑社区", "--timezone", "Asia/Beijing")
    assert done.returncode == 2 and "Asia/Shanghai" in done.stderr
    assert not (tmp_path / "k.db").exists()
