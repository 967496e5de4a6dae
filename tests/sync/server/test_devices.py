"""Enrolment codes, device tokens, revocation, and the auth answers."""

from __future__ import annotations

import pytest

from sync.server.db import reading
from sync.server.models import Site
from sync.server.services import ServiceError, changes, devices
from tests.sync.server.conftest import enrol

ENROLL = "/api/v1/devices/enroll"


def test_enrol_adopts_the_kiosk_id_and_answers_station_and_keys(api, server_settings):
    kiosk = enrol(api, "s1", device_id="kiosk-made-id-1")
    assert kiosk.device_id == "kiosk-made-id-1"
    assert devices.authenticate(kiosk.token).station == "s1"
    code = devices.make_enroll_code("s1")
    body = api.post(ENROLL, json={"code": code.lower().replace("-", " ")}).json()  # as typed on a kiosk
    assert body["station"]["code"] == "s1" and body["station"]["name"] == "站点 s1"
    kid = (server_settings.keys_dir / "current").read_text().strip()
    assert list(body["public_keys"]) == [kid]
    assert body["device_id"] != kiosk.device_id and body["server_time"]


def test_a_code_for_a_station_not_in_the_network_is_refused(api):
    changes.upsert_station("A", "站A", institute="东关街道所", center="广陵区中心")
    with pytest.raises(ServiceError) as refused:
        devices.make_enroll_code("站Ａ")           # full-width Ａ: a typo, not a new station
    assert refused.value.code == "unknown_station" and "站A (A)" in refused.value.message
    with reading():
        assert Site.select().where(Site.tier == "station").count() == 1
    code = devices.make_enroll_code("站A")           # by exact name, or by code
    assert api.post(ENROLL, json={"code": code}).json()["station"] == {
        "code": "A", "name": "站A", "institute": "东关街道所", "center": "广陵区中心", "timezone": "Asia/Shanghai"}


@pytest.mark.parametrize("case", ["used", "expired", "unknown"])
def test_a_bad_code_is_refused_code_invalid(api, case):
    changes.upsert_station("s1", "站点 s1")
    code = devices.make_enroll_code("s1", hours=-1 if case == "expired" else 24)
    if case == "used":
        assert api.post(ENROLL, json={"code": code}).status_code == 200
    if case == "unknown":
        code = "ZZZZ-ZZZZ-ZZZZ"
    answer = api.post(ENROLL, json={"code": code})
    assert answer.status_code == 400
    assert answer.json()["code"] == "code_invalid" and answer.json()["server_time"]


def test_a_revoked_device_gets_403_and_cannot_reenrol(api, kiosk):
    assert kiosk.pull().status_code == 200
    devices.revoke_device(kiosk.device_id)
    for answer in (kiosk.pull(), kiosk.push([])):
        assert answer.status_code == 403
        assert answer.json()["code"] == "device_revoked" and answer.json()["server_time"]
    answer = api.post(ENROLL, json={"code": devices.make_enroll_code("s1"), "device_id": kiosk.device_id})
    assert (answer.status_code, answer.json()["code"]) == (403, "device_revoked")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}])
def test_missing_or_bad_token_is_401(api, kiosk, headers):
    for answer in (api.get("/api/v1/changes", headers=headers),
                   api.post("/api/v1/events", json={"events": []}, headers=headers)):
        assert answer.status_code == 401
        assert answer.json()["code"] == "unauthorized" and answer.json()["server_time"]


def test_enrolling_again_gives_a_new_device_and_leaves_the_old_token_working(api, kiosk):
    again = enrol(api, "s1")
    assert again.device_id != kiosk.device_id and again.token != kiosk.token
    assert kiosk.pull().status_code == 200 and again.pull().status_code == 200
