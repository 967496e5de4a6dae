"""Benchmark: the center's desk at city scale, against a real `weiguang server run` process.

Run:  python bench/bench_center.py [--quick] [--postgres] [--no-sqlite] [--reps N]

The data: the Datong-shaped network (the city's center, 10 district/county centers, 129
institutes, 1,807 stations, 3 teams each), 300,000 volunteers spread unevenly over the
stations (文博苑社区 WBY has 300), a badge each, and 5,000,000 hours sessions over two
years (most closed, ~3 % waiting for review, some approved / adjusted / rejected, a few
open). Built with plain executemany (SQLite) or COPY (PostgreSQL), not one ORM call per
row; the SQLite data dir is cached under .bench/ (rerun: a copy, and `server init` applies
any new migration to the cache first). PostgreSQL: a throwaway cluster (fsync on), built
each run, then ANALYZE (what autovacuum does soon after a bulk load).

Measured over HTTP on 127.0.0.1 with a keep-alive client, as three people: the city's
center administrator (site DT: all 1,807 stations), a district center's administrator
(PC) and the coordinator of station WBY. Pages with a logged-in session cookie, JSON with
API tokens (`weiguang server token`):

    review page        GET /review?site=S                       (200 rows, as the page shows)
    review JSON        GET /api/v1/review?site=S                (100 rows)
    search page        GET /volunteers?site=S&q=林               (50 rows)
    search JSON        GET /api/v1/volunteers?site=S&q=林        (100 rows)
    import             POST /api/v1/volunteers/import?site=WBY  (a 10,000-row CSV, new numbers each time)

Each: time to first byte (response headers in) and to complete (body read), p50 and p90
of --reps runs after one warm-up, beside the bare SQL the service runs for it, timed in
this process on its own connection in the same run (count + page + the names/badges of
the page's rows; for the import the roster upsert and change-log rows of 10,000 volunteers,
rolled back). Goals (issue 8): pages <= 300 ms, a 10,000-row import <= 10 s.
`--quick`: 20,000 volunteers, 200,000 sessions, a 2,000-row import (a test runs it).
Client, server and database share this machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import requests  # noqa: E402

from bench.bench_sync import free_port, postgres_cluster  # noqa: E402
from bench.common import percentile  # noqa: E402

CACHE = ROOT / ".bench"
BUILD_VERSION = 1           # bump when the generated data changes
FULL = dict(volunteers=300_000, sessions=5_000_000, import_rows=10_000, reps=7, import_reps=3)
QUICK = dict(volunteers=20_000, sessions=200_000, import_rows=2_000, reps=3, import_reps=2)
GOAL_PAGE_S = 0.300
GOAL_IMPORT_S = 10.0
ADMIN_PASSWORD = "bench-admin"
USER_PASSWORD = "bench-password-1"
NOW = 1_790_000_000         # a fixed "now" (2026-09): the same data on every build
SEARCH = "林"

DISTRICTS = [("PC", "平城区"), ("YG", "云冈区"), ("XR", "新荣区"), ("YZ", "云州区"), ("LQ", "灵丘县"),
             ("GL", "广灵县"), ("HY", "浑源县"), ("ZY", "左云县"), ("YGX", "阳高县"), ("TZ", "天镇县")]
N_INSTITUTES, N_STATIONS = 129, 1807
TEAM_NAMES = ["党员志愿服务队", "巾帼志愿服务队", "“邻里关照”志愿服务队"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = ["建国", "秀英", "桂兰", "志强", "海燕", "丽华", "国庆", "玉梅", "德明", "晓东", "淑芬", "文博", "子涵",
         "雨萱", "浩然", "振华", "红梅", "永福", "春燕", "思远", "佳怡", "明", "芳", "伟", "静", "磊", "娜", "军", "洋"]
# state, share of sessions
STATE_MIX = [("closed", 0.895), ("review", 0.03), ("approved", 0.05), ("adjusted", 0.01), ("rejected", 0.01),
             ("open", 0.005)]
REVIEW_FLAGS = ["auto_closed", "late_checkout", "recorded_offline", "clock_skew", "two_stations", "corrected",
                "capped", "future_time"]
USERS = [("bench-city", None, "center_admin", "DT"),       # (username, site, role, the site it looks at)
         ("bench-pc", "PC", "center_admin", "PC"),
         ("bench-wby", "WBY", "coordinator", "WBY")]


# --- the data ----------------------------------------------------------------------------

def network() -> list[tuple[str, str, str, str | None]]:
    """(code, name, tier, parent): 1 + 10 centers, 129 institutes, 1,807 stations."""
    sites = [("DT", "大同市新时代文明实践中心", "center", None)]
    sites += [(code, f"{name}新时代文明实践中心", "center", "DT") for code, name in DISTRICTS]
    institutes = []
    for i in range(N_INSTITUTES):
        code, district = DISTRICTS[i % len(DISTRICTS)]
        if i == 0:
            institutes.append(("PC-XJNL", "新建南路街道新时代文明实践所", "institute", "PC"))
        else:
            institutes.append((f"{code}-S{i:03d}", f"{district}第{i}街道新时代文明实践所", "institute", code))
    sites += institutes
    for i in range(N_STATIONS):
        parent = institutes[i % N_INSTITUTES][0]
        sites.append(("WBY", "文博苑社区", "station", "PC-XJNL") if i == 0 else
                     (f"ST{i:04d}", f"第{i}社区志愿服务站", "station", parent))
    return sites


def station_counts(rng, stations: int, volunteers: int) -> np.ndarray:
    """Volunteers per station: uneven (gamma weights), station 0 (WBY) has 300."""
    fixed = min(300, volunteers // 10)
    weights = rng.gamma(2.0, 1.0, stations - 1)
    rest = rng.multinomial(volunteers - fixed, weights / weights.sum())
    return np.concatenate([[fixed], rest])


def generate(sizes: dict):
    """Yield (table, columns, rows-chunk) in load order; deterministic (seeded)."""
    rng = np.random.default_rng(2026)
    sites = network()
    yield "sites", ("code", "name", "tier", "parent", "timezone"), [(*s, "Asia/Shanghai") for s in sites]
    stations = [s[0] for s in sites if s[2] == "station"]
    yield "teams", ("site", "name"), [(code, t) for code in stations for t in TEAM_NAMES]
    n = sizes["volunteers"]
    counts = station_counts(rng, len(stations), n)
    vol_station = np.repeat(np.arange(len(stations)), counts)
    rng.shuffle(vol_station)
    surnames = rng.integers(0, len(SURNAMES), n)
    given = rng.integers(0, len(GIVEN), n)
    teams_a = rng.integers(0, 3, n)
    two = rng.random(n) < 0.2
    phones = rng.integers(0, 10**9, n)
    inactive = rng.random(n) < 0.03
    vids = [f"1402{k:08d}" for k in range(1, n + 1)]
    rows = []
    for k in range(n):
        team = TEAM_NAMES[teams_a[k]] + ("、" + TEAM_NAMES[(teams_a[k] + 1) % 3] if two[k] else "")
        rows.append((vids[k], SURNAMES[surnames[k]] + GIVEN[given[k]], team, "volunteer", f"13{phones[k]:09d}",
                     stations[vol_station[k]], "inactive" if inactive[k] else "active"))
    yield "volunteer", ("vid", "name", "team", "role", "phone", "station", "status"), rows
    yield "badges", ("serial", "vid", "role", "expires", "issued_at", "revoked_at"), \
        [(k + 1, vids[k], "volunteer", "2028-12-31", NOW - 400 * 86400, None) for k in range(n)]
    del rows
    # sessions: some volunteers come far more often than others
    activity = rng.permutation(n)
    states = np.array([s for s, _ in STATE_MIX])
    shares = np.array([p for _, p in STATE_MIX])
    shares = shares / shares.sum()
    columns = ("id", "vid", "serial", "role", "station", "device_id", "activity_id", "check_in_at", "check_out_at",
               "closed_by", "closed_by_vid", "minutes", "kiosk_minutes", "flags", "state")
    chunk = 250_000
    for start in range(0, sizes["sessions"], chunk):
        m = min(chunk, sizes["sessions"] - start)
        who = activity[(rng.random(m) ** 2 * n).astype(np.int64)]
        check_in = NOW - rng.integers(3600, 730 * 86400, m)
        minutes = rng.integers(20, 241, m)
        state = states[rng.choice(len(states), m, p=shares)]
        flag = rng.integers(0, len(REVIEW_FLAGS), m)
        ids = os.urandom(16 * m).hex()
        rows = []
        for j in range(m):
            k, s = int(who[j]), str(state[j])
            h = ids[32 * j:32 * j + 32]
            sid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
            t_in = int(check_in[j])
            if s == "open":
                t_in = NOW - int(minutes[j]) * 60
                rows.append((sid, vids[k], k + 1, "volunteer", stations[vol_station[k]], f"kiosk-{vol_station[k]}",
                             None, t_in, None, None, None, None, None, "", s))
                continue
            flags = REVIEW_FLAGS[flag[j]] if s in ("review", "approved", "adjusted", "rejected") else ""
            mins = int(minutes[j])
            rows.append((sid, vids[k], k + 1, "volunteer", stations[vol_station[k]], f"kiosk-{vol_station[k]}",
                         None, t_in, t_in + mins * 60, "auto" if flags == "auto_closed" else "scan", None,
                         mins, mins, flags, s))
        yield "sessions", columns, rows


def _sqlite_build(path: Path, sizes: dict) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    indexes = {}
    for table in ("sessions", "volunteer", "badges", "teams"):
        for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=? "
                                      "AND sql IS NOT NULL", (table,)).fetchall():
            indexes[name] = sql
            conn.execute(f'DROP INDEX "{name}"')
    conn.execute("BEGIN")
    for table, columns, rows in generate(sizes):
        names = ", ".join(f'"{c}"' for c in columns)
        conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})', rows)
        print(f"    {table}: +{len(rows):,}", file=sys.stderr, flush=True)
    conn.execute("COMMIT")
    for sql in indexes.values():
        conn.execute(sql)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


def _pg_build(url: str, sizes: dict) -> None:
    import io

    import psycopg2
    conn = psycopg2.connect(url)
    cur = conn.cursor()
    indexes = []
    for table in ("sessions", "volunteer", "badges", "teams"):
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE %s",
                    (table, "%pkey"))
        indexes += cur.fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')

    def cell(v):
        if v is None:
            return r"\N"
        return str(v).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")
    for table, columns, rows in generate(sizes):
        text = "\n".join("\t".join(cell(v) for v in row) for row in rows) + "\n"
        names = ", ".join(f'"{c}"' for c in columns)
        cur.copy_expert(f'COPY "{table}" ({names}) FROM STDIN', io.StringIO(text))
        print(f"    {table}: +{len(rows):,}", file=sys.stderr, flush=True)
    for _, sql in indexes:
        cur.execute(sql)
    conn.commit()
    conn.autocommit = True
    # what autovacuum does after a bulk load (done here, so that it does not run during
    # the measurements): statistics, and the visibility map index-only scans rely on
    conn.cursor().execute("VACUUM ANALYZE")
    conn.close()


# --- the server --------------------------------------------------------------------------

def cli(data: Path, env: dict, *args: str) -> dict | None:
    out = subprocess.run([sys.executable, "-m", "kiosk.cli", "server", *args, "--data", str(data)],
                         check=True, capture_output=True, env=env, timeout=1800, text=True)
    return json.loads(out.stdout.splitlines()[-1]) if "--json" in args else None


def server_env(database_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def add_users(data: Path, env: dict) -> dict[str, str]:
    tokens = {}
    for username, site, role, _ in USERS:
        if site is None:
            cli(data, env, "user", "add", "--username", username, "--site", "DT", "--role", role,
                "--password", USER_PASSWORD, "--json")
        else:
            cli(data, env, "user", "add", "--username", username, "--site", site, "--role", role,
                "--password", USER_PASSWORD, "--json")
        tokens[username] = cli(data, env, "token", "--username", username, "--json")["token"]
    return tokens


def sqlite_data(root: Path, sizes: dict, quick: bool | str, cache_root: Path = CACHE) -> tuple[Path, dict, float | None]:
    """A copy of the cached SQLite data dir (built when missing or stale); (dir, tokens,
    build seconds or None when cached). `quick` may name the cache (a custom size)."""
    cache = cache_root / f"center-{quick if isinstance(quick, str) else ('quick' if quick else 'full')}"
    stamp = cache / "built.json"
    want = {"version": BUILD_VERSION, **{k: sizes[k] for k in ("volunteers", "sessions")}}
    env = server_env(None)
    built = None
    info = json.loads(stamp.read_text()) if stamp.exists() else {}
    if info.get("want") != want:
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        started = time.perf_counter()
        print(f"  building the SQLite data ({sizes['volunteers']:,} volunteers, {sizes['sessions']:,} sessions)…",
              file=sys.stderr, flush=True)
        cli(cache, env, "init", "--admin-password", ADMIN_PASSWORD, "--json")
        _sqlite_build(cache / "weiguang.db", sizes)
        tokens = add_users(cache, env)
        built = time.perf_counter() - started
        stamp.write_text(json.dumps({"want": want, "tokens": tokens, "build_s": built}))
        info = json.loads(stamp.read_text())
    else:
        print("  applying any new migration to the cached data…", file=sys.stderr, flush=True)
        cli(cache, env, "init", "--admin-password", ADMIN_PASSWORD, "--json")
    work = root / "sqlite"
    shutil.copytree(cache, work)
    return work, info["tokens"], built


def postgres_data(root: Path, url: str, sizes: dict) -> tuple[Path, dict, float]:
    data = root / "postgresql"
    env = server_env(url)
    started = time.perf_counter()
    print(f"  building the PostgreSQL data ({sizes['volunteers']:,} volunteers, {sizes['sessions']:,} sessions)…",
          file=sys.stderr, flush=True)
    cli(data, env, "init", "--admin-password", ADMIN_PASSWORD, "--json")
    _pg_build(url, sizes)
    tokens = add_users(data, env)
    return data, tokens, time.perf_counter() - started


class Server:
    def __init__(self, data: Path, database_url: str | None):
        self.data, self.env = data, server_env(database_url)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        self.log = open(self.data / "server.log", "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "server", "run", "--data", str(self.data),
                                         "--port", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT,
                                        env=self.env)
        deadline = time.time() + 300
        while True:
            try:
                if requests.get(self.url + "/api/v1/health", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the server did not start; see {self.data / 'server.log'}")
            time.sleep(0.3)

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(20)
        self.log.close()

    def login(self, username: str, password: str) -> requests.Session:
        s = requests.Session()
        page = s.get(self.url + "/login", timeout=30).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        r = s.post(self.url + "/login", data={"username": username, "password": password, "csrf_token": csrf,
                                              "next": "/"}, allow_redirects=False, timeout=30)
        if r.status_code != 303:
            raise RuntimeError(f"log-in as {username} failed: {r.status_code}")
        return s


def timed_get(session: requests.Session, url: str, **kw) -> tuple[float, float, int, int]:
    started = time.perf_counter()
    r = session.get(url, stream=True, timeout=300, **kw)
    ttfb = time.perf_counter() - started
    body = r.content
    done = time.perf_counter() - started
    if r.status_code != 200:
        raise RuntimeError(f"GET {url}: {r.status_code} {body[:300]!r}")
    return ttfb, done, len(body), r


def timed_post(session: requests.Session, url: str, data: bytes, **kw):
    started = time.perf_counter()
    r = session.post(url, data=data, stream=True, timeout=600, **kw)
    ttfb = time.perf_counter() - started
    body = r.content
    done = time.perf_counter() - started
    return ttfb, done, len(body), r


# --- the bare queries ----------------------------------------------------------------------

class Bare:
    """The SQL each service runs, on this process's own connection to the same database."""

    def __init__(self, data: Path, database_url: str | None):
        self.pg = bool(database_url)
        if self.pg:
            import psycopg2
            self.conn = psycopg2.connect(database_url)
            self.p = "%s"
        else:
            self.conn = sqlite3.connect(data / "weiguang.db", isolation_level=None)
            self.conn.execute("PRAGMA cache_size=-32000")   # as the server's
            self.p = "?"
        self.sites = self._all("SELECT code, parent FROM sites")

    def _all(self, sql: str, params=()) -> list:
        cur = self.conn.cursor()
        cur.execute(sql, params)
        return cur.fetchall()

    def subtree(self, code: str) -> list[str]:
        children: dict = {}
        for c, parent in self.sites:
            children.setdefault(parent, []).append(c)
        out, queue = [], [code]
        while queue:
            current = queue.pop()
            out.append(current)
            queue.extend(children.get(current, []))
        return sorted(out)

    def _in(self, values) -> str:
        return "(" + ", ".join([self.p] * len(values)) + ")"

    def _site_filter(self, site: str, column: str, nullable: bool) -> tuple[str, list]:
        """As services.scope: the whole network drops the IN list."""
        codes = self.subtree(site)
        if len(codes) >= len(self.sites):
            return (f"{column} IS NOT NULL" if nullable else "1 = 1"), []
        return f"{column} IN {self._in(codes)}", codes

    def review(self, site: str, limit: int) -> float:
        """services.review.queue: count, the page's ids in order, those rows, their names."""
        where, params = self._site_filter(site, "station", nullable=False)
        where = f"state = {self.p} AND {where}"
        params = ["review", *params]
        started = time.perf_counter()
        self._all(f"SELECT COUNT(*) FROM sessions WHERE {where}", params)
        ids = [r[0] for r in self._all(f"SELECT id FROM sessions WHERE {where} ORDER BY check_in_at, id "
                                       f"LIMIT {limit}", params)]
        rows = self._all(f"SELECT * FROM sessions WHERE id IN {self._in(ids)}", ids) if ids else []
        vids = list({r[1] for r in rows})
        if vids:
            self._all(f"SELECT vid, name FROM volunteer WHERE vid IN {self._in(vids)}", vids)
        self._all("SELECT code, name, tier, parent, timezone FROM sites ORDER BY code")
        return time.perf_counter() - started

    def search(self, site: str, q: str, limit: int) -> float:
        """services.volunteers.roster: count, the page by number, the page's badges."""
        where, params = self._site_filter(site, "station", nullable=True)
        where = f"{where} AND (name LIKE {self.p} OR vid LIKE {self.p})"
        params = [*params, f"%{q}%", f"{q}%"]
        started = time.perf_counter()
        self._all(f"SELECT COUNT(*) FROM volunteer WHERE {where}", params)
        rows = self._all(f"SELECT * FROM volunteer WHERE {where} ORDER BY vid LIMIT {limit}", params)
        vids = [r[0] for r in rows]
        if vids:
            self._all(f"SELECT * FROM badges WHERE vid IN {self._in(vids)} ORDER BY serial", vids)
        self._all("SELECT code, name, tier, parent, timezone FROM sites ORDER BY code")
        return time.perf_counter() - started

    def import_rows(self, site: str, rows: list[tuple]) -> float:
        """The writes of an import: look the numbers up, upsert the roster rows, one change
        row each, one transaction, rolled back."""
        p = self.p
        cur = self.conn.cursor()
        started = time.perf_counter()
        if not self.pg:
            cur.execute("BEGIN IMMEDIATE")
        vids = [r[0] for r in rows]
        for i in range(0, len(vids), 500):
            part = vids[i:i + 500]
            cur.execute(f"SELECT vid, station FROM volunteer WHERE vid IN {self._in(part)}", part)
            cur.fetchall()
        upsert = ('INSERT INTO volunteer (vid, name, team, role, phone, station, status) VALUES {} '
                  'ON CONFLICT (vid) DO UPDATE SET name = excluded.name, team = excluded.team, '
                  'role = excluded.role, phone = excluded.phone, station = excluded.station')
        change = 'INSERT INTO changes (kind, "key", station, data, created_at) VALUES {}'
        people = [(vid, name, team, "volunteer", phone, site, "active") for vid, name, team, phone in rows]
        changed = [("volunteer", vid, site, json.dumps({"name": name, "team": team, "role": "volunteer"},
                                                       ensure_ascii=False), NOW) for vid, name, team, _ in rows]
        if self.pg:     # psycopg2's executemany is a round trip per row: many rows per statement
            from psycopg2.extras import execute_values
            execute_values(cur, upsert.format("%s"), people, page_size=500)
            execute_values(cur, change.format("%s"), changed, page_size=500)
        else:
            cur.executemany(upsert.format(f"({', '.join([p] * 7)})"), people)
            cur.executemany(change.format(f"({', '.join([p] * 5)})"), changed)
        elapsed = time.perf_counter() - started
        self.conn.rollback() if self.pg else cur.execute("ROLLBACK")
        return elapsed

    def close(self) -> None:
        self.conn.close()


