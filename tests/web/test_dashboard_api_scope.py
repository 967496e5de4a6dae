"""The same scope through the JSON API with user API tokens against the real server: a
station coordinator's token reaches its own station's volunteers, sessions, activities
and kiosks, and another station's do not exist (404); the district above sees both; a
kiosk's device token opens none of it."""

from __future__ import annotations

import requests


def test_a_station_token_sees_only_its_station(desk):
    hyl = lambda method, path, **kw: desk.api("hyl", method, path, **kw)   # noqa: E731
    assert [v["vid"] for v in hyl("GET", "/api/v1/volunteers").json()["items"]] == ["14020300001"]
    assert {i["station"] for i in hyl("GET", "/api/v1/review").json()["items"]} <= {"HYL"}
    assert [a["site"] for a in hyl("GET", "/api/v1/activities").json()["items"]] == ["HYL"]
    assert [k["station"] for k in hyl("GET", "/api/v1/kiosks").json()["items"]] == ["HYL"]
    for method, path, body in [
            ("GET", "/api/v1/volunteers?site=WBY", None), ("GET", "/api/v1/volunteers/14020200001", None),
            ("GET", "/api/v1/volunteers.csv?site=WBY", None), ("GET", "/api/v1/badges.pdf?site=WBY", None),
            ("POST", "/api/v1/badges/14020200001/revoke", {}), ("GET", "/api/v1/review?site=WBY", None),
            ("POST", f"/api/v1/review/{desk.sessions['WBY'][-1]}", {"action": "approve"}),
            ("GET", "/api/v1/activities?site=WBY", None), ("GET", f"/api/v1/activities/{desk.activities['WBY']}", None),
            ("PATCH", f"/api/v1/activities/{desk.activities['WBY']}", {"title": "x"}),
            ("POST", f"/api/v1/activities/{desk.activities['WBY']}/cancel", {}),
            ("GET", "/api/v1/kiosks?site=WBY", None), ("POST", f"/api/v1/kiosks/{desk.kiosks['WBY']}/revoke", {}),
            ("POST", "/api/v1/kiosks/codes", {"station": "WBY"})]:
        answer = hyl(method, path, json=body) if body is not None else hyl(method, path)
        assert answer.status_code == 404 and answer.json()["code"] == "not_found", (path, answer.text)
    answer = hyl("POST", "/api/v1/volunteers/import?site=WBY", data=b"vid,name\n14020300009,x\n",
                 headers={"Content-Type": "text/csv"})
    assert answer.status_code == 404


def test_the_district_token_sees_both_stations(desk):
    stations = {v["site"] for v in desk.api("pc", "GET", "/api/v1/volunteers").json()["items"]}
    assert stations == {"WBY", "HYL"}
    assert desk.api("pc", "GET", "/api/v1/volunteers/14020300001").status_code == 200


def test_a_device_token_opens_no_desk_endpoint(desk):
    code = desk.api("wby", "POST", "/api/v1/kiosks/codes", json={"station": "WBY"}).json()["code"]
    token = requests.post(desk.url + "/api/v1/devices/enroll", json={"code": code}, timeout=30).json()["token"]
    device = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/volunteers", "/api/v1/review", "/api/v1/activities", "/api/v1/kiosks", "/api/v1/me"):
        assert requests.get(desk.url + path, headers=device, timeout=30).status_code == 401, path
    user = {"Authorization": f"Bearer {desk.tokens['wby']}"}
    assert requests.get(desk.url + "/api/v1/changes", headers=user, timeout=30).status_code == 401
