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


def test_menu_state_and_an_offline_rating_at_a_kiosk(center, proxy, tmp_path):
    """The center's menu reaches the kiosk in the pull; the request's state too (the kiosk
    shows it to whoever types the number and the phone's last four digits); a rating taken
    while the center is down is an outbox event that rates the request once synced."""
    import requests
    data = center.data
    for user, role in (("wby", "coordinator"), ("lead", "team_leader")):
        weiguang("server", "user", "add", "--data", data, "--username", user, "--site", "WBY", "--role", role,
                 "--password", "correct horse battery")
    weiguang("server", "user", "add", "--data", data, "--username", "boss", "--site", "PC", "--role", "center_admin",
             "--password", "correct horse battery")
    team = weiguang_json("server", "team", "--data", data, "--site", "WBY", "--name", "党员服务队", "--leader", "lead",
                         "--json")
    tokens = {u: {"Authorization": "Bearer " + weiguang_json("server", "token", "--data", data, "--username", u,
                                                             "--json")["token"]} for u in ("wby", "lead", "boss")}

    def call(user, method, path, **kw):
        answer = requests.request(method, center.url + path, headers=tokens[user], timeout=30, **kw)
        assert answer.status_code == 200, answer.text
        return answer.json()

    menu = [{"service": "理发", "presets": ["行动不便，请上门"]}, {"service": "磨刀", "presets": ["菜刀两把"]}]
    assert call("boss", "PUT", "/api/v1/service-menu?site=WBY", json={"items": menu})["site"] == "WBY"
    kiosk = tmp_path / "k.db"
    weiguang("kiosk", "init", "--db", kiosk, "--station", "文博苑社区", "--keys", data / "keys")
    assert weiguang_json("kiosk", "enroll", "--db", kiosk, "--server", proxy.url, center.code())["enrolled"]
    number = weiguang_json("kiosk", "request", "--db", kiosk, "--service", "磨刀", "--phone", PHONES[0])["number"]
    assert weiguang_json("sync", "--db", kiosk)["ok"]
    from kiosk.orders import menu as kiosk_menu
    from kiosk.store import db, open_store
    store = open_store(kiosk)
    assert [m["service"] for m in kiosk_menu(store)] == ["理发", "磨刀"]
    db.close()
    found = weiguang_json("kiosk", "lookup", "--db", kiosk, "--number", number, "--last4", "8000")
    assert (found["result"], found["state"]) == ("found", "submitted")
    assert weiguang_json("kiosk", "lookup", "--db", kiosk, "--number", number, "--last4", "1234")["result"] == "unknown"
    # Too early to rate: the kiosk knows it is not completed.
    early = weiguang_json("kiosk", "rate", "--db", kiosk, "--number", number, "--last4", "8000", "--rating", "5")
    assert (early["result"], early["code"]) == ("refused", "not_completed")
    rid = call("wby", "GET", "/api/v1/requests")["items"][0]["id"]
    call("wby", "POST", f"/api/v1/requests/{rid}/review", json={})
    call("wby", "POST", f"/api/v1/requests/{rid}/dispatch", json={"team": team["id"]})
    call("lead", "POST", f"/api/v1/requests/{rid}/accept", json={})
    call("lead", "POST", f"/api/v1/requests/{rid}/complete", json={"report": "磨好了", "minutes": 30})
    assert weiguang_json("sync", "--db", kiosk)["ok"]
    assert weiguang_json("kiosk", "lookup", "--db", kiosk, "--number", number, "--last4", "8000")["state"] == \
        "completed"
    center.stop()                                               # offline: the rating still counts
    queued = weiguang_json("kiosk", "rate", "--db", kiosk, "--number", number, "--last4", "8000", "--rating", "4",
                           "--comment", "准时到达", "--comment", "细心耐心")
    assert queued["result"] == "queued"
    center.start()
    assert weiguang_json("sync", "--db", kiosk)["ok"]
    rated = call("wby", "GET", f"/api/v1/requests/{rid}")
    assert (rated["state"], rated["rating"], rated["comments"]) == ("rated", 4, ["准时到达", "细心耐心"])
    assert rated["transitions"][-1]["actor"].startswith("kiosk:")
    assert weiguang_json("kiosk", "lookup", "--db", kiosk, "--number", number, "--last4", "8000")["state"] == "rated"
    # Rated already: this kiosk knows, and says so at once.
    again = weiguang_json("kiosk", "rate", "--db", kiosk, "--number", number, "--last4", "8000", "--rating", "1")
    assert (again["result"], again["code"], again["state"]) == ("refused", "not_completed", "rated")