# --- the measurements ----------------------------------------------------------------------

def summary(samples: list[float]) -> dict:
    return {"p50": percentile(samples, 50), "p90": percentile(samples, 90), "n": len(samples)}


def import_file(tag: str, n: int) -> tuple[bytes, list[tuple]]:
    rows = [(f"I{tag}{i:06d}", SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)], TEAM_NAMES[i % 3],
             f"139{i:08d}") for i in range(n)]
    text = "vid,name,teams,phone\n" + "".join(f"{v},{name},{team},{phone}\n" for v, name, team, phone in rows)
    return text.encode(), rows


def measure(data: Path, database_url: str | None, tokens: dict, sizes: dict, reps: int) -> dict:
    results = {}
    run_tag = f"{int(time.time()) % 100000:05d}"
    with Server(data, database_url) as server:
        bare = Bare(data, database_url)
        try:
            for username, _, _, site in USERS:
                page = server.login(username, USER_PASSWORD)
                api = requests.Session()
                api.headers["Authorization"] = f"Bearer {tokens[username]}"
                cases = [
                    ("review page", page, f"/review?site={site}", lambda: bare.review(site, 200)),
                    ("review JSON", api, f"/api/v1/review?site={site}", lambda: bare.review(site, 100)),
                    ("search page", page, f"/volunteers?site={site}&q={SEARCH}", lambda: bare.search(site, SEARCH, 50)),
                    ("search JSON", api, f"/api/v1/volunteers?site={site}&q={SEARCH}",
                     lambda: bare.search(site, SEARCH, 100)),
                ]
                for name, session, path, bare_query in cases:
                    key = f"{name} · {username} ({site})"
                    print(f"  {key}…", file=sys.stderr, flush=True)
                    _, _, size, r = timed_get(session, server.url + path)           # warm-up
                    total = r.json()["total"] if "JSON" in name else None
                    ttfb, done, bare_s = [], [], []
                    for _ in range(reps):
                        t, d, size, _ = timed_get(session, server.url + path)
                        ttfb.append(t)
                        done.append(d)
                        bare_s.append(bare_query())
                    results[key] = {"case": name, "user": username, "site": site, "path": path, "bytes": size,
                                    "total": total, "ttfb": summary(ttfb), "complete": summary(done),
                                    "bare": summary(bare_s), "goal_s": GOAL_PAGE_S}
                    print(f"    {json.dumps(results[key])}", file=sys.stderr, flush=True)
            # the import, as the station's coordinator with an API token
            api = requests.Session()
            api.headers["Authorization"] = f"Bearer {tokens['bench-wby']}"
            api.headers["Content-Type"] = "text/csv"
            n = sizes["import_rows"]
            key = f"import {n:,} rows · bench-wby (WBY)"
            print(f"  {key}…", file=sys.stderr, flush=True)
            ttfb, done, bare_s = [], [], []
            for rep in range(sizes["import_reps"]):
                body, rows = import_file(f"{run_tag}{rep}", n)
                bare_s.append(bare.import_rows("WBY", rows))
                t, d, size, r = timed_post(api, server.url + "/api/v1/volunteers/import?site=WBY", body)
                if r.status_code != 200 or r.json().get("imported") != n:
                    raise RuntimeError(f"import: {r.status_code} {r.text[:300]}")
                ttfb.append(t)
                done.append(d)
            results[key] = {"case": "import", "user": "bench-wby", "site": "WBY", "rows": n, "ttfb": summary(ttfb),
                            "complete": summary(done), "bare": summary(bare_s), "goal_s": GOAL_IMPORT_S}
            print(f"    {json.dumps(results[key])}", file=sys.stderr, flush=True)
        finally:
            bare.close()
    return results


