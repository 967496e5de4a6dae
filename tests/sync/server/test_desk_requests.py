"""Service requests over HTTP: the JSON twin (scope, codes, statuses), the pages
(/requests, /requests/{id}, /team, /r/{number}) and the resident's rate-limited lookup."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sync.server.api import service_requests as api_requests
from sync.server.services import accounts
from tests.sync.server.center import log_in, page_csrf
from tests.sync.server.test_service_requests import PHONE, center, order  # noqa: F401  (fixture)


@pytest.fixture
def desk(server_app, center):  # noqa: F811
    api_requests.reset_limits()
    with TestClient(server_app) as client:
        client.tokens = {n: {"Authorization": f"Bearer {accounts.make_token(n)}"}
                         for n in ("wby", "hyl", "pc", "lead_wby", "lead_pc")}
        yield client


def test_json_twin_moves_a_request_and_keeps_scope(desk, center):  # noqa: F811
    rid = order(center)
    wby, hyl, pc, lead = (desk.tokens[n] for n in ("wby", "hyl", "pc", "lead_wby"))
    page = desk.get("/api/v1/requests?state=submitted", headers=wby).json()
    assert [i["id"] for i in page["items"]] == [rid] and page["counts"]["submitted"] == 1
    assert page["items"][0]["phone"] == PHONE
    assert desk.get("/api/v1/requests", headers=pc).json()["items"][0]["phone"] == "138****8000"
    assert desk.get(f"/api/v1/requests/{rid}", headers=hyl).status_code == 404
    assert desk.post(f"/api/v1/requests/{rid}/review", json={}, headers=hyl).status_code == 404
    assert desk.get("/api/v1/requests", headers=hyl).json()["total"] == 0
    answer = desk.post(f"/api/v1/requests/{rid}/dispatch", json={"team": center["teams"]["lead_wby"]}, headers=wby)
    assert (answer.status_code, answer.json()["code"]) == (409, "illegal_transition")
    assert desk.post(f"/api/v1/requests/{rid}/review", json={}, headers=wby).json()["state"] == "reviewed"
    teams = desk.get(f"/api/v1/requests/{rid}/teams", headers=wby).json()
    assert {t["name"] for t in teams} == {"党员服务队", "巾帼志愿队"}
    assert desk.post(f"/api/v1/requests/{rid}/dispatch", json={"team": center["teams"]["lead_ygz"]},
                     headers=wby).json()["code"] == "bad_team"
    assert desk.post(f"/api/v1/requests/{rid}/dispatch", json={"team": center["teams"]["lead_wby"]},
                     headers=wby).json()["state"] == "dispatched"
    assert desk.post(f"/api/v1/requests/{rid}/expire", json={}, headers=wby).status_code == 422
    assert desk.post(f"/api/v1/requests/{rid}/accept", json={}, headers=lead).json()["state"] == "accepted"
    done = desk.post(f"/api/v1/requests/{rid}/complete", json={"report": "修好了", "minutes": 45,
                                                               "volunteers": ["14020200001"]}, headers=lead)
    assert done.json()["state"] == "completed"
    detail = desk.get(f"/api/v1/requests/{rid}", headers=wby).json()
    assert [t["action"] for t in detail["transitions"]] == ["review", "dispatch", "accept", "complete"]
    # The resident: the state, then the rating; wrong digits find nothing.
    number = detail["number"]
    assert desk.post("/api/v1/resident/lookup", json={"number": number, "last4": "1111"}).status_code == 404
    view = desk.post("/api/v1/resident/lookup", json={"number": number, "last4": "8000"}).json()
    assert view["state"] == "completed" and view["phone"] == "138****8000"
    assert desk.post("/api/v1/resident/rate", json={"number": number, "last4": "8000", "rating": 5,
                                                    "comments": ["准时到达"]}).json()["state"] == "rated"
    assert desk.post("/api/v1/resident/rate", json={"number": number, "last4": "8000", "rating": 5}).json()["code"] \
        == "illegal_transition"


def test_guessing_the_four_digits_is_rate_limited(desk, center):  # noqa: F811
    rid = order(center)
    number = desk.get(f"/api/v1/requests/{rid}", headers=desk.tokens["wby"]).json()["number"]
    codes = [desk.post("/api/v1/resident/lookup", json={"number": number, "last4": f"{i:04d}"}).status_code
             for i in range(12)]
    assert codes[:10] == [404] * 10 and codes[10:] == [429, 429]


def test_pages_for_coordinators_team_leaders_and_residents(desk, center):  # noqa: F811
    rid = order(center)
    assert log_in(desk, "pc").status_code == 303
    html = desk.get("/requests").text
    assert "138****8000" in html and PHONE not in html and "待审单" in html
    desk.post("/logout", data={"csrf_token": page_csrf(desk)})
    log_in(desk, "wby")
    assert PHONE in desk.get(f"/requests/{rid}").text
    token = page_csrf(desk, f"/requests/{rid}")
    answer = desk.post(f"/requests/{rid}", data={"csrf_token": token, "action": "dispatch", "team": "1"})
    assert answer.status_code == 422 and "当前状态下不能进行这个操作" in answer.text
    answer = desk.post(f"/requests/{rid}", data={"csrf_token": token, "action": "review"}, follow_redirects=False)
    assert answer.status_code == 303
    page = desk.get(f"/requests/{rid}").text
    assert "党员服务队" in page and "军魂闪耀" not in page
    desk.post(f"/requests/{rid}", data={"csrf_token": token, "action": "dispatch",
                                        "team": str(center["teams"]["lead_wby"])})
    desk.post("/logout", data={"csrf_token": page_csrf(desk)})
    log_in(desk, "lead_wby")
    page = desk.get("/team").text
    assert PHONE in page and "接单" in page
    token = page_csrf(desk, "/team")
    assert desk.post(f"/team/{rid}", data={"csrf_token": token, "action": "accept"},
                     follow_redirects=False).status_code == 303
    answer = desk.post(f"/team/{rid}", data={"csrf_token": token, "action": "complete", "report": "好",
                                             "minutes": "abc"})
    assert answer.status_code == 422
    assert desk.post(f"/team/{rid}", data={"csrf_token": token, "action": "complete", "report": "修好了",
                                           "minutes": "30", "volunteers": "14020200001"},
                     follow_redirects=False).status_code == 303
    # The resident's page: no account, number + four digits.
    number = desk.get(f"/api/v1/requests/{rid}", headers=desk.tokens["wby"]).json()["number"]
    desk.post("/logout", data={"csrf_token": page_csrf(desk)})
    token = page_csrf(desk, f"/r/{number}")
    assert "单号或手机号后四位不对" in desk.post(f"/r/{number}", data={"csrf_token": token, "last4": "0000"}).text
    page = desk.post(f"/r/{number}", data={"csrf_token": token, "last4": "8000"}).text
    assert "已完成" in page and "138****8000" in page and PHONE not in page
    page = desk.post(f"/r/{number}", data={"csrf_token": token, "last4": "8000", "op": "rate", "rating": "4",
                                           "comment": ["态度很好"]}).text
    assert "谢谢您的评价" in page and "已评价" in page
    assert desk.post(f"/r/{number}", data={"last4": "8000", "op": "rate", "rating": "4"}).status_code == 403
