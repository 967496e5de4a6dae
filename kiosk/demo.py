"""`weiguang demo`: demo data, a local center server and a kiosk with a replayed camera.

    weiguang demo [--dir demo-data] [--port 8765] [--no-window] [--language en]

1. DIR is recreated (only if it is a previous demo folder: it holds .weiguang-demo).
2. `weiguang server init`, then demo data through the server's service functions: four
   centers' stations, the station 文博苑社区 with ~300 volunteers and its teams, activities
   today and this week.
3. The server runs on 127.0.0.1:PORT; a kiosk is initialised, enrolled at 文博苑社区 with a
   one-time code, and synced once.
4. A badge sheet PDF (demo volunteers + a coordinator; the coordinator's PIN is printed),
   and the replayed camera's timeline (kiosk.demo_story): check-ins, a repeat, a foreign QR
   code, a lost badge, and a check-out crediting 2.5 hours (that check-in is recorded
   150 minutes back before the window opens).
5. The kiosk window plays that folder as its camera (no DISPLAY: an Xvfb is started, or use
   --no-window). The server stops when the window closes.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
MARKER = ".weiguang-demo"
STATION_CODE, STATION_NAME = "WBY", "文博苑社区"
DEMO_PIN = "2468"
# The Datong network (大同市): the city's center, its four districts and six counties, a few
# institutes (所) and stations (站). code, name, tier, parent.
NETWORK = [
    ("DT", "大同市新时代文明实践中心", "center", ""),
    ("PC", "平城区新时代文明实践中心", "center", "DT"),
    ("YG", "云冈区新时代文明实践中心", "center", "DT"),
    ("XR", "新荣区新时代文明实践中心", "center", "DT"),
    ("YZ", "云州区新时代文明实践中心", "center", "DT"),
    ("LQ", "灵丘县新时代文明实践中心", "center", "DT"),
    ("GL", "广灵县新时代文明实践中心", "center", "DT"),
    ("HY", "浑源县新时代文明实践中心", "center", "DT"),
    ("ZY", "左云县新时代文明实践中心", "center", "DT"),
    ("YGX", "阳高县新时代文明实践中心", "center", "DT"),
    ("TZ", "天镇县新时代文明实践中心", "center", "DT"),
    ("PC-XJNL", "新建南路街道新时代文明实践所", "institute", "PC"),
    ("PC-NG", "南关街道新时代文明实践所", "institute", "PC"),
    ("YG-YGZ", "云冈镇新时代文明实践所", "institute", "YG"),
    ("XR-XRZ", "新荣镇新时代文明实践所", "institute", "XR"),
    ("LQ-WLZ", "武灵镇新时代文明实践所", "institute", "LQ"),
    ("WBY", "文博苑社区", "station", "PC-XJNL"),
    ("HYL", "和阳里社区", "station", "PC-XJNL"),
    ("NGJ", "南关街社区", "station", "PC-NG"),
    ("YGZ", "云冈镇综合站", "station", "YG-YGZ"),
    ("XRB", "新荣镇便民站", "station", "XR-XRZ"),
    ("LQW", "武灵镇东关站", "station", "LQ-WLZ"),
]
STATIONS = [(code, name) for code, name, tier, _ in NETWORK if tier == "station"]


def network_csv() -> str:
    """The demo network as `weiguang server sites import` reads it."""
    return "code,name,tier,parent,timezone\n" + "".join(
        f"{code},{name},{tier},{parent},Asia/Shanghai\n" for code, name, tier, parent in NETWORK)


from kiosk.demo_story import TEAMS  # noqa: E402 - the teams of 平城区 and 文博苑社区
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = ["建国", "秀英", "桂兰", "志强", "海燕", "丽华", "国庆", "玉梅", "德明", "晓东", "淑芬", "文博", "子涵",
         "雨萱", "浩然", "振华", "红梅", "永福", "春燕", "思远", "佳怡", "明", "芳", "伟", "静", "磊", "娜", "军", "洋"]


def volunteers(n: int = 300) -> list[tuple[str, str, str]]:
    rnd = random.Random(2024)
    out = []
    for i in range(1, n + 1):
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN)
        out.append((f"1402020{i:05d}", name, rnd.choice(TEAMS)))
    return out


def day_at(days: int, hh: int, mm: int = 0) -> int:
    d = datetime.now(TZ).date() + timedelta(days=days)
    return int(datetime(d.year, d.month, d.day, hh, mm, tzinfo=TZ).timestamp())


def activities() -> list[dict]:
    """This week's activities at 文博苑社区, at the local times and in the season they run
    (kiosk.demo_story), whatever the time the demo starts."""
    from kiosk.demo_story import activities as week
    return week(datetime.now(TZ).date())


def weiguang(*args: str, capture: bool = True) -> dict | None:
    proc = subprocess.run([sys.executable, "-m", "kiosk.cli", *args], capture_output=capture, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"weiguang {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    lines = [l for l in (proc.stdout or "").splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def prepare_dir(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise SystemExit(f"{folder} exists and is not a demo folder; not touching it (use --dir)")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by `weiguang demo`; deleted and recreated by the next run\n")


DESK_USERS = [  # (username, site, role): the dashboard's demo accounts, all with DESK_PASSWORD
    ("wby", STATION_CODE, "coordinator"),       # 文博苑社区's coordinator
    ("pingcheng", "PC", "center_admin"),        # 平城区's center
]
DESK_PASSWORD = "weiguang-demo"                  # a demo only: printed on the console
DEMO_BADGES = 8


def review_sessions(people) -> list[dict]:
    """Sessions at 文博苑社区 as the server leaves them: a few waiting for review (each with
    its reason), a few closed."""
    import uuid
    from sync import hours
    rows = []
    # (person, days ago, hour, minutes on the clock, observed flags); credit and state are
    # what the rules (sync.hours.settle) make of them, as on the server.
    cases = [(0, 1, 9, 180, ""), (1, 1, 9, 150, ""), (2, 1, 14, 240, "auto_closed"),
             (3, 2, 8, 130, "recorded_offline,clock_skew"), (4, 2, 15, 120, "two_stations"),
             (7, 3, 9, 45, "auto_closed,corrected"), (8, 3, 13, 120, "revoked_badge"),
             (9, 4, 10, 90, "auto_closed,late_checkout"), (10, 4, 16, 60, ""), (11, 5, 9, 600, "")]
    for person, days_ago, hour, elapsed, observed in cases:
        start = day_at(-days_ago, hour)
        settled = hours.settle(start, start + elapsed * 60, hours.HoursRules(), hours.split_flags(observed))
        minutes, flags, state = settled.minutes, ",".join(settled.flags), settled.state
        rows.append(dict(id=str(uuid.uuid4()), vid=people[person][0], serial=person + 1, station=STATION_CODE,
                         device_id="demo-kiosk", check_in_at=start, check_out_at=start + elapsed * 60,
                         minutes=minutes, kiosk_minutes=minutes, flags=flags, state=state,
                         activity_id=None))
    return rows


def load_server_data(data: Path, people: list[tuple[str, str, str]], revoked_serial: int) -> None:
    """The network, teams, the roster, activities, badges (serials 1..DEMO_BADGES, as
    `make_badges` signs them; `revoked_serial` revoked), sessions to review, and the
    dashboard's demo accounts."""
    from sync.roster import RosterEntry
    from sync.server import db
    from sync.server.models import HoursSession
    from sync.server.services import accounts, badges, changes, sites
    from sync.server.services.scope import CLI
    from sync.server.settings import ServerSettings
    db.open_database(ServerSettings(data_dir=data))
    db.migrate()
    sites.import_sites(network_csv())
    for team in TEAMS:
        sites.add_team(STATION_CODE, team)
    entries = [RosterEntry(vid, name, team, "coordinator" if i == 0 else "volunteer",
                           phone=f"139{i:04d}{(i * 7919) % 10000:04d}")
               for i, (vid, name, team) in enumerate(people)]
    changes.import_roster(entries, station=STATION_CODE)
    for a in activities():
        changes.upsert_activity(station=STATION_CODE, **a)
    for vid, _, _ in people[:DEMO_BADGES]:
        badges.issue(CLI, vid, data / "keys", actor="demo")
    badges.revoke(CLI, people[revoked_serial - 1][0], actor="demo", reason="志愿者报告丢失")
    with db.writing():
        HoursSession.insert_many(review_sessions(people)).execute()
    for username, site, role in DESK_USERS:
        accounts.add_user(username, site=site, role=role, password=DESK_PASSWORD, actor="demo", replace=True)
    # The coordinator's kiosk PIN, set at the center: the kiosk gets its argon2 hash in its pull.
    from sync.server.services import coordinator_pins
    coordinator_pins.set_pin(CLI, people[0][0], DEMO_PIN, actor="demo")
    db.close_database()


