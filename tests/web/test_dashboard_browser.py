"""The dashboard in a real browser (Playwright + Debian's Chromium) against a real
`weiguang server run`: log in and out; a station coordinator cannot see or change another
station's volunteers, sessions, activities or kiosks through pages, exports, downloads or
direct URLs; a form without its CSRF token is refused; a roster CSV with one bad row
imports nothing and names the row, the fixed file imports; approve, adjust and reject
hours in place and see the totals change."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import PASSWORD, logged_in

pytestmark = pytest.mark.slow


def confirmed_hours(page, vid: str) -> float:
    page.goto(f"/volunteers/{vid}")
    return float(page.inner_text("#hours"))


def test_log_in_and_out(browser, desk):
    context = browser.new_context(base_url=desk.url)
    page = context.new_page()
    page.goto("/volunteers")
    assert "/login" in page.url                                  # not logged in: the log-in page
    page.fill("#username", "wby")
    page.fill("#password", "wrong password")
    page.click("#login")
    assert "用户名或密码错误" in page.inner_text("[role=alert]")
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(re.compile(r".*/volunteers$"))             # back where it was going
    assert "林建国" in page.content()
    cookie = next(c for c in context.cookies() if c["name"] == "wg_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/login\?out=1"))
    assert "已退出登录" in page.content()
    assert page.goto("/api/v1/me").status == 401
    context.close()


def test_english_switch(browser, desk):
    context, page = logged_in(browser, desk, "wby")
    page.click("text=English")
    assert page.inner_text("h1").startswith("Hello") and "Hour review" in page.content()
    page.click("text=中文")
    assert "工时审核" in page.content()
    context.close()


def test_another_stations_things_do_not_exist(browser, desk):
    context, page = logged_in(browser, desk, "hyl")
    # Lists show only HYL's.
    page.goto("/volunteers")
    assert "赵志强" in page.content() and "林建国" not in page.content()
    page.goto("/review")
    assert "赵志强" in page.content() and "林建国" not in page.content()
    page.goto("/activities")
    assert "HYL 义诊体检" in page.content() and "WBY 义诊体检" not in page.content()
    page.goto("/fleet")
    assert desk.kiosks["HYL"][:13] in page.content() and desk.kiosks["WBY"][:13] not in page.content()
    # Direct URLs, exports and downloads of WBY's: 404.
    wby_session = desk.sessions["WBY"][0]
    for path in ["/volunteers/14020200001", "/volunteers?site=WBY", "/volunteers/export.csv?site=WBY",
                 "/volunteers/badges.pdf?site=WBY", "/review?site=WBY", f"/activities/{desk.activities['WBY']}",
                 "/activities?site=WBY", "/fleet?site=WBY", "/api/v1/volunteers/14020200001",
                 "/api/v1/volunteers.csv?site=WBY", "/api/v1/badges.pdf?site=WBY"]:
        assert context.request.get(path).status == 404, path
    # The whole-scope export holds only HYL's people.
    export = context.request.get("/volunteers/export.csv").text()
    assert "赵志强" in export and "林建国" not in export
    # Changes posted with hyl's own valid CSRF token: still 404, nothing changed.
    page.goto("/volunteers")
    token = page.get_attribute("input[name=csrf_token]", "value")
    for path, form in [(f"/review/{wby_session}", {"action": "approve"}),
                       ("/volunteers/14020200001/badge", {"action": "revoke"}),
                       (f"/activities/{desk.activities['WBY']}/cancel", {"reason": "x"}),
                       (f"/fleet/{desk.kiosks['WBY']}/revoke", {}),
                       ("/fleet/code", {"station": "WBY"})]:
        assert context.request.post(path, form={**form, "csrf_token": token}).status == 404, path
    assert desk.api("wby", "GET", f"/api/v1/volunteers/14020200001").json()["badge"]["revoked"] is False
    assert wby_session in [i["session_id"] for i in desk.api("wby", "GET", "/api/v1/review").json()["items"]]
    context.close()


def test_a_form_without_its_csrf_token_is_refused(browser, desk):
    context, page = logged_in(browser, desk, "wby")
    page.goto("/volunteers/14020200002")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    with page.expect_response(lambda r: r.url.endswith("/volunteers/14020200002/badge")) as answer:
        page.click("#issue")
    assert answer.value.status == 403
    assert "表单已过期" in page.content()
    assert desk.api("wby", "GET", "/api/v1/volunteers/14020200002").json()["badge"] is None
    context.close()


def test_import_a_bad_file_then_the_fixed_one(browser, desk, tmp_path):
    context, page = logged_in(browser, desk, "wby")
    bad = tmp_path / "bad.csv"
    bad.write_bytes("vid,name,team\n14020200011,李明,青年志愿服务队\n110101199003077777,张伟,\n".encode("gbk"))
    page.goto("/volunteers?site=WBY")
    page.select_option("#import-site", "WBY")
    page.set_input_files("#file", str(bad))
    page.click("#import")
    alert = page.inner_text("#refused")
    assert "没有导入任何数据" in alert and "第 3 行" in alert
    assert desk.api("wby", "GET", "/api/v1/volunteers?q=14020200011").json()["total"] == 0
    fixed = tmp_path / "fixed.csv"
    fixed.write_bytes("vid,name,team\n14020200011,李明,青年志愿服务队\n14020200012,张伟,\n".encode("gbk"))
    page.set_input_files("#file", str(fixed))
    page.click("#import")
    assert "已导入 2 人" in page.inner_text("#imported")
    assert "李明" in page.inner_text("#roster")
    context.close()


def test_approve_adjust_reject_and_see_the_totals(browser, desk):
    context, page = logged_in(browser, desk, "wby")
    vid = "14020200001"
    before = confirmed_hours(page, vid)                          # the closed 60-minute session
    assert before == 1.0
    approve, adjust, reject = desk.sessions["WBY"]
    page.goto("/review")
    row = page.locator(f"#s-{approve}")
    assert "自动签退" in row.inner_text()
    row.locator("button[value=approve]").click()
    page.wait_for_selector(f"#s-{approve} .state")                # replaced in place by htmx
    assert "已通过" in page.inner_text(f"#s-{approve}") and "3.0 小时" in page.inner_text(f"#s-{approve}")
    row = page.locator(f"#s-{adjust}")
    row.locator("input[name=minutes]").fill("30")
    row.locator("button[value=adjust]").click()
    page.wait_for_selector(f"#s-{adjust} [role=alert]")          # a reason is required
    assert "请填写原因" in page.inner_text(f"#s-{adjust}")
    row = page.locator(f"#s-{adjust}")
    row.locator("input[name=minutes]").fill("30")
    row.locator("input[name=reason]").fill("提前离开")
    row.locator("button[value=adjust]").click()
    page.wait_for_selector(f"#s-{adjust} .state")
    assert "已调整" in page.inner_text(f"#s-{adjust}") and "3.5 小时" in page.inner_text(f"#s-{adjust}")
    row = page.locator(f"#s-{reject}")
    row.locator("input[name=reason]").fill("重复记录")
    row.locator("button[value=reject]").click()
    page.wait_for_selector(f"#s-{reject} .state")
    assert "未通过" in page.inner_text(f"#s-{reject}")
    assert confirmed_hours(page, vid) == 3.5                     # 60 + 120 + 30 minutes
    page.goto("/review")
    assert "没有需要审核的工时" in page.content()
    page.goto("/audit")
    assert "session.adjust" in page.content() and "提前离开" in page.content()
    context.close()


def test_a_badge_revoked_and_an_activity_created_in_the_browser_reach_a_real_kiosk(browser, desk, tmp_path):
    import sqlite3

    from tests.sync.e2e.conftest import weiguang, weiguang_json
    kiosk = tmp_path / "kiosk.db"
    weiguang("kiosk", "init", "--db", kiosk, "--station", "文博苑社区", "--code", "WBY", "--keys", desk.data / "keys")
    code = desk.api("wby", "POST", "/api/v1/kiosks/codes", json={"station": "WBY"}).json()["code"]
    assert weiguang_json("kiosk", "enroll", "--db", kiosk, "--server", desk.url, code)["enrolled"]
    token = desk.api("wby", "POST", "/api/v1/badges/14020200002/issue").json()["token"]
    assert weiguang_json("sync", "--db", kiosk)["ok"]
    assert weiguang_json("kiosk", "scan", "--db", kiosk, token)["result"] == "checked_in"
    context, page = logged_in(browser, desk, "wby")
    page.goto("/volunteers/14020200002")
    page.once("dialog", lambda dialog: dialog.accept())           # "revoke this badge?"
    page.click("#revoke")
    assert "设备下次同步后拒绝此卡" in page.inner_text("[role=status]")
    page.goto("/activities?site=WBY")
    page.fill("#title", "城市垃圾捡拾")
    page.fill("#starts_at", "2026-12-02T09:00")
    page.fill("#ends_at", "2026-12-02T11:00")
    page.click("#save-activity")
    assert "城市垃圾捡拾" in page.inner_text("#activities")
    context.close()
    assert weiguang_json("sync", "--db", kiosk)["ok"]
    refused = weiguang_json("kiosk", "scan", "--db", kiosk, "--at", "2026-12-30T12:00+08:00", token)
    assert (refused["result"], refused["code"]) == ("refused", "revoked")
    with sqlite3.connect(kiosk) as db:
        assert ("城市垃圾捡拾",) in db.execute("SELECT title FROM activity").fetchall()
