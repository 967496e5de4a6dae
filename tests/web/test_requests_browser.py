"""A service request through its life in a real browser (Playwright + Debian's Chromium)
against a real `weiguang server run`: ordered at a real kiosk while offline, synced (its
phone number leaves the kiosk), reviewed and dispatched by the station's coordinator,
accepted and completed by the team leader on a phone-sized screen, rated by the resident
on their phone, the volunteers' hours waiting for review; and a rejection."""

from __future__ import annotations

import re

import pytest

from tests.sync.e2e.conftest import weiguang, weiguang_json
from tests.web.conftest import PASSWORD, logged_in

pytestmark = pytest.mark.slow

PHONE = "13812348000"
PHONE_SIZE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 2}


@pytest.fixture(scope="module")
def team(desk):
    """A team at WBY and its leader `lead` (a team_leader account), made with the real CLI."""
    weiguang("server", "user", "add", "--data", desk.data, "--username", "lead", "--site", "WBY",
             "--role", "team_leader", "--password", PASSWORD)
    made = weiguang_json("server", "team", "--data", desk.data, "--site", "WBY", "--name", "党员志愿服务队",
                         "--leader", "lead", "--json")
    desk.tokens["lead"] = weiguang_json("server", "token", "--data", desk.data, "--username", "lead",
                                        "--json")["token"]
    return made


def kiosk_order(desk, tmp_path, service="家电维修", note="冰箱不制冷") -> tuple[str, object]:
    kiosk = tmp_path / "kiosk.db"
    weiguang("kiosk", "init", "--db", kiosk, "--station", "文博苑社区", "--code", "WBY", "--keys", desk.data / "keys")
    code = desk.api("wby", "POST", "/api/v1/kiosks/codes", json={"station": "WBY"}).json()["code"]
    assert weiguang_json("kiosk", "enroll", "--db", kiosk, "--server", desk.url, code)["enrolled"]
    # Offline: the order waits in the outbox with its number; the sync comes later.
    order = weiguang_json("kiosk", "request", "--db", kiosk, "--service", service, "--phone", PHONE, "--note", note)
    assert order["result"] == "queued"
    assert PHONE.encode() in kiosk.read_bytes() + (kiosk.with_name(kiosk.name + "-wal").read_bytes()
                                                   if kiosk.with_name(kiosk.name + "-wal").exists() else b"")
    assert weiguang_json("sync", "--db", kiosk)["ok"]
    return order["number"], kiosk


def raw(db) -> bytes:
    wal = db.with_name(db.name + "-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_a_request_from_kiosk_to_rating(browser, desk, team, tmp_path):
    number, kiosk = kiosk_order(desk, tmp_path)
    assert PHONE.encode() not in raw(kiosk)                       # the center has it: gone from the kiosk
    # The coordinator reviews and dispatches.
    context, page = logged_in(browser, desk, "wby")
    page.goto("/requests")
    row = page.locator(f"#r-{number}")
    assert PHONE in row.inner_text()                              # their own station: the whole number
    row.locator("a.number").click()
    page.click("#do-review")
    assert "已审核通过" in page.inner_text("#done")
    page.select_option("#team-choice", label="党员志愿服务队")
    page.click("#do-dispatch")
    assert page.inner_text("#state") == "已派单" and page.inner_text("#team") == "党员志愿服务队"
    page.goto("/requests?state=dispatched")
    assert number in page.inner_text("#queue")
    context.close()
    # Another coordinator above the station sees it masked.
    context, page = logged_in(browser, desk, "pc")
    page.goto("/requests?state=dispatched")
    assert "138****8000" in page.inner_text(f"#r-{number}") and PHONE not in page.content()
    context.close()
    # The team leader, on a phone: accepts, then completes with a report.
    context, page = logged_in(browser, desk, "lead", **PHONE_SIZE)
    page.goto("/team")
    job = page.locator(f"#job-{number}")
    assert PHONE in job.inner_text() and "冰箱不制冷" in job.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390     # nothing wider than the phone
    job.locator("button[value=accept]").click()
    assert "已接单" in page.inner_text("#done")
    job = page.locator(f"#job-{number}")
    job.locator("textarea[name=report]").fill("更换了温控器，已恢复制冷")
    job.locator("input[name=minutes]").fill("90")
    job.locator("input[name=volunteers]").fill("14020200001，14020200002")
    page.screenshot(path=str(tmp_path / "team.png"))
    job.locator("button[value=complete]").click()
    assert "已完成" in page.inner_text("#done")
    context.close()
    # The resident rates on their own phone (the receipt's QR code opens /r/NUMBER).
    context = browser.new_context(base_url=desk.url, **PHONE_SIZE)
    page = context.new_page()
    page.goto(f"/r/{number}")
    page.fill("#last4", "8000")
    page.click("button[value=lookup]")
    assert page.inner_text("#state") == "已完成"
    page.check("input[name=rating][value='5']")
    page.check("input[name=comment][value='技术专业']")
    page.click("#do-rate")
    assert "谢谢您的评价" in page.inner_text("#done") and page.inner_text("#state") == "已评价"
    context.close()
    # The hours: both volunteers, 90 minutes each, waiting in the review queue.
    queue = desk.api("wby", "GET", "/api/v1/review?site=WBY").json()["items"]
    mine = sorted((i["vid"], i["minutes"]) for i in queue if "service_request" in i["flags"])
    assert mine == [("14020200001", 90), ("14020200002", 90)]
    detail = desk.api("wby", "GET", "/api/v1/requests?state=rated").json()["items"]
    assert [(d["number"], d["rating"], d["comments"]) for d in detail] == [(number, 5, ["技术专业"])]


def test_a_request_rejected_with_a_reason(browser, desk, team, tmp_path):
    number, _kiosk = kiosk_order(desk, tmp_path, service="代购代办", note="买药")
    context, page = logged_in(browser, desk, "wby")
    page.goto("/requests?state=submitted")
    page.locator(f"#r-{number} a.number").click()
    page.click("#do-reject")                                      # no reason: refused on the page
    assert "请填写原因" in page.inner_text("#error")
    page.fill("#reason", "药品请到社区卫生站购买")
    page.click("#do-reject")
    assert page.inner_text("#state") == "未通过"
    assert re.search("药品请到社区卫生站购买", page.inner_text("#request"))
    context.close()