def wait_healthy(url: str, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_window_with(server: "LocalServer") -> None:
    """Should the demo's server stop (Ctrl+C reached it too, it crashed), the window stops
    with it: the kiosk app takes SIGTERM as a clean stop."""
    import signal
    import threading

    def watch():
        server.proc.wait()
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=watch, name="demo-server-watch", daemon=True).start()


class LocalServer:
    """A `weiguang server run` subprocess on 127.0.0.1 (the demo, the UI tests, the bench).

        server = LocalServer(data_dir, port)   # `weiguang server init` first if DIR has no keys
        server.start(); code = server.code("WBY"); ...; server.stop(); server.start()
    """

    def __init__(self, data: Path, port: int | None = None, log: Path | None = None, nice: int = 0):
        self.data, self.port, self.nice = Path(data), port or free_port(), nice
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log or self.data.parent / "server.log"
        self.proc: subprocess.Popen | None = None

    def init(self) -> "LocalServer":
        """`server init`, then the demo network (`server sites import`), so its stations
        (WBY 文博苑社区 …) can be given enrolment codes."""
        weiguang("server", "init", "--data", str(self.data), "--json")
        sites_csv = self.data / "demo-sites.csv"
        sites_csv.write_text(network_csv(), encoding="utf-8")
        weiguang("server", "sites", "import", "--data", str(self.data), str(sites_csv), "--json")
        return self

    def code(self, station: str) -> str:
        return weiguang("server", "code", "--data", str(self.data), "--station", station, "--json")["code"]

    def stats(self) -> dict:
        return weiguang("server", "stats", "--data", str(self.data), "--json")

    def start(self, seconds: float = 30) -> "LocalServer":
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "server", "run", "--data", str(self.data),
                                      "--host", "127.0.0.1", "--port", str(self.port)],
                                     stdout=log, stderr=subprocess.STDOUT,
                                     preexec_fn=(lambda: os.nice(self.nice)) if self.nice else None)
        log.close()
        if not wait_healthy(self.url, seconds):
            self.stop()
            raise SystemExit(f"the server did not start on {self.url}; see {self.log_path}")
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None


