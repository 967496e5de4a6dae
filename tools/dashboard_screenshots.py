"""Screenshots of every page of the center's dashboard, at desktop (1280×800) and phone
(390×844) widths, in Chinese and English, into docs/screenshots/center-*.png.

    .venv/bin/python tools/dashboard_screenshots.py [--out docs/screenshots] [--only menu]

A development tool: it builds the demo's data (`kiosk.demo`: the Datong network, 300
volunteers at 文博苑社区, badges, sessions to review, the demo accounts) in a temporary
folder, runs a real `weiguang server run`, and drives Debian's Chromium with Playwright
(never Playwright's own browser download).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
LANGUAGES = ("zh_CN", "en")


def build(folder: Path):
    from kiosk import demo
    server = demo.LocalServer(folder / "server", log=folder / "server.log").init()
    people = demo.volunteers(300)
    demo.load_server_data(folder / "server", people, revoked_serial=6)
    _signups_and_a_closure(folder / "server", people)
    return server.start(), people


FIRST, SECOND = "demo-yizhen", "demo-laji"   # set from the demo's week by _signups_and_a_closure


def _signups_and_a_closure(data: Path, people) -> None:
    """A few residents signed up on two activities' public pages; the activity under way
    ended early at the kiosk by the station's coordinator (what a pushed closure does)."""
    import time
    from sync.server import db
    from sync.server.models import Activity
    from sync.server.services import signups
    from sync.server.settings import ServerSettings
    db.open_database(ServerSettings(data_dir=data))
    try:
        with db.reading():
            tokens = dict(Activity.select(Activity.id, Activity.signup_token).tuples())
        # The demo's week depends on the season (kiosk.demo_story): 义诊 most days, else the first.
        global FIRST, SECOND
        FIRST = "demo-yizhen" if "demo-yizhen" in tokens else sorted(tokens)[0]
        SECOND = "demo-laji" if "demo-laji" in tokens else "demo-fanzha"
        for n, (activity, name) in enumerate([(FIRST, "王阿姨"), (FIRST, "李大爷"),
                                              (FIRST, ""), (SECOND, "赵同学")]):
            signups.sign_up(tokens[activity], f"1380013{n:04d}", client=f"demo-{n}", name=name)
        with db.writing():
            Activity.update(closed_at=int(time.time()) - 600, closed_by=people[0][0]).where(
                Activity.id == FIRST).execute()
            # Scans the kiosk refused this morning (kiosk.failed_scans, as its pushes leave them).
            import uuid
            from sync.server.models import FailedScan
            now = int(time.time())
            FailedScan.insert_many([
                dict(id=str(uuid.uuid4()), device_id="demo-kiosk", station="WBY", at=now - minutes * 60, code=code,
                     vid=vid, serial=serial, received_at=now)
                for minutes, code, vid, serial in [(12, "revoked", people[5][0], 6), (47, "foreign", None, None),
                                                   (95, "revoked", people[5][0], 6), (130, "expired", people[7][0], 8)]
            ]).execute()
    finally:
        db.close_database()


def shoot(server, people, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright
    from kiosk.demo import DESK_PASSWORD, DESK_USERS
    made = []
    vid = people[2][0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for language in LANGUAGES:
            for size, (width, height) in SIZES.items():
                context = browser.new_context(base_url=server.url, viewport={"width": width, "height": height},
                                              device_scale_factor=1)
                context.add_cookies([{"name": "wg_lang", "value": language, "url": server.url}])
                page = context.new_page()

                def snap(name: str, full: bool = True):
                    path = out / f"center-{name}-{size}-{language}.png"
                    page.screenshot(path=str(path), full_page=full)
                    made.append(path)

                page.goto("/login")
                snap("login", full=False)
                page.fill("#username", DESK_USERS[0][0])
                page.fill("#password", DESK_PASSWORD)
                page.click("#login")
                page.wait_for_url(server.url + "/")
                snap("home")
                page.goto("/volunteers")
                snap("volunteers", full=False)
                page.goto(f"/volunteers/{vid}")
                snap("volunteer")
                page.goto(f"/volunteers/{people[0][0]}")          # the station's coordinator: the kiosk PIN
                page.fill("#pin-input", "2580")
                page.click("#pin-submit")
                page.locator("#pin").scroll_into_view_if_needed()
                snap("coordinator-pin", full=False)
                page.goto("/review")
                snap("review")
                page.goto("/activities")
                snap("activities")
                page.click("#activities a >> nth=0")
                snap("activity")
                link = page.request.get(f"/api/v1/activities/{SECOND}").json()["signup_url"]
                page.goto(link)                                       # the public page (no log-in needed)
                snap("signup")
                page.fill("#phone", f"1390000{len(made):04d}")
                page.click("#signup-submit")
                snap("signup-done")
                page.goto("/fleet")
                page.click("#new-code")
                snap("fleet")
                page.goto("/audit")
                snap("audit", full=False)
                # An import refused, rows named.
                page.goto("/volunteers")
                bad = out.parent / ".bad-roster.csv"
                bad.write_bytes("vid,name\n14020299001,李明\n110101199003077777,张伟\n14020299003,\n".encode("gbk"))
                page.set_input_files("#file", str(bad))
                page.click("#import")
                bad.unlink()
                page.locator("#refused").scroll_into_view_if_needed()
                snap("import-refused", full=False)
                context.close()
        browser.close()
    return made


def shoot_menu(server, out: Path) -> list[Path]:
    """The service menu page (/menu), as the center's administrator sees it: the menu with
    English filled in for one service, and a menu refused (English not one for one)."""
    from playwright.sync_api import sync_playwright
    from kiosk.demo import DESK_PASSWORD, DESK_USERS
    admin = next(user for user, _site, role in DESK_USERS if role == "center_admin")
    made = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for language in LANGUAGES:
            for size, (width, height) in SIZES.items():
                context = browser.new_context(base_url=server.url, viewport={"width": width, "height": height},
                                              device_scale_factor=1)
                context.add_cookies([{"name": "wg_lang", "value": language, "url": server.url}])
                page = context.new_page()
                page.goto("/login")
                page.fill("#username", admin)
                page.fill("#password", DESK_PASSWORD)
                page.click("#login")
                page.wait_for_url(server.url + "/")
                page.goto("/menu?site=PC")
                page.fill("#service_en_2", "Haircut")
                page.fill("#presets_en_2", "At home, please\nFor an elderly person\nFor a child")
                page.click("#save")
                page.locator("#item-2").scroll_into_view_if_needed()
                path = out / f"center-menu-{size}-{language}.png"
                page.screenshot(path=str(path), full_page=False)
                made.append(path)
                page.fill("#presets_en_2", "At home, please")
                page.click("#save")
                page.locator("#error").scroll_into_view_if_needed()
                path = out / f"center-menu-refused-{size}-{language}.png"
                page.screenshot(path=str(path), full_page=False)
                made.append(path)
                context.close()
        browser.close()
    return made


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--only", choices=["menu"], help="only these pages (the rest are left as they are)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wg-shots-") as folder:
        server, people = build(Path(folder))
        try:
            made = [] if args.only else shoot(server, people, out)
            made += shoot_menu(server, out)
        finally:
            server.stop()
    print(f"{len(made)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
