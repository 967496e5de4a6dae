"""Screenshots of the reports page (desktop 1280×800 and phone 390×844, Chinese and
English), the verification page, and a service-record certificate (its PDF's first page
through pdftoppm), into docs/screenshots/.

    .venv/bin/python tools/report_screenshots.py [--out docs/screenshots]

A development tool: the demo's data (`kiosk.demo`) plus a year of confirmed sessions at
three stations, a real `weiguang server run`, Debian's Chromium through Playwright.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import uuid
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.dashboard_screenshots import CHROMIUM, CHROMIUM_ARGS, LANGUAGES, SIZES  # noqa: E402


def history(data: Path, people) -> None:
    """A year of sessions: WBY's first 80 volunteers, ten each at HYL and NGJ."""
    from kiosk.demo import TZ
    from sync.roster import RosterEntry
    from sync.server import db
    from sync.server.models import HoursSession
    from sync.server.services import changes
    from sync.server.settings import ServerSettings
    db.open_database(ServerSettings(data_dir=data))
    rnd = random.Random(9)
    others = {"HYL": [(f"1402030{i:05d}", n) for i, n in enumerate(["赵志强", "钱淑芬", "孙国庆", "李海燕", "周德明",
                                                                    "吴丽华", "郑玉梅", "王晓东", "冯子涵", "陈雨萱"], 1)],
              "NGJ": [(f"1402040{i:05d}", n) for i, n in enumerate(["褚振华", "卫红梅", "蒋永福", "沈春燕", "韩思远",
                                                                    "杨佳怡", "朱明", "秦芳", "尤伟", "许静"], 1)]}
    for station, rows in others.items():
        changes.import_roster([RosterEntry(v, n, "“邻里关照”志愿服务队", "volunteer") for v, n in rows], station=station)
    today = date.today()
    rows = []
    pool = [("WBY", p[0]) for p in people[:80]] + [(s, v) for s, rs in others.items() for v, _ in rs]
    for month in range(1, today.month + 1):
        for _ in range(140):
            station, vid = rnd.choice(pool)
            day = rnd.randint(1, 28)
            if date(today.year, month, day) > today:
                continue
            start = int(datetime(today.year, month, day, rnd.choice([8, 9, 14, 15]), tzinfo=TZ).timestamp())
            minutes = rnd.choice([60, 90, 120, 180, 240])
            state = rnd.choices(["closed", "approved", "review", "rejected"], [70, 20, 7, 3])[0]
            rows.append(dict(id=str(uuid.uuid4()), vid=vid, serial=1, station=station, device_id="demo", minutes=minutes,
                             check_in_at=start, check_out_at=start + minutes * 60, state=state,
                             activity_id=rnd.choice(["demo-yizhen", "demo-jiaotong", "demo-fanzha", None]) if station == "WBY" else None))
    first = people[0][0]                                        # one volunteer past 100 hours: a star
    for i in range(30):
        start = int(datetime(today.year, 1 + i % max(1, today.month - 1), 1 + i % 27, 9, tzinfo=TZ).timestamp())
        rows.append(dict(id=str(uuid.uuid4()), vid=first, serial=1, station="WBY", device_id="demo", minutes=240,
                         check_in_at=start, check_out_at=start + 240 * 60, state="closed",
                         activity_id=["demo-yizhen", "demo-xuanjiang", None][i % 3]))
    with db.writing():
        for i in range(0, len(rows), 200):
            HoursSession.insert_many(rows[i:i + 200]).execute()
    db.close_database()


def shoot(server, people, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright
    made = []
    year = date.today().year
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for language in LANGUAGES:
            for size, (width, height) in SIZES.items():
                context = browser.new_context(base_url=server.url, viewport={"width": width, "height": height})
                context.add_cookies([{"name": "wg_lang", "value": language, "url": server.url}])
                page = context.new_page()
                page.goto("/login")
                page.fill("#username", "pingcheng")
                page.fill("#password", "weiguang-demo")
                page.click("#login")
                page.wait_for_url(server.url + "/")
                for by in ("site", "month", "volunteer"):
                    page.goto(f"/reports?from={year}-01-01&to={year}-12-31&by={by}")
                    path = out / f"center-report-{by}-{size}-{language}.png"
                    page.screenshot(path=str(path), full_page=by != "volunteer")
                    made.append(path)
                if size == "desktop":
                    page.set_viewport_size({"width": width, "height": height})
                    page.goto(f"/volunteers/{people[0][0]}")
                    with page.expect_response(lambda r: r.url.endswith(".pdf")) as pdf:
                        page.click("#issue-cert")
                    number = pdf.value.url.rsplit("/", 1)[1][:-4]
                    data = context.request.get(f"/certificates/{number}.pdf").body()
                    if language == "zh_CN":
                        (out / ".certificate.pdf").write_bytes(data)
                        subprocess.run(["pdftoppm", "-r", "80", "-png", str(out / ".certificate.pdf"),
                                        str(out / "certificate")], check=True)
                        (out / ".certificate.pdf").unlink()
                        made += sorted(out.glob("certificate-*.png"))
                    page.goto(f"/volunteers/{people[0][0]}")
                    own = page.get_attribute("#own-link", "href")
                    page.set_viewport_size({"width": 390, "height": 844})
                    page.goto(own)
                    path = out / f"center-me-phone-{language}.png"
                    page.screenshot(path=str(path))
                    made.append(path)
                    page.goto(f"/verify/{number}")
                    path = out / f"center-verify-{language}.png"
                    page.set_viewport_size({"width": 390, "height": 844})
                    page.goto(f"/verify/{number}")
                    page.screenshot(path=str(path))
                    made.append(path)
                    page.goto(f"/verify/{number[:-1]}{'A' if number[-1] != 'A' else 'B'}")
                    path = out / f"center-verify-forged-{language}.png"
                    page.screenshot(path=str(path))
                    made.append(path)
                context.close()
        browser.close()
    return made


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from kiosk import demo
    with tempfile.TemporaryDirectory(prefix="wg-shots-") as folder:
        folder = Path(folder)
        server = demo.LocalServer(folder / "server", log=folder / "server.log").init()
        people = demo.volunteers(300)
        demo.load_server_data(folder / "server", people, revoked_serial=6)
        history(folder / "server", people)
        server.start()
        try:
            made = shoot(server, people, out)
        finally:
            server.stop()
    print(f"{len(made)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
