"""In a real browser against a real `weiguang server run`: a resident signs up on an
activity's public page at a phone's width, and a real kiosk shows the places left after its
next sync; a coordinator's kiosk PIN set on the volunteer page reaches a real kiosk as an
argon2 hash and opens coordinator mode there for that coordinator only."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.web.conftest import logged_in

pytestmark = pytest.mark.slow

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def real_kiosk(desk, tmp_path):
    from tests.sync.e2e.conftest import weiguang, weiguang_json
    kiosk = tmp_path / "kiosk.db"
    weiguang("kiosk", "init", "--db", kiosk, "--station", "文博苑社区", "--code", "WBY", "--keys", desk.data / "keys")
    code = desk.api("wby", "POST", "/api/v1/kiosks/codes", json={"station": "WBY"}).json()["code"]
    assert weiguang_json("kiosk", "enroll", "--db", kiosk, "--server", desk.url, code)["enrolled"]
    return kiosk


def sync(kiosk):
    from tests.sync.e2e.conftest import weiguang_json
    assert weiguang_json("sync", "--db", kiosk)["ok"]


def test_a_resident_signs_up_on_a_phone_and_the_kiosk_shows_the_places_left(browser, desk, tmp_path):
    a = desk.api("wby", "POST", "/api/v1/activities", json={
        "site": "WBY", "title": "重阳敬老包饺子", "category": "敬老助老", "place": "文博苑社区活动室", "capacity": 20,
        "starts_at": "2026-12-28T09:00:00+08:00", "ends_at": "2026-12-28T11:30:00+08:00"}).json()
    kiosk = real_kiosk(desk, tmp_path)
    sync(kiosk)
    context = browser.new_context(base_url=desk.url, **PHONE)      # a resident: no log-in
    page = context.new_page()
    page.goto(a["signup_url"])
    assert "重阳敬老包饺子" in page.inner_text("h1") and "余 20 个名额" in page.inner_text("#places")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")   # no sideways scrolling
    page.fill("#phone", "12345")
    page.click("#signup-submit")
    assert "请输入正确的手机号码" in page.inner_text("#signup-error")
    page.fill("#phone", "138 0013 8000")
    page.fill("#name", "王阿姨")
    page.click("#signup-submit")
    assert "138****8000" in page.inner_text("#signup-done") and "余 19 个名额" in page.inner_text("#places")
    assert "13800138000" not in page.content()
    page.goto(a["signup_url"])
    page.fill("#phone", "13800138000")
    page.click("#signup-submit")
    assert "已经报过名" in page.inner_text("#signup-error")
    page.goto(f"/lang/en?next={a['signup_url']}")
    assert "19 of 20 places left" in page.inner_text("#places")
    context.close()

    sync(kiosk)
    from kiosk.store import Activity, open_store
    from kiosk.ui.services import activity_dict
    open_store(kiosk)
    shown = activity_dict(Activity.get_by_id(a["id"]))
    assert shown["places_left"] == 19 and shown["signup_url"] == desk.url + a["signup_url"]
    # the coordinator of the station sees the whole number; the district masked
    context, page = logged_in(browser, desk, "wby")
    page.goto(f"/activities/{a['id']}")
    assert "13800138000" in page.inner_text("#signup-list") and "王阿姨" in page.inner_text("#signup-list")
    context.close()
    context, page = logged_in(browser, desk, "pc")
    page.goto(f"/activities/{a['id']}")
    assert "138****8000" in page.inner_text("#signup-list") and "13800138000" not in page.content()
    context.close()


def test_a_pin_set_at_the_center_opens_coordinator_mode_at_a_real_kiosk(browser, desk, tmp_path):
    roster = "vid,name,team,phone,role\n14020200009,张协调,,13600003333,coordinator\n14020200008,李协调,,,coordinator\n"
    from tests.sync.e2e.conftest import weiguang_json
    desk.tokens.setdefault("admin", weiguang_json("server", "token", "--data", desk.data, "--username", "admin",
                                                  "--json")["token"])     # only the center names coordinators
    answer = desk.api("admin", "POST", "/api/v1/volunteers/import?site=WBY", data=roster.encode(),
                      headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    kiosk = real_kiosk(desk, tmp_path)
    context, page = logged_in(browser, desk, "wby")
    page.goto("/volunteers/14020200009")
    assert "未设置" in page.inner_text("#pin-state")
    page.fill("#pin-input", "2580")
    page.click("#pin-submit")
    assert "密码已设置" in page.inner_text("[role=status]") and "已设置（" in page.inner_text("#pin-state")
    context.close()
    sync(kiosk)
    with sqlite3.connect(kiosk) as db:
        (value,) = db.execute("SELECT value FROM setting WHERE key = 'center_pins'").fetchone()
    assert list(json.loads(value)) == ["14020200009"] and json.loads(value)["14020200009"].startswith("$argon2")
    from kiosk.coordinator import CoordinatorPins
    from kiosk.store import open_store
    pins = CoordinatorPins(open_store(kiosk))
    assert pins.state("14020200008")["has_pin"] is False          # the other coordinator: ask the center
    for _ in range(5):
        assert pins.check("14020200009", "0000")["ok"] is False
    assert pins.check("14020200009", "2580")["locked_for"] > 0   # locked: this coordinator only
    assert pins.state("14020200008")["locked_for"] == 0
