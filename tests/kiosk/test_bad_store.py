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


# --- read-only, unreadable, a full disk (issue 11): real file systems, not stand-ins ------------
#
# The runner is root, for whom file modes are no obstacle: a small tmpfs is mounted for each
# case (remounted read-only; filled up), and "unreadable" runs the command as the user nobody.
# Without the right to mount (an unprivileged runner) these cases are skipped, said so.

import contextlib
import shutil
import tempfile

def _can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = tempfile.mkdtemp(prefix="wg-mount-probe-")
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", probe], check=True)
        return ok
    finally:
        os.rmdir(probe)


needs_mount = pytest.mark.skipif(not _can_mount(), reason="mounting a small tmpfs needs root (CAP_SYS_ADMIN)")


@contextlib.contextmanager
def small_disk(size_kb: int = 600):
    """A tmpfs of `size_kb`, world-traversable (mode 1777), unmounted afterwards."""
    where = Path(tempfile.mkdtemp(prefix="wg-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=1777", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        db.close()
        subprocess.run(["umount", "-l", str(where)], check=True)
        os.rmdir(where)


def fill(disk: Path) -> None:
    fd = os.open(disk / "filler", os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def kiosk_with_badge(disk: Path, tmp_path: Path) -> tuple[Path, str]:
    keys = tmp_path / "keys"
    assert weiguang("keys", "init", "--dir", keys).returncode == 0
    path = disk / "kiosk.db"
    assert weiguang("kiosk", "init", "--db", path, "--station", "文博苑社区", "--keys", keys).returncode == 0
    token = weiguang("badge", "issue", "--keys", keys, "--vid", "14020200001", "--name", "林建国", "--out", "-")
    return path, token.stdout.strip()


def one_sentence(done, *words):
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr and "cannot rollback" not in done.stderr
    lines = [l for l in done.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("weiguang: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]


@needs_mount
def test_a_read_only_file_system_says_so_for_scan_and_run(tmp_path):
    with small_disk() as disk:
        path, token = kiosk_with_badge(disk, tmp_path)
        before = path.read_bytes()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        one_sentence(weiguang("kiosk", "scan", "--db", path, token), "read-only", str(path))
        one_sentence(weiguang("kiosk", "run", "--db", path), "read-only")
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        assert path.read_bytes() == before


@needs_mount
@pytest.mark.skipif(not shutil.which("setpriv"), reason="setpriv (util-linux) runs the command as nobody")
def test_a_database_this_user_cannot_read_says_so(tmp_path):
    with small_disk() as disk:
        path, token = kiosk_with_badge(disk, tmp_path)
        os.chmod(tmp_path, 0o755)
        as_nobody = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]   # util-linux
        done = subprocess.run([*as_nobody, sys.executable, "-m", "kiosk.cli", "kiosk", "scan", "--db", str(path), token],
                              capture_output=True, text=True, timeout=60, cwd=str(ROOT))
        one_sentence(done, "cannot be read", str(path))


@needs_mount
def test_a_full_disk_at_start_says_so_and_records_nothing(tmp_path):
    with small_disk() as disk:
        path, token = kiosk_with_badge(disk, tmp_path)
        fill(disk)
        one_sentence(weiguang("kiosk", "scan", "--db", path, token), "is full", str(path))
        (disk / "filler").unlink()
        assert weiguang("kiosk", "scan", "--db", path, token).returncode == 0   # space again: it works


@needs_mount
def test_a_disk_that_fills_while_running_names_the_real_reason(tmp_path):
    """The real "database or disk is full", not "cannot rollback - no transaction is active"
    from the rollback SQLite had already done; the rows written before stay."""
    from kiosk.attendance import Attendance
    with small_disk() as disk:
        path, token = kiosk_with_badge(disk, tmp_path)
        store = open_store(path)
        desk = Attendance(store)
        assert desk.scan(token, at=1_796_000_000).result == "checked_in"
        fill(disk)
        with pytest.raises(StoreError) as failed:
            desk.scan(token, at=1_796_007_200)
        assert "is full" in str(failed.value) and "rollback" not in str(failed.value)
        (disk / "filler").unlink()
        db.close()
        store = open_store(path)
        from kiosk.store import Session
        assert [(s.check_in_at, s.check_out_at) for s in Session.select()] == [(1_796_000_000, None)]
        assert Attendance(store).scan(token, at=1_796_007_300).result == "checked_out"


def test_an_empty_file_starts_no_window_and_no_new_kiosk(tmp_path):
    path = tmp_path / "kiosk.db"
    path.write_bytes(b"")
    one_sentence(weiguang("kiosk", "run", "--db", path), "empty file")
    assert path.stat().st_size == 0


@pytest.mark.parametrize("zone", ["Asia/Beijing", "Mars/Olympus", "../../etc/passwd", ""])
def test_bad_time_zones_are_refused_at_init(tmp_path, zone):
    done = weiguang("kiosk", "init", "--db", tmp_path / "k.db", "--station", "文博苑社区", "--timezone", zone)
    one_sentence(done, "time zone")
    assert not (tmp_path / "k.db").exists()


def test_an_unknown_zone_from_the_center_does_not_stop_the_scans(tmp_path):
    """An older center that did not check its sites' zones sends "Mars/Olympus": the kiosk
    keeps the zone it had, and scans go on."""
    from sync.protocol import Change
    from kiosk.attendance import Attendance
    from kiosk.store import TrustedKey
    from sync.badges import generate_key, issue, public_key_b64
    store = open_store(tmp_path / "k.db")
    key = generate_key()
    TrustedKey.create(kid=key.kid, public_key=public_key_b64(key.public_key))
    store.settings.set(station={"code": "WBY", "name": "文博苑社区", "timezone": "Asia/Urumqi"})
    store.apply_changes([Change(kind="station", key="WBY", version=1,
                                data={"code": "WBY", "name": "文博苑社区（新）", "timezone": "Mars/Olympus"})], 1)
    assert store.settings.get("station") == {"code": "WBY", "name": "文博苑社区（新）", "timezone": "Asia/Urumqi"}
    assert Attendance(store).scan(issue(key, "14020200001", 1)).result == "checked_in"
    db.close()