def make_badges(folder: Path, keys: Path, people) -> dict:
    from sync.badges import issue, load_signing_key
    from sync.printing import badge_png, badge_sheet_pdf, qr_image
    key = load_signing_key(keys)
    expires = date.today() + timedelta(days=3 * 365)
    cards = []
    for serial, (vid, name, team) in enumerate(people[:8], start=1):
        role = "coordinator" if serial == 1 else "volunteer"
        cards.append({"token": issue(key, vid, serial, role, expires), "name": name, "team": team, "vid": vid,
                      "role": role, "serial": serial})
    badge_sheet_pdf(cards, folder / "badges.pdf")
    from kiosk.demo_story import write_timeline
    replay = folder / "replay"
    write_timeline(replay, cards)   # the story: check-ins, a repeat, a foreign code, a lost badge, a check-out
    return {"cards": cards, "replay": replay}


def display_available() -> bool:
    return bool(os.environ.get("DISPLAY") or shutil.which("Xvfb"))


def ensure_display() -> subprocess.Popen | None:
    """DISPLAY as it is, or a private Xvfb (the caller terminates it)."""
    if os.environ.get("DISPLAY"):
        return None
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        raise SystemExit("weiguang demo: no DISPLAY and no Xvfb: install xvfb (apt-get install xvfb) "
                         "or run `weiguang demo --no-window`")
    n = next(n for n in range(50, 200)
             if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists())
    proc = subprocess.Popen([xvfb, f":{n}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{n}").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"weiguang demo: Xvfb :{n} did not start; run `weiguang demo --no-window`")
        time.sleep(0.05)
    os.environ["DISPLAY"] = f":{n}"
    print(f"no DISPLAY: the kiosk window runs on a virtual display (Xvfb :{n}); "
          f"see it with e.g. `xwd -root -display :{n} | convert xwd:- kiosk.png`", flush=True)
    return proc


