"""Hour review: the queue per subtree, approve/adjust/reject one by one and in bulk,
totals, the audit log, the "session" change reaching the station's kiosks only, and
scope (another station's sessions do not exist). Sessions are made in state "review"
directly, as the session service will leave them."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from sync.server.db import reading, writing
from sync.server.models import AuditEntry, HoursSession
from sync.server.services import accounts, review
from tests.sync.server.center import add, load_network, log_in, page_csrf
from tests.sync.server.conftest import enrol
from tests.sync.server.test_desk_roster import ROSTER, csv_post

T0 = 1_780_000_000


def make_session(station: str, vid: str, minutes: int, state: str = "review", flags: str = "auto_closed") -> str:
    sid = str(uuid.uuid4())
    with writing():
        HoursSession.create(id=sid, vid=vid, serial=1, station=station, device_id="d", check_in_at=T0,
                            check_out_at=T0 + minutes * 60, minutes=minutes, flags=flags, state=state)
    return sid


@pytest.fixture
def desk(server_app):
    accounts.reset_limits()
    load_network()
    for name, site in [("wby", "WBY"), ("hyl", "HYL"), ("pc", "PC")]:
        add(name, site)
    add("lead", "WBY", "team_leader")
    with TestClient(server_app) as client:
        client.tokens = {n: {"Authorization": f"Bearer {accounts.make_token(n)}"} for n in ("wby", "hyl", "pc", "lead")}
        csv_post(client, "WBY", ROSTER, client.tokens["wby"])
        yield client


def total(desk, vid="14020200001", who="wby") -> int:
    return desk.get(f"/api/v1/volunteers/{vid}", headers=desk.tokens[who]).json()["minutes"]


def test_queue_and_decisions_change_the_totals(desk, api):
    kiosk, other = enrol(api, "WBY"), enrol(api, "HYL")
    make_session("WBY", "14020200001", 60, state="closed", flags="")
    a, b, c = (make_session("WBY", "14020200001", m) for m in (120, 90, 45))
    wby = desk.tokens["wby"]
    items = desk.get("/api/v1/review?site=WBY", headers=wby).json()["items"]
    assert {i["session_id"] for i in items} == {a, b, c}
    assert items[0]["flags"] == ["auto_closed"] and items[0]["state"] == "review" and items[0]["name"] == "林建国"
    assert total(desk) == 60                                     # closed counts, review does not
    assert desk.post(f"/api/v1/review/{a}", json={"action": "approve"}, headers=wby).json() == \
        {"session_id": a, "state": "approved", "minutes": 120}
    assert total(desk) == 180
    assert desk.post(f"/api/v1/review/{b}", json={"action": "adjust", "minutes": 30}, headers=wby).status_code == 422
    assert desk.post(f"/api/v1/review/{b}", json={"action": "adjust", "minutes": 30, "reason": "忘记签退"},
                     headers=wby).json()["minutes"] == 30
    assert total(desk) == 210
    assert desk.post(f"/api/v1/review/{c}", json={"action": "reject"}, headers=wby).json()["code"] == "reason_required"
    assert desk.post(f"/api/v1/review/{c}", json={"action": "reject", "reason": "重复"}, headers=wby).json()["state"] \
        == "rejected"
    assert total(desk) == 210 and desk.get("/api/v1/review", headers=wby).json()["items"] == []
    # Every decision in the audit log, with before, after and why.
    with reading():
        rows = {r.object_id: r for r in AuditEntry.select().where(AuditEntry.object_type == "session")}
    assert rows[b].action == "session.adjust" and rows[b].reason == "忘记签退" and '"minutes": 90' in rows[b].before
    # Published to the kiosks of that station only, as kind "session".
    mine = {c["key"]: c["data"] for c in kiosk.pull().json()["changes"] if c["kind"] == "session"}
    assert mine == {a: {"id": a, "state": "approved", "minutes": 120}, b: {"id": b, "state": "adjusted", "minutes": 30},
                    c: {"id": c, "state": "rejected", "minutes": 45}}
    assert not [c for c in other.pull().json()["changes"] if c["kind"] == "session"]


def test_bulk_decisions_are_all_or_none(desk):
    ids = [make_session("WBY", "14020200002", 30) for _ in range(3)]
    elsewhere = make_session("HYL", "V-HYL-1", 30)
    wby = desk.tokens["wby"]
    answer = desk.post("/api/v1/review", json={"session_ids": ids + [elsewhere], "action": "approve"}, headers=wby)
    assert answer.status_code == 404
    with reading():
        assert HoursSession.select().where(HoursSession.state == "approved").count() == 0
    answer = desk.post("/api/v1/review", json={"session_ids": ids, "action": "approve"}, headers=wby)
    assert [d["state"] for d in answer.json()] == ["approved"] * 3
    assert total(desk, "14020200002") == 90
    again = desk.post(f"/api/v1/review/{ids[0]}", json={"action": "reject", "reason": "弄错了"}, headers=wby)
    assert again.json()["state"] == "rejected" and total(desk, "14020200002") == 60   # a decision can be changed


def test_open_and_closed_sessions_are_not_for_review(desk):
    sid = make_session("WBY", "14020200001", 30, state="closed", flags="")
    answer = desk.post(f"/api/v1/review/{sid}", json={"action": "approve"}, headers=desk.tokens["wby"])
    assert answer.status_code == 409 and answer.json()["code"] == "not_in_review"


def test_another_stations_sessions_do_not_exist(desk):
    sid = make_session("WBY", "14020200001", 30)
    hyl = desk.tokens["hyl"]
    assert desk.get("/api/v1/review", headers=hyl).json()["items"] == []
    assert desk.get("/api/v1/review?site=WBY", headers=hyl).status_code == 404
    answer = desk.post(f"/api/v1/review/{sid}", json={"action": "approve"}, headers=hyl)
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert desk.post(f"/api/v1/review/{sid}", json={"action": "approve"}, headers=desk.tokens["lead"]).status_code == 403
    assert [i["session_id"] for i in desk.get("/api/v1/review", headers=desk.tokens["pc"]).json()["items"]] == [sid]
    log_in(desk, "hyl")
    assert sid not in desk.get("/review").text
    token = page_csrf(desk, "/review")
    assert desk.post(f"/review/{sid}", data={"action": "approve", "csrf_token": token}).status_code == 404
    with reading():
        assert HoursSession.get_by_id(sid).state == "review"


def test_review_page_decides_in_place(desk):
    sid = make_session("WBY", "14020200001", 120)
    log_in(desk, "wby")
    page = desk.get("/review")
    assert "自动签退" in page.text and "林建国" in page.text
    token = page_csrf(desk, "/review")
    row = desk.post(f"/review/{sid}", data={"action": "reject", "csrf_token": token}, headers={"HX-Request": "true"})
    assert "请填写原因" in row.text                              # refused in place, nothing changed
    row = desk.post(f"/review/{sid}", data={"action": "adjust", "minutes": "60", "reason": "提前离开",
                                            "csrf_token": token}, headers={"HX-Request": "true"})
    assert row.status_code == 200 and "已调整" in row.text and "1.0 小时" in row.text
    assert desk.post(f"/review/{sid}", data={"action": "approve"}).status_code == 403      # no CSRF token


def test_the_home_figures_follow_the_decisions(desk):
    sid = make_session("WBY", "14020200001", 90)
    make_session("HYL", "V-HYL-1", 30)
    wby = desk.tokens["wby"]
    before = desk.get("/api/v1/overview", headers=wby).json()
    assert (before["review"], before["hours"], before["volunteers"], before["stations"]) == (1, 0, 2, 1)
    desk.post(f"/api/v1/review/{sid}", json={"action": "approve"}, headers=wby)
    after = desk.get("/api/v1/overview", headers=wby).json()
    assert (after["review"], after["hours"]) == (0, 1.5)
    assert desk.get("/api/v1/overview", headers=desk.tokens["pc"]).json()["review"] == 1     # HYL's, below PC
