"""Privacy at rest (issue 11): after a roster pull and a request sync, the kiosk's database
file holds no phone number; the kiosk's and the center's databases and their -wal/-shm
files are readable by their owner only."""

from __future__ import annotations

import stat

import pytest

from tests.sync.e2e.conftest import SERVER_CLI, weiguang, weiguang_json

pytestmark = pytest.mark.skipif(not SERVER_CLI.exists(), reason="the server (sync/server/cli.py) is missing")

ROSTER_PHONES = ("13911112222", "13733334444")
ORDER_PHONE = "15866667777"


def raw(path) -> bytes:
    out = path.read_bytes()
    for suffix in ("-wal", "-journal"):
        extra = path.with_name(path.name + suffix)
        out += extra.read_bytes() if extra.exists() else b""
    return out


def test_no_phone_number_at_the_kiosk_after_a_roster_pull_and_a_request_sync(center, proxy, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("vid,name,team,role,phone\n" + "".join(
        f"1402020000{i},志愿者{i},邻里关照志愿服务队,volunteer,{p}\n" for i, p in enumerate(ROSTER_PHONES)),
        encoding="utf-8")
    weiguang("server", "user", "add", "--data", center.data, "--username", "wby", "--site", "WBY",
             "--password", "correct horse battery")
    import requests
    token = weiguang_json("server", "token", "--data", center.data, "--username", "wby", "--json")["token"]
    answer = requests.post(center.url + "/api/v1/volunteers/import?site=WBY", data=roster.read_bytes(), timeout=30,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert center.query("SELECT COUNT(*) FROM volunteer WHERE phone != ''") == [(2,)]   # the center keeps them

    kiosk = tmp_path / "kiosk.db"
    weiguang("kiosk", "init", "--db", kiosk, "--station", "文博苑社区", "--keys", center.data / "keys",
             "--roster", roster)                                   # a roster CSV with phones, at init too
    assert weiguang_json("kiosk", "enroll", "--db", kiosk, "--server", proxy.url, center.code())["enrolled"]
    weiguang_json("kiosk", "request", "--db", kiosk, "--service", "理发", "--phone", ORDER_PHONE)
    assert weiguang_json("sync", "--db", kiosk)["ok"]
    import sqlite3
    with sqlite3.connect(kiosk) as conn:
        assert conn.execute("SELECT COUNT(*) FROM volunteer").fetchone() == (2,)          # the roster came
        assert conn.execute("SELECT COUNT(*) FROM volunteer WHERE phone != ''").fetchone() == (0,)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = raw(kiosk)
    for phone in (*ROSTER_PHONES, ORDER_PHONE):
        assert phone.encode() not in data, f"{phone} is in the kiosk's database file"

    # Modes: the kiosk's files and the center's, -wal and -shm included.
    files = [kiosk, *(kiosk.with_name(kiosk.name + s) for s in ("-wal", "-shm")),
             *(center.data / f"weiguang.db{s}" for s in ("", "-wal", "-shm"))]
    present = [f for f in files if f.exists()]
    assert kiosk in present and center.data / "weiguang.db-wal" in present
    assert {f.name: oct(stat.S_IMODE(f.stat().st_mode)) for f in present} == \
        {f.name: "0o600" for f in present}


def test_an_older_kiosk_forgets_roster_phones_and_an_older_center_is_not_listened_to(tmp_path):
    """A kiosk database of before (phones in its roster, 0644) is cleaned when opened; a
    volunteer change that still carries a phone (an older center) leaves none."""
    import os
    import sqlite3

    from kiosk.store import Migration, db, open_store
    from sync.protocol import Change
    path = tmp_path / "old.db"
    store = open_store(path)
    Migration.delete().where(Migration.name == "0005_failed_scans").execute()
    db.execute_sql("INSERT INTO volunteer (vid, name, team, role, phone) VALUES ('V1', '林建国', '', 'volunteer', "
                   "'13911112222')")
    db.close()
    os.chmod(path, 0o644)
    store = open_store(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    store.apply_changes([Change(kind="volunteer", key="V2", version=1,
                                data={"name": "王芳", "team": "", "role": "volunteer", "phone": "13733334444"})], 1)
    db.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT vid, phone FROM volunteer ORDER BY vid").fetchall() == [("V1", ""), ("V2", "")]