def main(args) -> int:
    if not args.no_window and not display_available():   # say so before minutes of setting up
        raise SystemExit("weiguang demo: no DISPLAY and no Xvfb: install xvfb (apt-get install xvfb) "
                         "or run `weiguang demo --no-window`")
    folder = Path(args.dir).resolve()
    prepare_dir(folder)
    data, kiosk_db = folder / "server", folder / "kiosk.db"
    people = volunteers(300)
    print(f"1/6 server init in {data}", flush=True)
    server = LocalServer(data, args.port, log=folder / "server.log").init()
    print(f"2/6 demo data: the Datong network ({len(NETWORK)} sites), 300 volunteers at 文博苑社区, "
          f"{len(activities())} activities this week and the next festival", flush=True)
    load_server_data(data, people, revoked_serial=6)
    url = server.url
    xvfb = None
    try:
        server.start()
        print(f"3/6 server running at {url}", flush=True)
        print(f"    dashboard: {url}/  log in as {DESK_USERS[0][0]} / {DESK_PASSWORD} ({STATION_NAME}'s "
              f"coordinator) or {DESK_USERS[1][0]} / {DESK_PASSWORD} (平城区's center)", flush=True)
        code = server.code(STATION_CODE)
        weiguang("kiosk", "init", "--db", str(kiosk_db), "--station", STATION_NAME, "--code", STATION_CODE)
        weiguang("kiosk", "enroll", "--db", str(kiosk_db), "--server", url, code)
        synced = weiguang("sync", "--db", str(kiosk_db))
        print(f"4/6 kiosk enrolled at {STATION_NAME} with code {code}; first sync: {synced.get('pulled')} changes",
              flush=True)
        made = make_badges(folder, data / "keys", people)
        from kiosk.store import open_store
        store = open_store(kiosk_db)
        store.settings.set(language=args.language)
        from kiosk.demo_story import CHECKOUT_CARD, backdate, timeline_seconds
        morning = backdate(store, made["cards"], int(time.time()))
        coordinator = made["cards"][0]
        print(f"5/6 badge sheet to print: {folder / 'badges.pdf'}", flush=True)
        print(f"    replayed camera: {made['replay']} (about {round(timeline_seconds() / 60)} minutes: "
              f"check-ins, a repeat, a foreign QR code, a lost badge, and "
              f"{made['cards'][CHECKOUT_CARD]['name']} checking out, in since "
              f"{datetime.fromtimestamp(morning['at'], TZ):%H:%M})", flush=True)
        print(f"    coordinator {coordinator['name']} ({coordinator['vid']}): show the badge, PIN {DEMO_PIN}",
              flush=True)
        if args.no_window:
            print(f"6/6 --no-window: server left running at {url} (Ctrl+C stops it); "
                  f"kiosk: weiguang kiosk run --db {kiosk_db} --replay {made['replay']}", flush=True)
            server.proc.wait()
            return 0
        xvfb = ensure_display()
        print("6/6 kiosk window (close it to stop the demo)", flush=True)
        stop_window_with(server)
        from kiosk.app import run
        return run(db_path=str(kiosk_db), replay=str(made["replay"]), language=args.language,
                   log_level=getattr(args, "log_level", "INFO"))
    except KeyboardInterrupt:
        return 130
    finally:
        server.stop()
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
