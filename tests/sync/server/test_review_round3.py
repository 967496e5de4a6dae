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
