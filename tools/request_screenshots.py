"""Screenshots of the service request pages: the coordinators' queue and one request
(desktop), the team leader's page and the resident's page (phone), in Chinese and English,
into docs/screenshots/requests-*.png.

    .venv/bin/python tools/request_screenshots.py [--out docs/screenshots]

Builds the demo's data like tools/dashboard_screenshots.py, adds a team with its leader
and requests in several states (written through the service functions), runs a real
`weiguang server run` and drives Debian's Chromium with Playwright.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.dashboard_screenshots import CHROMIUM, CHROMIUM_ARGS, LANGUAGES  # noqa: E402

ORDERS = [("上门关怀", "独居老人，每周探望一次", "13812348000"), ("家电维修", "冰箱不制冷", "13912345678"),
          ("理发", "行动不便，请上门", "15998761234"), ("助餐送餐", "午餐一份，少盐", "13600001234"),
          ("陪诊就医", "周三上午去三医院复查", "18800006666")]


def add_requests(data: Path, people) -> dict:
    """A team and its leader at WBY, requests in several states; the numbers by state."""
    import time

    from kiosk.demo import DESK_PASSWORD
    from sync.server import db
    from sync.server.models import ServiceRequest
    from sync.server.services import accounts, sites
    from sync.server.services import service_requests as sr
    from sync.server.services.scope import scope_for
    from sync.server.settings import ServerSettings
    db.open_database(ServerSettings(data_dir=data))
    db.migrate()
    team = sites.add_team("WBY", "党员志愿服务队")
    accounts.add_user("lead", site="WBY", role="team_leader", password=DESK_PASSWORD, actor="demo", replace=True)
    sr.set_team("lead", team.id, actor="demo")
    now = int(time.time())
    ids = []
    with db.writing():
        for i, (service, note, phone) in enumerate(ORDERS):
            rid = str(uuid.uuid4())
            ServiceRequest.create(id=rid, number=f"{time.strftime('%y%m%d')}-1-{i + 1:03d}", station="WBY",
                                  device_id="demo-kiosk", service=service, phone=phone, note=note,
                                  state="submitted", created_at=now - (5 - i) * 3600)
            ids.append(rid)
    coordinator, lead = scope_for(accounts.get_user("wby")), scope_for(accounts.get_user("lead"))
    for rid in ids[1:]:
        sr.act(coordinator, rid, "review")
    sr.act(coordinator, ids[2], "dispatch", team=team.id)
    sr.act(coordinator, ids[3], "dispatch", team=team.id)
    sr.act(lead, ids[3], "accept")
    sr.act(coordinator, ids[4], "open")
    db.close_database()
    return {"detail": ids[2], "number": f"{time.strftime('%y%m%d')}-1-003"}


def shoot(server, made_ids: dict, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from kiosk.demo import DESK_PASSWORD
    made = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for language in LANGUAGES:
            for user, size, pages in [("wby", (1280, 800), [("queue", "/requests?state=reviewed"),
                                                            ("detail", f"/requests/{made_ids['detail']}")]),
                                      ("lead", (390, 844), [("team", "/team")]),
                                      (None, (390, 844), [("resident", f"/r/{made_ids['number']}")])]:
                context = browser.new_context(base_url=server.url, viewport={"width": size[0], "height": size[1]},
                                              device_scale_factor=1)
                context.add_cookies([{"name": "wg_lang", "value": language, "url": server.url}])
                page = context.new_page()
                if user:
                    page.goto("/login")
                    page.fill("#username", user)
                    page.fill("#password", DESK_PASSWORD)
                    page.click("#login")
                    page.wait_for_url(server.url + "/")
                for name, path in pages:
                    page.goto(path)
                    if name == "resident":
                        page.fill("#last4", "5678")
                        page.click("button[value=lookup]")
                    target = out / f"requests-{name}-{'phone' if size[0] < 500 else 'desktop'}-{language}.png"
                    page.screenshot(path=str(target), full_page=True)
                    made.append(target)
                context.close()
        browser.close()
    return made


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wg-req-shots-") as folder:
        from kiosk import demo
        server = demo.LocalServer(Path(folder) / "server", log=Path(folder) / "server.log").init()
        people = demo.volunteers(30)
        demo.load_server_data(Path(folder) / "server", people, revoked_serial=6)
        made_ids = add_requests(Path(folder) / "server", people)
        server.start()
        try:
            made = shoot(server, made_ids, out)
        finally:
            server.stop()
    print(f"{len(made)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
