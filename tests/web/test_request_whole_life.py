"""One service request through its whole life, every part real: ordered on the touchscreen
of a real kiosk window (Kivy under Xvfb, its own store and sync agent) while the center
(a real `weiguang server run`) cannot be reached; synced by the kiosk's agent when it can;
reviewed and dispatched on the dashboard in Chromium (Playwright); accepted and completed
on the team leader's phone page; rated back at the kiosk window with the request number
and the phone's last four digits; the rating carried to the center as an outbox event
(refused cleanly before completion, counted once when sent twice); the delivering
volunteers' hours credited (JSON API)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.kiosk.ui.conftest import ROOT, xdisplay  # noqa: F401 - the Xvfb fixture
from tests.sync.e2e.conftest import weiguang, weiguang_json
from tests.sync.e2e.faultproxy import FaultProxy
from tests.web.conftest import PASSWORD, logged_in

pytestmark = [pytest.mark.slow, pytest.mark.ui]

PHONE = "13812348000"
PHONE_SIZE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 2}
VOLUNTEERS = ("14020200001", "14020200002")


def raw(db: Path) -> bytes:
    """The database and its write-ahead log, as a thief with the disk would read them."""
    out = db.read_bytes()
    for suffix in ("-wal", "-journal"):
        extra = db.with_name(db.name + suffix)
        if extra.exists():
            out += extra.read_bytes()
    return out


class KioskWindow:
    """`python -m tests.kiosk.ui.real_kiosk`: the kiosk app on `db`, one journey."""

    def __init__(self, display: str, db: Path, folder: Path, journey: str, lang: str = "zh_CN", **params):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.log = folder, open(folder / "window.log", "w")
        env = dict(os.environ, DISPLAY=display, WEIGUANG_NO_SOUND="1", KIVY_NO_CONSOLELOG="1",
                   PYTHONPATH=str(ROOT))
        env.pop("DATABASE_URL", None)
        args = [sys.executable, "-m", "tests.kiosk.ui.real_kiosk", "--db", str(db), "--journey", journey,
                "--dir", str(folder), "--lang", lang] + [f"--param={k}={v}" for k, v in params.items()]
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_for(self, flag: str, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        path = self.folder / f"{flag}.flag"
        while not path.exists():
            if self.proc.poll() is not None:
                raise AssertionError(f"the kiosk window ended before {flag!r}:\n{self.result()}\n{self.tail()}")
            assert time.monotonic() < deadline, f"no {flag!r} from the kiosk window:\n{self.tail()}"
            time.sleep(0.1)
        return json.loads(path.read_text())

    def go(self, name: str) -> None:
        (self.folder / f"{name}.go").write_text("go")

    def finish(self, timeout: float = 240) -> dict:
        try:
            self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
            self.log.close()
        result = self.result()
        assert result.get("error") is None, f"{result.get('error')}\n{result.get('labels_at_error')}\n{self.tail()}"
        return result

    def result(self) -> dict:
        path = self.folder / "result.json"
        return json.loads(path.read_text()) if path.exists() else {"error": "no result"}

    def tail(self) -> str:
        path = self.folder / "window.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


@pytest.fixture(scope="module")
def team(desk):
    weiguang("server", "user", "add", "--data", desk.data, "--username", "lead", "--site", "WBY",
             "--role", "team_leader", "--password", PASSWORD)
    return weiguang_json("server", "team", "--data", desk.data, "--site", "WBY", "--name", "党员志愿服务队",
                         "--leader", "lead", "--json")


@pytest.fixture
def proxy(desk):
    """Between the kiosk and the center: set to "refuse", the center cannot be reached."""
    with FaultProxy(urlparse(desk.url).port) as proxy:
        yield proxy


def outbox(db: Path, kind: str) -> list[tuple]:
    with closing(sqlite3.connect(db)) as con:
        return con.execute("SELECT id, status, code FROM outbox WHERE type = ? ORDER BY seq", (kind,)).fetchall()


def test_ordered_offline_at_a_kiosk_rated_back_at_the_kiosk(browser, desk, team, proxy, xdisplay, tmp_path):  # noqa: F811
    kiosk = tmp_path / "kiosk.db"
    weiguang("kiosk", "init", "--db", kiosk, "--station", "文博苑社区", "--code", "WBY", "--keys", desk.data / "keys")
    code = desk.api("wby", "POST", "/api/v1/kiosks/codes", json={"station": "WBY"}).json()["code"]
    assert weiguang_json("kiosk", "enroll", "--db", kiosk, "--server", proxy.url, code)["enrolled"]
    with closing(sqlite3.connect(kiosk)) as con:
        device = con.execute("SELECT value FROM setting WHERE key = 'device_id'").fetchone()
    proxy.set("refuse")                         # the center cannot be reached
    # 1. 点单 at the kiosk window, offline: the number at once, the order in the outbox.
    window = KioskWindow(xdisplay, kiosk, tmp_path / "order", "order_offline", service="家电维修",
                         preset="冰箱不制冷", phone=PHONE)
    offline = window.wait_for("offline")
    number = offline["number"]
    assert number in offline["receipt_labels"] and offline["offline_status"]["pending"] >= 1
    assert offline["offline_net"].startswith("未联网")
    assert desk.api("wby", "GET", "/api/v1/requests").json()["total"] == 0      # the center has nothing yet
    assert PHONE.encode() in raw(kiosk)
    proxy.set("pass")                           # the center is back: the kiosk's agent syncs
    window.go("online")
    order = window.finish()
    assert order["online_status"]["pending"] == 0 and order["online_status"]["ok"]
    assert order["early_state"] == "submitted" and not order["early_rating_shown"]   # nothing to rate yet
    assert order["early_message"] == "家电维修：待审核"
    assert PHONE.encode() not in raw(kiosk)                           # the center has it: gone from the kiosk
    items = desk.api("wby", "GET", "/api/v1/requests").json()["items"]
    assert [(i["number"], i["phone"], i["service"], i["note"]) for i in items] == [
        (number, PHONE, "家电维修", "冰箱不制冷")]
    rid = items[0]["id"]

    # 2. 审单 and 派单 on the dashboard.
    context, page = logged_in(browser, desk, "wby")
    page.goto("/requests")
    page.locator(f"#r-{number} a.number").click()
    page.click("#do-review")
    assert "已审核通过" in page.inner_text("#done")
    page.select_option("#team-choice", label="党员志愿服务队")
    page.click("#do-dispatch")
    assert page.inner_text("#state") == "已派单" and page.inner_text("#team") == "党员志愿服务队"
    context.close()

    # 3. 接单 on the team leader's phone.
    context, page = logged_in(browser, desk, "lead", **PHONE_SIZE)
    page.goto("/team")
    job = page.locator(f"#job-{number}")
    assert PHONE in job.inner_text()                                  # the holding team sees it whole
    job.locator("button[value=accept]").click()
    assert "已接单" in page.inner_text("#done")

    # A rating before completion, from another kiosk of the station that has not heard of
    # the request: queued there, refused by the center as an illegal transition.
    other = tmp_path / "other.db"
    weiguang("kiosk", "init", "--db", other, "--station", "文博苑社区", "--code", "WBY", "--keys", desk.data / "keys")
    early = weiguang_json("kiosk", "rate", "--db", other, "--number", number, "--last4", PHONE[-4:], "--rating", "5")
    assert early["result"] == "queued"
    code = desk.api("wby", "POST", "/api/v1/kiosks/codes", json={"station": "WBY"}).json()["code"]
    assert weiguang_json("kiosk", "enroll", "--db", other, "--server", desk.url, code)["enrolled"]
    weiguang("sync", "--db", other, check=False)
    assert outbox(other, "service_rating") == [(outbox(other, "service_rating")[0][0], "refused",
                                                "illegal_transition")]
    assert desk.api("wby", "GET", f"/api/v1/requests/{rid}").json()["state"] == "accepted"

    # 4. Completed with a report, the volunteers who went and the time it took.
    job = page.locator(f"#job-{number}")
    job.locator("textarea[name=report]").fill("更换了温控器，已恢复制冷")
    job.locator("input[name=minutes]").fill("90")
    job.locator("input[name=volunteers]").fill("，".join(VOLUNTEERS))
    job.locator("button[value=complete]").click()
    assert "已完成" in page.inner_text("#done")
    context.close()
    before = {vid: desk.api("wby", "GET", f"/api/v1/volunteers/{vid}").json()["minutes"] for vid in VOLUNTEERS}

    # 5. 评单 back at the kiosk window: number + last four digits, 5 stars, a comment.
    window = KioskWindow(xdisplay, kiosk, tmp_path / "rate", "rate_completed", number=number, last4=PHONE[-4:],
                         stars="5", comment="技术专业")
    rated = window.finish()
    assert (rated["chosen"], rated["stars"]) == (["技术专业"], 5)
    assert rated["wrong_message"] and rated["found_state"] == "completed"
    assert rated["found_message"] == "家电维修：服务已完成"
    assert rated["after_status"]["pending"] == 0 and rated["after_status"]["refused"] == 0
    assert rated["again_state"] == "rated" and not rated["again_rating_shown"]    # no second rating here
    got = desk.api("wby", "GET", f"/api/v1/requests/{rid}").json()
    assert (got["state"], got["rating"], got["comments"]) == ("rated", 5, ["技术专业"])
    rate_steps = [t for t in got["transitions"] if t["action"] == "rate"]
    assert [t["actor"] for t in rate_steps] == [f"kiosk:{json.loads(device[0])}"]
    (event_id, status, _code), = outbox(kiosk, "service_rating")
    assert status == "stored"                                         # it went as an event of the outbox
    # The same event sent again (an answer lost on the way): a duplicate, the request rated once.
    # closed before the kiosk's own process runs: a connection left open here, in a process
    # that also reads the file's bytes (raw), loses its locks and sees a stale WAL index
    with closing(sqlite3.connect(kiosk)) as con, con:
        con.execute("UPDATE outbox SET status = 'pending', code = NULL WHERE id = ?", (event_id,))
    resent = weiguang_json("sync", "--db", kiosk)
    assert (resent["ok"], resent["pushed"], resent["duplicates"], resent["refused"]) == (True, 1, 1, 0)
    assert outbox(kiosk, "service_rating") == [(event_id, "stored", None)]   # the kiosk keeps a duplicate as stored
    again = desk.api("wby", "GET", f"/api/v1/requests/{rid}").json()
    assert [t["action"] for t in again["transitions"]].count("rate") == 1 and again["rating"] == 5

    # 6. The hours: both volunteers, 90 minutes each, waiting for review like any hours;
    # approved, they count.
    queue = desk.api("wby", "GET", "/api/v1/review?site=WBY").json()["items"]
    mine = {i["vid"]: i for i in queue if "service_request" in i["flags"]}
    assert sorted((vid, i["minutes"]) for vid, i in mine.items()) == [(v, 90) for v in VOLUNTEERS]
    answer = desk.api("wby", "POST", "/api/v1/review", json={"action": "approve",
                                                             "session_ids": [i["session_id"] for i in mine.values()]})
    assert answer.status_code == 200, answer.text
    after = {vid: desk.api("wby", "GET", f"/api/v1/volunteers/{vid}").json()["minutes"] for vid in VOLUNTEERS}
    assert {vid: after[vid] - before[vid] for vid in VOLUNTEERS} == {vid: 90 for vid in VOLUNTEERS}
