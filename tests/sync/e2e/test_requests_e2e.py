"""Service requests between real kiosks and a real `weiguang server run`: two kiosks of one
station ordering offline in the same second get numbers that stay apart, and once the
center holds an order its phone number is gone from the kiosk's database file."""

from __future__ import annotations

import time

import pytest

from tests.sync.e2e.conftest import SERVER_CLI, weiguang, weiguang_json

pytestmark = pytest.mark.skipif(not SERVER_CLI.exists(), reason="the server (sync/server/cli.py) is missing")

PHONES = ("13812348000", "15998761234")


def file_bytes(db) -> bytes:
    """The database and its write-ahead log, as a thief with the disk would read them."""
    out = db.read_bytes()
    for suffix in ("-wal", "-journal"):
        extra = db.with_name(db.name + suffix)
        if extra.exists():
            out += extra.read_bytes()
    return out


def test_two_kiosks_offline_in_the_same_second_then_phones_leave_the_kiosks(center, proxy, tmp_path):
    from kiosk.orders import take_order
    from kiosk.store import ServiceRequest, db, open_store
    dbs = [tmp_path / f"k{i}.db" for i in (1, 2)]
    for path in dbs:
        weiguang("kiosk", "init", "--db", path, "--station", "文博苑社区", "--keys", center.data / "keys")
        assert weiguang_json("kiosk", "enroll", "--db", path, "--server", proxy.url, center.code())["enrolled"]
    # Offline: the center is down while both kiosks take an order in the same second.
    center.stop()
    second = int(time.time())
    numbers = []
    for path, phone in zip(dbs, PHONES):
        store = open_store(path, clock=lambda: second)
        order = take_order(store, "家电维修", phone, "冰箱不制冷")
        assert order.result == "queued"
        numbers.append(order.number)
        assert ServiceRequest.get_by_id(order.number).phone == phone
        db.close()
        assert phone.encode() in file_bytes(path)
    assert numbers[0] != numbers[1] and all(n.endswith("-001") for n in numbers)
    # Sync fails while the center is down: the phone stays until the center has the order.
    failed = weiguang("sync", "--db", dbs[0], check=False)
    assert failed.returncode != 0 and '"ok": false' in failed.stdout
    assert PHONES[0].encode() in file_bytes(dbs[0])
    center.start()
    for path in dbs:
        assert weiguang_json("sync", "--db", path)["ok"]
    stored = dict(center.query("SELECT number, phone FROM service_requests"))
    assert stored == dict(zip(numbers, PHONES))              # both kept, each with its own number
    for path, phone, number in zip(dbs, PHONES, numbers):
        raw = file_bytes(path)
        assert phone.encode() not in raw, f"{phone} still in {path.name}"
        store = open_store(path)
        row = ServiceRequest.get_by_id(number)
        assert row.phone == "" and row.service == "家电维修"     # the order itself stays, for the receipt
        db.close()
