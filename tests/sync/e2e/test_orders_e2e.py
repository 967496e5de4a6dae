"""`weiguang kiosk request` on enrolled kiosks against a real `weiguang server run`: the JSON
contract, and numbers that stay apart for kiosks whose device ids share a prefix."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.sync.e2e.conftest import SERVER_CLI, weiguang, weiguang_json

pytestmark = pytest.mark.skipif(not SERVER_CLI.exists(), reason="the server (sync/server/cli.py) is missing")


def kiosk(center, tmp_path, name: str, device_id: str):
    db = tmp_path / f"{name}.db"
    weiguang("kiosk", "init", "--db", db, "--station", "文博苑社区", "--keys", center.data / "keys")
    conn = sqlite3.connect(db)   # the id `kiosk init` made, replaced by one sharing a prefix
    with conn:
        conn.execute("UPDATE setting SET value = ? WHERE key = 'device_id'", (json.dumps(device_id),))
    conn.close()
    return db


def test_request_contract_and_numbers_unique_across_kiosks(center, proxy, tmp_path):
    dbs = [kiosk(center, tmp_path, name, f"abcd{n}-1111-4111-8111-111111111111")
           for name, n in (("one", "1234"), ("two", "5678"))]
    standalone = weiguang_json("kiosk", "request", "--db", dbs[0], "--service", "理发", "--phone", "13912345678")
    enrolments = [weiguang_json("kiosk", "enroll", "--db", db, "--server", proxy.url, center.code()) for db in dbs]
    assert [e["kiosk_number"] for e in enrolments] == [1, 2]
    orders = [weiguang_json("kiosk", "request", "--db", db, "--service", "理发", "--phone", "13912345678",
                            "--note", "上门") for db in dbs]
    refused = weiguang_json("kiosk", "request", "--db", dbs[1], "--service", "理发", "--phone", "123")
    assert standalone["result"] == "queued" and "-LABCD12-" in standalone["number"]
    assert [o["result"] for o in orders] == ["queued", "queued"]
    assert [o["number"].split("-")[1:] for o in orders] == [["1", "001"], ["2", "001"]]
    assert refused == {"result": "refused", "code": "bad_phone", "number": None}
    for db in dbs:
        assert weiguang_json("sync", "--db", db)["ok"]
    numbers = sorted(n for (n,) in center.query("SELECT number FROM service_requests"))
    assert numbers == sorted([standalone["number"], *(o["number"] for o in orders)])