def print_table(results: dict[str, dict]) -> None:
    header = ["backend", "figure", "ttfb p50 ms", "complete p50 / p90 ms", "bare query p50 ms", "ratio", "goal ms",
              "ok"]
    lines = []
    for backend, figures in results.items():
        for key, f in figures.items():
            c, b = f["complete"], f["bare"]
            lines.append([backend, key, f"{1000 * f['ttfb']['p50']:,.0f}",
                          f"{1000 * c['p50']:,.0f} / {1000 * c['p90']:,.0f}", f"{1000 * b['p50']:,.1f}",
                          f"{c['p50'] / b['p50']:.1f}x" if b["p50"] else "–", f"{1000 * f['goal_s']:,.0f}",
                          "ok" if c["p50"] <= f["goal_s"] else "MISS"])
    widths = [max(_w(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    for n, row in enumerate([header, *lines]):
        print("| " + " | ".join(str(c) + " " * (w - _w(str(c))) for c, w in zip(row, widths)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def _w(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def load() -> str:
    try:
        return open("/proc/loadavg").read().split(" ", 3)[:3].__str__()
    except OSError:
        return "?"


def postgres_available() -> bool:
    from tests.conftest import _pg_bin
    return bool(_pg_bin("initdb") and _pg_bin("pg_ctl"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 volunteers, 200,000 sessions")
    parser.add_argument("--postgres", action="store_true", help="also against a throwaway PostgreSQL cluster")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--reps", type=int, help="repetitions per figure (default 7; quick 3)")
    parser.add_argument("--sessions", type=int, help="override the number of sessions (e.g. 1000000)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the built data and the JSON go "
                        "(default .bench/)")
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    if args.sessions:
        sizes["sessions"] = args.sessions
    reps = args.reps or sizes["reps"]
    root = Path(tempfile.mkdtemp(prefix="wg-bench-center-"))
    results, meta = {}, {"sizes": sizes, "reps": reps, "load_before": load(), "cores": os.cpu_count()}
    try:
        if not args.no_sqlite:
            print("sqlite…", file=sys.stderr, flush=True)
            data, tokens, built = sqlite_data(root, sizes, args.quick, args.cache)
            meta["sqlite_build_s"] = built
            results["sqlite"] = measure(data, None, tokens, sizes, reps)
            shutil.rmtree(data, ignore_errors=True)
        if args.postgres and not postgres_available():
            print("\n(PostgreSQL skipped: initdb/pg_ctl not found; `make setup` installs them)", flush=True)
        elif args.postgres:
            print("postgresql…", file=sys.stderr, flush=True)
            url, stop = postgres_cluster(root)
            try:
                data, tokens, built = postgres_data(root, url, sizes)
                meta["postgresql_build_s"] = built
                results["postgresql"] = measure(data, url, tokens, sizes, reps)
            finally:
                stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    meta["load_after"] = load()
    args.cache.mkdir(parents=True, exist_ok=True)
    out = args.cache / f"center-{'quick' if args.quick else 'full'}.json"
    out.write_text(json.dumps({"meta": meta, "results": results}, ensure_ascii=False, indent=1))
    print(f"\nweiguang center bench ({'quick' if args.quick else 'full'}: {sizes['volunteers']:,} volunteers, "
          f"{sizes['sessions']:,} sessions, {reps} runs each; loopback, {os.cpu_count()} cores shared by client, "
          f"server and database; load {meta['load_before']} → {meta['load_after']})\n")
    for key in ("sqlite_build_s", "postgresql_build_s"):
        if meta.get(key):
            print(f"{key.split('_')[0]} data built in {meta[key]:.0f} s")
    print_table(results)
    print(f"\n(JSON: {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
