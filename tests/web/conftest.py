"""The dashboard against a real `weiguang server run` on 127.0.0.1, driven by Playwright
in Debian's Chromium (/usr/bin/chromium, installed by .ci/system-packages.sh; Playwright's
own browser download is never used).

`desk` (module) is one server with the demo's shape: the network (PC > PC-XJNL > WBY, HYL;
YG > YGZ), coordinators wby (WBY) and hyl (HYL), a roster at each station, badges,
sessions waiting for review at each, an activity and a kiosk at each. Accounts, sites
and tokens are made with the real CLI; rosters, badges and activities through the JSON
API with API tokens; review sessions directly in the database (as the session service
will leave them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.sync.e2e.conftest import child_env, free_port, weiguang, weiguang_json

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "correct horse battery"
SITES = ("code,name,tier,parent,timezone\n"
         "DT,大同市新时代文明实践中心,center,,Asia/Shanghai\n"
         "PC,平城区新时代文明实践中心,center,DT,\n"
         "YG,云冈区新时代文明实践中心,center,DT,\n"
         "PC-XJNL,新建南路街道新时代文明实践所,institute,PC,\n"
         "YG-YGZ,云冈镇新时代文明实践所,institute,YG,\n"
         "WBY,文博苑社区,station,PC-XJNL,\n"
         "HYL,和阳里社区,station,PC-XJNL,\n"
         "YGZ,云冈镇综合站,station,YG-YGZ,\n")
ROSTERS = {
    "WBY": "vid,name,team,phone\n14020200001,林建国,党员志愿服务队,13912345678\n14020200002,王秀英,巾帼志愿服务队,13800001111\n",
    "HYL": "vid,name,team,phone\n14020300001,赵志强,“邻里关照”志愿服务队,13700002222\n",
}
T0 = 1_780_000_000


@dataclass
class Desk:
    data: Path
    url: str
    process: subprocess.Popen
    tokens: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)      # station -> [session ids in review]
    activities: dict = field(default_factory=dict)    # station -> activity id
    kiosks: dict = field(default_factory=dict)        # station -> device id

    def api(self, user: str, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[user]}", **kwargs.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if requests.get(url + "/api/v1/health", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not start")


def _review_sessions(data: Path) -> dict:
    """Sessions in state "review" at each station, written straight into the server's database."""
    from sync.server import db
    from sync.server.models import HoursSession
    from sync.server.settings import ServerSettings
    made = {"WBY": [], "HYL": []}
    db.open_database(ServerSettings(data_dir=data, database_url=None))
    try:
        with db.writing():
            for station, vid, minutes, flags in [
                    ("WBY", "14020200001", 60, ""), ("WBY", "14020200001", 120, "auto_closed"),
                    ("WBY", "14020200001", 90, "recorded_offline,clock_skew"),
                    ("WBY", "14020200001", 45, "two_stations"), ("HYL", "14020300001", 30, "auto_closed")]:
                sid = str(uuid.uuid4())
                state = "closed" if not flags else "review"
                HoursSession.create(id=sid, vid=vid, serial=1, station=station, device_id="d", check_in_at=T0,
                                    check_out_at=T0 + minutes * 60, minutes=minutes, flags=flags, state=state)
                if state == "review":
                    made[station].append(sid)
    finally:
        db.close_database()
    return made


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    root = tmp_path_factory.mktemp("desk")
    data = root / "center"
    weiguang("server", "init", "--data", data, "--admin-password", "admin-password-1")
    (root / "sites.csv").write_text(SITES, encoding="utf-8")
    weiguang("server", "sites", "import", "--data", data, root / "sites.csv")
    for user, site in [("wby", "WBY"), ("hyl", "HYL"), ("pc", "PC")]:
        weiguang("server", "user", "add", "--data", data, "--username", user, "--site", site, "--password", PASSWORD)
    tokens = {u: weiguang_json("server", "token", "--data", data, "--username", u, "--json")["token"]
              for u in ("wby", "hyl", "pc")}
    sessions = _review_sessions(data)
    port = free_port()
    log = root / "server.log"
    env = {**child_env(), "WEIGUANG_LOGIN_PER_CLIENT_PER_MINUTE": "500"}
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "server", "run", "--data", str(data),
                                    "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env)
    desk = Desk(data, f"http://127.0.0.1:{port}", process, tokens, sessions)
    try:
        _wait_healthy(desk.url, process, log)
        for station, user in (("WBY", "wby"), ("HYL", "hyl")):
            answer = desk.api(user, "POST", f"/api/v1/volunteers/import?site={station}",
                              data=ROSTERS[station].encode("utf-8"), headers={"Content-Type": "text/csv"})
            assert answer.status_code == 200, answer.text
            vid = ROSTERS[station].splitlines()[1].split(",")[0]
            assert desk.api(user, "POST", f"/api/v1/badges/{vid}/issue").status_code == 200
            activity = desk.api(user, "POST", "/api/v1/activities", json={
                "site": station, "title": f"{station} 义诊体检", "starts_at": "2026-12-01T09:00:00+08:00",
                "ends_at": "2026-12-01T11:00:00+08:00"})
            desk.activities[station] = activity.json()["id"]
            code = desk.api(user, "POST", "/api/v1/kiosks/codes", json={"station": station}).json()["code"]
            desk.kiosks[station] = requests.post(desk.url + "/api/v1/devices/enroll", json={"code": code},
                                                 timeout=30).json()["device_id"]
        yield desk
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (bash .ci/system-packages.sh)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def logged_in(browser, desk, user: str, **context_args):
    """A new browser context logged in as `user` through the log-in form."""
    context = browser.new_context(base_url=desk.url, **context_args)
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(desk.url + "/")
    return context, page
