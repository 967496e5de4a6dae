"""Failed scans from a real kiosk to a real `weiguang server run` (issue 11): a revoked badge
(revoked at the center, pulled by the kiosk), an expired badge and a foreign code each leave
one failed-scan row at the kiosk, which reaches the center and its fleet page; a foreign
code's text reaches neither."""

from __future__ import annotations

import sqlite3

import pytest
import requests

from tests.sync.e2e.conftest import SERVER_CLI, weiguang, weiguang_json

pytestmark = pytest.mark.skipif(not SERVER_CLI.exists(), reason="the server (sync/server/cli.py) is missing")

FOREIGN = "https://qr.alipay.com/fkx0secret-payment-code"


def test_revoked_expired_and_foreign_reach_the_center_once_each(center, proxy, tmp_path):
    data = center.data
    weiguang("server", "user", "add", "--data", data, "--username", "wby", "--site", "WBY", "--role", "coordinator",
             "--password", "correct horse battery")
    token = weiguang_json("server", "token", "--data", data, "--username", "wby", "--json")["token"]
    auth = {"Authorization": f"Bearer {token}"}

    def call(method, path, headers=None, **kw):
        answer = requests.request(method, center.url + path, headers={**auth, **(headers or {})}, timeout=30, **kw)
        assert answer.status_code == 200, answer.text
        return answer.json()

    call("POST", "/api/v1/volunteers/import?site=WBY", data="vid,name\n14020200006,王秀英\n".encode(),
         headers={"Content-Type": "text/csv"})
    issued = call("POST", "/api/v1/badges/14020200006/issue", json={})
    call("POST", "/api/v1/badges/14020200006/revoke", json={"reason": "丢失"})
    roster = tmp_path / "old.csv"
    roster.write_text("vid,name\n14020200007,李桂兰\n", encoding="utf-8")
    expired = weiguang("badge", "issue", "--keys", data / "keys", "--csv", roster, "--expires", "2024-12-31",
                       "--out", "-").stdout.split()[0]

    kiosk = tmp_path / "kiosk.db"
    weiguang("kiosk", "init", "--db", kiosk, "--station", "文博苑社区", "--keys", data / "keys")
    assert weiguang_json("kiosk", "enroll", "--db", kiosk, "--server", proxy.url, center.code())["enrolled"]
    assert weiguang_json("sync", "--db", kiosk)["ok"]              # the revocation reaches the kiosk
    answers = [weiguang_json("kiosk", "scan", "--db", kiosk, text) for text in (issued["token"], expired, FOREIGN)]
    assert [(a["result"], a["code"]) for a in answers] == [("refused", "revoked"), ("refused", "expired"),
                                                          ("refused", "foreign")]
    with sqlite3.connect(kiosk) as conn:
        at_kiosk = conn.execute("SELECT id, code, vid, serial FROM failed_scans ORDER BY at, code").fetchall()
    assert sorted(r[1:] for r in at_kiosk) == [("expired", "14020200007", issued["serial"] + 1), ("foreign", None, None),
                                               ("revoked", "14020200006", issued["serial"])]
    assert weiguang_json("sync", "--db", kiosk)["ok"]
    assert weiguang_json("sync", "--db", kiosk)["ok"]              # a second round sends nothing twice
    at_center = center.query("SELECT id, code, vid, serial, station FROM failed_scans")
    assert sorted(r[:4] for r in at_center) == sorted(at_kiosk)
    assert {r[4] for r in at_center} == {"WBY"}
    assert center.query("SELECT COUNT(*) FROM events WHERE type = 'failed_scan'") == [(3,)]
    raw = (data / "weiguang.db").read_bytes() + (kiosk.read_bytes())
    for wal in (data / "weiguang.db-wal", kiosk.with_name("kiosk.db-wal")):
        raw += wal.read_bytes() if wal.exists() else b""
    assert b"fkx0secret" not in raw

    # The fleet page lists them, in the coordinator's language.
    session = requests.Session()
    page = session.get(center.url + "/login", timeout=30)
    assert page.ok
    import re
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    session.post(center.url + "/login", data={"username": "wby", "password": "correct horse battery",
                                              "csrf_token": csrf}, timeout=30)
    fleet = session.get(center.url + "/fleet", timeout=30)
    assert fleet.ok and 'id="failed-scans"' in fleet.text
    assert fleet.text.count('class="failed-scan"') == 3
    assert "证件已挂失" in fleet.text and "14020200006" in fleet.text and "fkx0secret" not in fleet.text


def test_an_event_type_the_server_does_not_know_is_refused_alone(center, proxy, tmp_path):
    """A newer kiosk's new kind of event is refused per event (unknown_type), the rest of the
    batch stored: one new kind never stops a kiosk's whole outbox."""
    from kiosk.attendance import Attendance
    from kiosk.store import OutboxEvent, db, open_store
    kiosk = tmp_path / "kiosk.db"
    weiguang("kiosk", "init", "--db", kiosk, "--station", "文博苑社区", "--keys", center.data / "keys")
    assert weiguang_json("kiosk", "enroll", "--db", kiosk, "--server", proxy.url, center.code())["enrolled"]
    store = open_store(kiosk)
    store.record("hologram_scan", {"at": 1})
    Attendance(store).scan(FOREIGN)
    db.close()

    def states():
        open_store(kiosk)
        found = {e.type: (e.status, e.code) for e in OutboxEvent.select()}
        db.close()
        return found
    weiguang("sync", "--db", kiosk, check=False)
    # The failed scan waits until the center says it takes failed scans (its first pull's answer):
    # an older center would refuse the whole batch holding one.
    assert states() == {"hologram_scan": ("refused", "unknown_type"), "failed_scan": ("pending", None)}
    weiguang("sync", "--db", kiosk, check=False)
    assert states() == {"hologram_scan": ("refused", "unknown_type"), "failed_scan": ("stored", None)}
