"""The service menu page (/menu) and its JSON twin (GET/PUT /api/v1/service-menu): center
administrators only; items with their preset descriptions, in Chinese and optionally
English; a wrong menu said on the page; what is saved reaches the kiosks below in the pull.
Both backends."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sync.server.services import accounts
from tests.sync.server.center import add, log_in, page_csrf
from tests.sync.server.conftest import enrol
from tests.sync.server.test_service_requests import center  # noqa: F401  (fixture)


@pytest.fixture
def desk(server_app, center):  # noqa: F811
    add("pc_admin", "PC", "center_admin")
    add("yg_admin", "YG", "center_admin")
    with TestClient(server_app) as client:
        client.tokens = {n: {"Authorization": f"Bearer {accounts.make_token(n)}"}
                         for n in ("wby", "pc", "pc_admin", "yg_admin")}
        yield client


def form(csrf: str, *rows) -> dict:
    data = {"csrf_token": csrf}
    for i, (name, name_en, presets, presets_en) in enumerate(rows):
        data.update({f"service_{i}": name, f"service_en_{i}": name_en, f"presets_{i}": presets,
                     f"presets_en_{i}": presets_en})
    return data


def test_a_center_admin_edits_the_menu_on_the_page(desk, center):  # noqa: F811
    kiosk = center["kiosk"]                                         # at WBY, below PC
    log_in(desk, "pc_admin")
    page = desk.get("/menu?site=PC")
    assert page.status_code == 200 and 'id="service_0"' in page.text and "上门关怀" in page.text   # the default
    csrf = page_csrf(desk, "/menu?site=PC")
    saved = desk.post("/menu?site=PC", data=form(csrf, ("理发", "Haircut", "行动不便，请上门\r\n\r\n儿童理发\n",
                                                        "At home, please\nFor a child"),
                                                  ("磨刀", "", "菜刀两把", ""), ("", "", "", "")),
                      follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/menu?site=PC&done=saved"
    menu = [{"service": "理发", "presets": ["行动不便，请上门", "儿童理发"], "service_en": "Haircut",
             "presets_en": ["At home, please", "For a child"]}, {"service": "磨刀", "presets": ["菜刀两把"]}]
    pulled = [c["data"] for c in kiosk.pull().json()["changes"] if c["kind"] == "service_menu"]
    assert pulled == [{"items": menu, "site": "PC"}]
    again = desk.get("/menu?site=PC&done=saved").text
    assert 'id="done"' in again and "At home, please\nFor a child" in again
    # The JSON twin says the same, for a station below too; a coordinator may read it.
    twin = desk.get("/api/v1/service-menu?site=WBY", headers=desk.tokens["wby"]).json()
    assert twin["site"] == "PC" and [(i["service"], i["service_en"]) for i in twin["items"]] == [
        ("理发", "Haircut"), ("磨刀", "")]
    assert 'id="source"' in desk.get("/menu?site=WBY").text
    # English presets that do not match the Chinese ones one for one: said on the page.
    bad = desk.post("/menu?site=PC", data=form(csrf, ("理发", "", "上门\n儿童", "At home")))
    assert bad.status_code == 422 and "上门\n儿童" in bad.text                # what was typed stays
    assert "服务 1：英文描述须与中文描述一一对应" in bad.text
    unnamed = desk.post("/menu?site=PC", data=form(csrf, ("理发", "", "", ""), ("", "", "菜刀两把", "")))
    assert unnamed.status_code == 422 and "服务 2：请填写服务名称" in unnamed.text
    assert len([c for c in kiosk.pull().json()["changes"] if c["kind"] == "service_menu"]) == 1   # nothing new
    # No CSRF token: refused.
    assert desk.post("/menu?site=PC", data={"service_0": "理发"}).status_code == 403


def test_only_center_admins_of_the_site_may_set_it(desk, center):  # noqa: F811
    item = {"items": [{"service": "理发", "presets": []}]}
    for user, status, code in [("wby", 403, "forbidden"), ("pc", 403, "forbidden"), ("yg_admin", 404, "not_found")]:
        answer = desk.put("/api/v1/service-menu?site=PC", json=item, headers=desk.tokens[user])
        assert (answer.status_code, answer.json()["code"]) == (status, code), user
    assert desk.put("/api/v1/service-menu?site=PC", json=item, headers=desk.tokens["pc_admin"]).json()["site"] == "PC"
    log_in(desk, "wby")
    assert desk.get("/menu?site=WBY").status_code == 403
    log_in(desk, "yg_admin")
    assert desk.get("/menu?site=PC").status_code == 404
    assert desk.get("/menu").status_code == 200                 # their own center
    # The link from the requests page: for center administrators only.
    assert 'id="menu-link"' in desk.get("/requests").text
    log_in(desk, "pc")
    assert 'id="menu-link"' not in desk.get("/requests").text
