"""Activities (create, edit, cancel; published to the kiosks of the site and below) and
the fleet (enrolment codes with a QR code, kiosks with what they report, revoke), through
the JSON API with user tokens, the pages, and `weiguang server devices / revoke-device`."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from kiosk.cli import main
from sync.server.services import accounts
from tests.sync.server.center import add, load_network, log_in, page_csrf
from tests.sync.server.conftest import enrol

TIMES = {"starts_at": "2026-12-01T09:00:00+08:00", "ends_at": "2026-12-01T11:30:00+08:00"}


@pytest.fixture
def desk(server_app):
    accounts.reset_limits()
    load_network()
    for name, site in [("wby", "WBY"), ("hyl", "HYL"), ("pc", "PC")]:
        add(name, site)
    with TestClient(server_app) as client:
        client.tokens = {n: {"Authorization": f"Bearer {accounts.make_token(n)}"} for n in ("wby", "hyl", "pc")}
        yield client


def activity_changes(kiosk) -> dict:
    out = {}
    for c in kiosk.pull().json()["changes"]:
        if c["kind"] == "activity":
            out[c["key"]] = c["data"]
    return out


def test_an_activity_reaches_the_kiosks_of_its_site_and_below(desk, api):
    wby, hyl, ygz = enrol(api, "WBY"), enrol(api, "HYL"), enrol(api, "YGZ")
    pc = desk.tokens["pc"]
    answer = desk.post("/api/v1/activities", json={"site": "PC-XJNL", "title": "文明交通劝导", "category": "文明交通",
                                                   "place": "魏都大道", "capacity": 12, **TIMES}, headers=pc)
    assert answer.status_code == 200, answer.text
    a = answer.json()
    assert a["starts_at"] == 1796086800 and a["site"] == "PC-XJNL"
    for kiosk in (wby, hyl):
        assert activity_changes(kiosk)[a["id"]]["title"] == "文明交通劝导"
    assert a["id"] not in activity_changes(ygz)
    # Edit, move to one station, cancel: each reaches the kiosks.
    desk.patch(f"/api/v1/activities/{a['id']}", json={"place": "文博路口", "site": "WBY"}, headers=pc)
    assert activity_changes(wby)[a["id"]]["place"] == "文博路口"
    assert activity_changes(hyl)[a["id"]] is None                     # no longer held there
    cancelled = desk.post(f"/api/v1/activities/{a['id']}/cancel", json={"reason": "大风"}, headers=pc).json()
    assert cancelled["cancelled"] and activity_changes(wby)[a["id"]] is None
    assert desk.patch(f"/api/v1/activities/{a['id']}", json={"title": "x"}, headers=pc).status_code == 409


def test_activity_times_need_an_offset_and_an_order(desk):
    wby = desk.tokens["wby"]
    naive = desk.post("/api/v1/activities", json={"site": "WBY", "title": "义诊", "starts_at": "2026-12-01T09:00",
                                                  "ends_at": "2026-12-01T10:00"}, headers=wby)
    assert naive.status_code == 422
    backwards = desk.post("/api/v1/activities", json={"site": "WBY", "title": "义诊",
                                                      "starts_at": TIMES["ends_at"], "ends_at": TIMES["starts_at"]},
                          headers=wby)
    assert backwards.status_code == 422 and backwards.json()["code"] == "bad_activity"


def test_activities_of_another_station_do_not_exist(desk):
    a = desk.post("/api/v1/activities", json={"site": "WBY", "title": "义诊", **TIMES},
                  headers=desk.tokens["wby"]).json()
    hyl = desk.tokens["hyl"]
    assert desk.get("/api/v1/activities", headers=hyl).json()["items"] == []
    for answer in (desk.get("/api/v1/activities?site=WBY", headers=hyl),
                   desk.get(f"/api/v1/activities/{a['id']}", headers=hyl),
                   desk.patch(f"/api/v1/activities/{a['id']}", json={"title": "x"}, headers=hyl),
                   desk.post(f"/api/v1/activities/{a['id']}/cancel", headers=hyl),
                   desk.post("/api/v1/activities", json={"site": "WBY", "title": "x", **TIMES}, headers=hyl),
                   desk.post("/api/v1/activities", json={"title": "全市", **TIMES}, headers=hyl)):
        assert answer.status_code == 404, answer.text
    log_in(desk, "hyl")
    assert "义诊" not in desk.get("/activities").text
    assert desk.get(f"/activities/{a['id']}").status_code == 404
    token = page_csrf(desk, "/activities")
    assert desk.post(f"/activities/{a['id']}/cancel", data={"csrf_token": token}).status_code == 404


def test_activity_pages_create_and_edit_in_local_time(desk):
    log_in(desk, "wby")
    token = page_csrf(desk, "/activities")
    form = {"csrf_token": token, "site": "WBY", "title": "包饺子迎冬至", "category": "我们的节日",
            "starts_at": "2026-12-21T14:00", "ends_at": "2026-12-21T17:00", "capacity": "30"}
    assert desk.post("/activities", data={**form, "ends_at": "2026-12-21T13:00"}).status_code == 422
    done = desk.post("/activities", data=form, follow_redirects=True)
    assert "包饺子迎冬至" in done.text and "设备下次同步后显示" in done.text
    item = desk.get("/api/v1/activities?site=WBY").json()["items"][0]
    assert item["starts_at"] == 1797832800                       # 14:00 in Asia/Shanghai
    assert desk.post("/activities", data={k: v for k, v in form.items() if k != "csrf_token"}).status_code == 403


def test_fleet_codes_kiosks_reports_and_revoke(desk, api):
    wby = desk.tokens["wby"]
    code = desk.post("/api/v1/kiosks/codes", json={"station": "WBY"}, headers=wby).json()
    assert code["qr_svg"].startswith("<?xml") and "<svg" in code["qr_svg"]
    enrolled = api.post("/api/v1/devices/enroll", json={"code": code["code"]}).json()
    assert enrolled["station"]["center"] == "平城区新时代文明实践中心"
    headers = {"Authorization": f"Bearer {enrolled['token']}"}
    assert api.get("/api/v1/changes?pending=3&refused=1&clock_offset_ms=-420000&app_version=0.1.0",
                   headers=headers).status_code == 200
    kiosk = desk.get("/api/v1/kiosks", headers=wby).json()["items"][0]
    assert (kiosk["station"], kiosk["pending"], kiosk["refused"], kiosk["clock_offset_ms"], kiosk["app_version"]) == \
        ("WBY", 3, 1, -420000, "0.1.0")
    hyl = desk.tokens["hyl"]
    assert desk.get("/api/v1/kiosks", headers=hyl).json()["items"] == []
    assert desk.post(f"/api/v1/kiosks/{kiosk['id']}/revoke", headers=hyl).status_code == 404
    assert desk.post("/api/v1/kiosks/codes", json={"station": "WBY"}, headers=hyl).status_code == 404
    log_in(desk, "hyl")
    assert kiosk["id"][:13] not in desk.get("/fleet").text
    assert desk.post(f"/fleet/{kiosk['id']}/revoke", data={"csrf_token": page_csrf(desk, "/fleet")}).status_code == 404
    assert desk.post(f"/api/v1/kiosks/{kiosk['id']}/revoke", headers=wby).json()["revoked"]
    assert api.get("/api/v1/changes", headers=headers).status_code == 403


def test_fleet_page_shows_a_qr_code(desk):
    log_in(desk, "wby")
    page = desk.post("/fleet/code", data={"station": "WBY", "csrf_token": page_csrf(desk, "/fleet")})
    assert page.status_code == 200 and "<svg" in page.text and "文博苑社区" in page.text


def test_cli_devices_and_revoke_device(server_settings, capsys, monkeypatch, api):
    if server_settings.database_url:
        monkeypatch.setenv("DATABASE_URL", server_settings.database_url)
    load_network()
    kiosk = enrol(api, "WBY")
    data = str(server_settings.data_dir)
    assert main(["server", "devices", "--data", data, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["devices"]
    assert [(d["id"], d["station"], d["revoked"]) for d in listed] == [(kiosk.device_id, "WBY", False)]
    assert main(["server", "revoke-device", "--data", data, kiosk.device_id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["revoked"] is True
    assert main(["server", "revoke-device", "--data", data, "no-such-kiosk"]) == 1
