"""An activity's public sign-up page (services.signups) and a kiosk closure on the desk's
activity pages: through the JSON API and the pages, on both backends."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from sync.server.db import reading
from sync.server.models import ActivitySignup
from sync.server.services import accounts, signups
from tests.sync.server.center import add, csrf_of, load_network, log_in
from tests.sync.server.conftest import enrol

TIMES = {"starts_at": "2026-12-20T09:00:00+08:00", "ends_at": "2026-12-20T11:30:00+08:00"}


@pytest.fixture
def desk(server_app):
    accounts.reset_limits()
    signups.reset_limits()
    load_network()
    for name, site in [("wby", "WBY"), ("hyl", "HYL"), ("pc", "PC")]:
        add(name, site)
    with TestClient(server_app) as client:
        client.tokens = {n: {"Authorization": f"Bearer {accounts.make_token(n)}"} for n in ("wby", "hyl", "pc")}
        yield client


def new_activity(desk, capacity=2, **extra) -> dict:
    answer = desk.post("/api/v1/activities", json={"site": "WBY", "title": "健康义诊", "category": "健康义诊",
                                                   "place": "文博苑社区卫生室", "capacity": capacity, **TIMES, **extra},
                       headers=desk.tokens["wby"])
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_sign_up_counts_against_capacity_and_reaches_the_kiosk(desk, api):
    kiosk = enrol(api, "WBY")
    a = new_activity(desk)
    path = a["signup_url"]
    assert path.startswith("/signup/") and a["id"] not in path and len(path) > 20     # unguessable, not the id
    page = desk.get(f"/api/v1{path}").json()
    assert (page["state"], page["places_left"], page["signed_up"]) == ("open", 2, 0)
    for phone in ("12345", "1380013800", "23800138000", "138001380001", "１３８００１３８０００"):
        bad = desk.post(f"/api/v1{path}", json={"phone": phone})
        assert bad.status_code == 422 and bad.json()["code"] == "bad_phone", phone
    done = desk.post(f"/api/v1{path}", json={"phone": "+86 138-0013-8000", "name": "王阿姨"})
    assert done.status_code == 200, done.text
    assert done.json()["phone"] == "138****8000" and done.json()["places_left"] == 1
    again = desk.post(f"/api/v1{path}", json={"phone": "13800138000"})
    assert again.status_code == 409 and again.json()["code"] == "already_signed_up"
    assert desk.post(f"/api/v1{path}", json={"phone": "13912345678"}).status_code == 200
    full = desk.post(f"/api/v1{path}", json={"phone": "13700001111"})
    assert full.status_code == 409 and full.json()["code"] == "activity_full"
    assert desk.get(f"/api/v1{path}").json()["state"] == "full"
    # the kiosk's copy: the count and the link (a path: the kiosk completes it with its server)
    latest = [c["data"] for c in kiosk.pull(limit=500).json()["changes"]
              if c["kind"] == "activity" and c["key"] == a["id"]][-1]
    assert latest["signed_up"] == 2 and latest["signup_url"] == path
    assert desk.get("/api/v1/activities?site=WBY", headers=desk.tokens["wby"]).json()["items"][0]["signed_up"] == 2
    assert desk.get("/api/v1/signup/not-a-real-token-000").status_code == 404


def test_phones_whole_only_for_the_sites_coordinators_and_deleted_after_30_days(desk):
    a = new_activity(desk)
    desk.post(f"/api/v1{a['signup_url']}", json={"phone": "13800138000", "name": "王阿姨"})
    mine = desk.get(f"/api/v1/activities/{a['id']}/signups", headers=desk.tokens["wby"]).json()
    assert mine["items"][0]["phone"] == "13800138000" and mine["phones_whole"] is True
    district = desk.get(f"/api/v1/activities/{a['id']}/signups", headers=desk.tokens["pc"]).json()
    assert district["items"][0]["phone"] == "138****8000"
    assert desk.get(f"/api/v1/activities/{a['id']}/signups", headers=desk.tokens["hyl"]).status_code == 404
    log_in(desk, "pc")
    page = desk.get(f"/activities/{a['id']}")
    assert "138****8000" in page.text and "13800138000" not in page.text and "<svg" in page.text
    # 30 days after the activity ends the phone goes; the sign-up still counts
    assert signups.purge(now=a["ends_at"] + 29 * 86400) == 0
    assert signups.purge(now=a["ends_at"] + 30 * 86400) == 1
    with reading():
        (row,) = ActivitySignup.select()
    assert row.phone is None and row.name == "王阿姨"
    after = desk.get(f"/api/v1/activities/{a['id']}/signups", headers=desk.tokens["wby"]).json()
    assert after["signed_up"] == 1 and after["items"][0]["phone"] == ""


def test_cancelled_and_over_activities_refuse(desk):
    a = new_activity(desk)
    desk.post(f"/api/v1/activities/{a['id']}/cancel", json={"reason": "下雨"}, headers=desk.tokens["wby"])
    answer = desk.post(f"/api/v1{a['signup_url']}", json={"phone": "13800138000"})
    assert answer.status_code == 409 and answer.json()["code"] == "activity_cancelled"
    past = new_activity(desk, starts_at="2025-01-01T09:00:00+08:00", ends_at="2025-01-01T10:00:00+08:00")
    answer = desk.post(f"/api/v1{past['signup_url']}", json={"phone": "13800138000"})
    assert answer.status_code == 409 and answer.json()["code"] == "activity_over"


def test_the_page_has_csrf_and_a_rate_limit_per_address(desk):
    a = new_activity(desk, capacity=50)
    path = a["signup_url"]
    page = desk.get(path)
    assert page.status_code == 200 and "健康义诊" in page.text and "余 2" not in page.text and "余 50 个名额" in page.text
    assert "活动结束 30 天后删除" in page.text
    forged = desk.post(path, data={"phone": "13800138000"})
    assert forged.status_code == 403 and "页面已过期" in forged.text
    with reading():
        assert ActivitySignup.select().count() == 0
    token = csrf_of(page.text)
    done = desk.post(path, data={"phone": "13800138000", "csrf_token": token})
    assert done.status_code == 200 and "报名成功" in done.text and "138****8000" in done.text
    assert "13800138000" not in done.text
    bad = desk.post(path, data={"phone": "12", "csrf_token": token})
    assert bad.status_code == 422 and "请输入正确的手机号码" in bad.text
    codes = [desk.post(path, data={"phone": f"1390000{n:04d}", "csrf_token": token}).status_code
             for n in range(10)]
    assert 429 in codes and codes[-1] == 429          # 10 a minute per address, the refused ones included
    desk.cookies.set("wg_lang", "en")
    assert "places left" in desk.get(path).text


def test_a_kiosk_closure_shows_on_the_activities_page_and_in_json(desk, api):
    kiosk = enrol(api, "WBY")
    a = new_activity(desk)
    at = int(time.time())
    event = kiosk.event("activity_closed", {"activity_id": a["id"], "at": at, "by_vid": "14020200009"})
    assert kiosk.statuses([event]) == [("stored", None)]
    item = desk.get(f"/api/v1/activities/{a['id']}", headers=desk.tokens["wby"]).json()
    assert item["closed_by"] == "14020200009" and abs(item["closed_at"] - at) < 5
    listed = desk.get("/api/v1/activities?site=WBY", headers=desk.tokens["wby"]).json()["items"][0]
    assert listed["closed_by"] == "14020200009"
    log_in(desk, "wby")
    from sync.server.web.pages import local_time
    for path in ("/activities", f"/activities/{a['id']}"):
        text = desk.get(path).text
        assert "已在一体机结束" in text and "协调员 14020200009" in text and local_time(item["closed_at"]) in text
    desk.cookies.set("wg_lang", "en")
    assert "Ended at a kiosk" in desk.get("/activities").text
    other = new_activity(desk)
    assert desk.get(f"/api/v1/activities/{other['id']}", headers=desk.tokens["wby"]).json()["closed_at"] is None
