"""Attacker's review of the doors added in round 3: the service menu's API for a site that
does not exist or text the database cannot hold; failed scans a kiosk pushes. Both backends."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from sync.server.db import reading
from sync.server.models import ServiceMenu
from sync.server.services import accounts
from tests.sync.server.center import add
from tests.sync.server.test_service_requests import center  # noqa: F401  (fixture)


@pytest.fixture
def desk(server_app, center):  # noqa: F811
    add("root_admin", None, "center_admin")
    add("pc_admin", "PC", "center_admin")
    with TestClient(server_app) as client:
        client.tokens = {n: {"Authorization": f"Bearer {accounts.make_token(n)}"} for n in ("root_admin", "pc_admin")}
        yield client


ITEM = {"items": [{"service": "理发", "presets": []}]}


@pytest.mark.parametrize("site", ["NOPE", "", "%20"])
def test_a_menu_for_a_site_that_does_not_exist_is_not_found(desk, site):
    answer = desk.put(f"/api/v1/service-menu?site={site}", json=ITEM, headers=desk.tokens["root_admin"])
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    with reading():
        assert ServiceMenu.select().count() == 0
    if site:
        read = desk.get(f"/api/v1/service-menu?site={site}", headers=desk.tokens["root_admin"])
        assert (read.status_code, read.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("bad", ["\ud800", "a\x00b", "a\u2028b", "\u202etxt"])
def test_menu_text_the_database_cannot_hold_is_refused(desk, bad):
    for item in ({"service": bad, "presets": []}, {"service": "理发", "presets": [bad]},
                 {"service": "理发", "presets": [], "service_en": bad}):
        raw = json.dumps({"items": [item]})            # ensure_ascii: a lone surrogate as \\ud800
        answer = desk.put("/api/v1/service-menu?site=PC", content=raw, headers={
            **desk.tokens["pc_admin"], "content-type": "application/json"})
        assert answer.status_code == 422, (item, answer.status_code, answer.text)


# --- failed scans -----------------------------------------------------------------------

def _failed(kiosk, code="foreign", at=None, vid=None, serial=None):
    import uuid
    from tests.sync.server.helpers import T0
    return kiosk.event("failed_scan", {"id": str(uuid.uuid4()), "at": T0 if at is None else at, "code": code,
                                       "vid": vid, "serial": serial})


def test_a_failed_scan_code_or_vid_is_a_word_not_text(api, kiosk):
    from sync.server.services import failed_scans
    from sync.server.services.scope import CLI
    bad = [_failed(kiosk, "<b>x</b>"), _failed(kiosk, "foreign\u202e"), _failed(kiosk, "a b"),
           _failed(kiosk, "revoked", vid="1402\u2028", serial=1), _failed(kiosk, "revoked", vid="<img>", serial=1)]
    good = _failed(kiosk, "revoked", vid="14020200006", serial=6)
    assert kiosk.statuses([*bad, good]) == [("refused", "bad_payload")] * len(bad) + [("stored", None)]
    assert [(r["code"], r["vid"]) for r in failed_scans.recent(CLI, since=0)] == [("revoked", "14020200006")]


def test_failed_scans_kept_per_kiosk_per_day_are_capped(api, kiosk, monkeypatch):
    from sync.server.db import reading
    from sync.server.models import FailedScan
    from sync.server.services import failed_scans
    from tests.sync.server.conftest import enrol
    monkeypatch.setattr(failed_scans, "MAX_PER_DEVICE_DAY", 5)
    first = [_failed(kiosk) for _ in range(3)]
    more = [_failed(kiosk) for _ in range(4)]
    assert kiosk.statuses(first) == [("stored", None)] * 3
    assert kiosk.statuses(more) == [("stored", None)] * 4          # stored: the kiosk must not resend
    assert kiosk.statuses(more) == [("duplicate", None)] * 4
    other = enrol(api, station="s2")                                # another kiosk's own allowance
    assert other.statuses([_failed(other)]) == [("stored", None)]
    with reading():
        kept = dict(FailedScan.select(FailedScan.device_id, fn_count()).group_by(FailedScan.device_id).tuples())
        received = {r.received_at for r in FailedScan.select()}
    assert kept == {kiosk.device_id: 5, other.device_id: 1}
    import time
    assert all(abs(r - time.time()) < 3600 for r in received)     # the server's clock, not the kiosk's


def fn_count():
    from peewee import fn
    from sync.server.models import FailedScan
    return fn.COUNT(FailedScan.id)


@pytest.mark.parametrize("body", [
    {"items": "理发"}, {"items": {"service": "理发"}}, {"items": [{"service": "理发", "presets": "上门"}]},
    {"items": [{"service": "理发", "presets": [1, 2]}]}, {"items": [{"service": 7}]},
    {"items": [{"service": "理发", "presets": ["x" * 10_000]}]},
    {"items": [{"service": f"s{i}", "presets": []} for i in range(5000)]},
    {"items": [{"service": "理发", "presets": ["p"] * 5000}]},
    {"items": [{"service": "理发"}, {"service": "理发"}]}, [], None, "x"])
def test_a_malformed_menu_is_422_with_a_stable_code(desk, body):
    answer = desk.put("/api/v1/service-menu?site=PC", json=body, headers=desk.tokens["pc_admin"])
    assert answer.status_code == 422 and answer.json()["code"] in ("invalid_request", "bad_menu"), \
        answer.text[:300]


def test_a_disabled_admin_loses_the_menu_at_once_by_token_and_session(desk):
    from tests.sync.server.center import log_in, page_csrf
    log_in(desk, "pc_admin")
    csrf = page_csrf(desk, "/menu?site=PC")
    assert desk.get("/api/v1/service-menu?site=PC", headers=desk.tokens["pc_admin"]).status_code == 200
    accounts.disable_user("pc_admin")                   # as the CLI would, another process
    assert desk.put("/api/v1/service-menu?site=PC", json=ITEM, headers=desk.tokens["pc_admin"]).status_code == 401
    assert desk.get("/api/v1/service-menu?site=PC", headers=desk.tokens["pc_admin"]).status_code == 401
    assert desk.get("/menu?site=PC", follow_redirects=False).status_code in (302, 303, 401)
    saved = desk.post("/menu?site=PC", data={"csrf_token": csrf, "service_0": "理发"}, follow_redirects=False)
    assert saved.status_code in (302, 303, 401)
    with reading():
        assert ServiceMenu.select().count() == 0


def test_a_revoked_kiosk_cannot_push_failed_scans_even_from_a_warm_cache(api, kiosk):
    from sync.server.db import writing
    from sync.server.models import Device
    assert kiosk.statuses([_failed(kiosk)]) == [("stored", None)]      # its token is in the cache now
    with writing():                                                   # revoked by another worker: no cache clear
        Device.update(revoked_at=1).where(Device.id == kiosk.device_id).execute()
    answer = kiosk.push([_failed(kiosk)])
    assert answer.status_code == 403 and answer.json()["code"] == "device_revoked"


def test_a_failed_scan_dated_in_the_future_does_not_head_the_list_for_ever(api, kiosk):
    import time
    from sync.server.services import failed_scans
    from sync.server.services.scope import CLI
    from tests.sync.server.helpers import T0
    future = 4_000_000_000                                            # 2096: a calendar can show it
    from sync.server.db import writing
    from sync.server.models import FailedScan
    assert kiosk.statuses([_failed(kiosk, "foreign", at=future)]) == [("stored", None)]
    now = int(time.time())
    with writing():                                                   # received an hour ago
        FailedScan.update(received_at=now - 3600).execute()
    assert kiosk.statuses([_failed(kiosk, "revoked", at=T0, vid="14020200006", serial=6)]) == [("stored", None)]
    assert [r["code"] for r in failed_scans.recent(CLI, since=now - 86400)][0] == "revoked"   # the newest received
    assert failed_scans.recent(CLI, since=now + 2 * 86400) == []       # a day later, off the list
    assert failed_scans.counts_by_device(CLI, since=now + 2 * 86400) == {}


def test_a_kiosk_cannot_file_failed_scans_for_another_station_or_kiosk(api, kiosk):
    import uuid
    from sync.server.services import failed_scans
    from sync.server.services.scope import CLI
    from tests.sync.server.conftest import enrol
    from tests.sync.server.helpers import T0
    other = enrol(api, station="s2")
    says_station = kiosk.event("failed_scan", {"id": str(uuid.uuid4()), "at": T0, "code": "foreign", "station": "s2"})
    as_other = _failed(kiosk)
    as_other["device_id"] = other.device_id
    theirs = _failed(other)
    assert other.statuses([theirs]) == [("stored", None)]
    reused = kiosk.event("failed_scan", {**theirs["payload"], "code": "revoked"})   # their row's id
    assert kiosk.statuses([says_station, as_other, reused]) == [
        ("refused", "bad_payload"), ("refused", "wrong_device"), ("stored", None)]
    rows = {(r["station"], r["device_id"], r["code"]) for r in failed_scans.recent(CLI, since=0)}
    assert rows == {("s2", other.device_id, "foreign")}                # theirs untouched, nothing at s2 from s1


def test_a_kiosk_revoked_by_another_worker_cannot_pull_past_the_cache_bound(api, kiosk, monkeypatch):
    from sync.server.db import writing
    from sync.server.models import Device
    from sync.server.services import devices
    assert kiosk.pull().status_code == 200                            # its token is in this worker's cache
    with writing():                                                   # revoked by another worker: no cache clear
        Device.update(revoked_at=1).where(Device.id == kiosk.device_id).execute()
    monkeypatch.setattr(devices, "TOKEN_CACHE_SECONDS", 0.0)          # the bound has passed
    answer = kiosk.pull()
    assert answer.status_code == 403 and answer.json()["code"] == "device_revoked"
