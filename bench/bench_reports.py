"""Reports and certificates at a city's size: the center's report (JSON and page) and its
XLSX export over N volunteers and M sessions, beside the bare SQL aggregate; a batch of
1,000 certificates as one PDF.

    python bench/bench_reports.py [--volunteers 300000] [--sessions 5000000] [--database-url postgresql://…]

The data (one year, 6 stations, confirmed / review / rejected sessions) is written once
per run into a temporary SQLite file, or into the given PostgreSQL database (emptied first).
Goals (issue 9): report ≤ 1 s to first byte, export ≤ 10 s complete, 1,000 certificates ≤ 60 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import print_table  # noqa: E402

STATIONS = ["WBY", "HYL", "NGJ", "YGZ", "XRB", "LQW"]


def load(volunteers: int, sessions: int) -> None:
    from kiosk import demo
    from sync.server import db
    from sync.server.services import accounts, sites
    sites.import_sites(demo.network_csv())
    accounts.add_user("bench", site=None, role="center_admin", password="bench-password-1", actor="bench")
    rnd = random.Random(9)
    start = int(time.mktime((2026, 1, 1, 0, 0, 0, 0, 0, 0)))
    with db.writing():
        rows = [(f"1402{i:08d}", f"志愿者{i}", STATIONS[i % len(STATIONS)]) for i in range(volunteers)]
        for i in range(0, len(rows), 5000):
            db.db.execute_sql("INSERT INTO volunteer (vid, name, team, role, phone, station, status) VALUES "
                              + ",".join(["(%s, %s, '', 'volunteer', '', %s, 'active')"
                                          if db.is_postgres() else "(?, ?, '', 'volunteer', '', ?, 'active')"]
                                         * len(rows[i:i + 5000])),
                              [v for row in rows[i:i + 5000] for v in row])
    states = ["closed"] * 80 + ["approved"] * 12 + ["review"] * 6 + ["rejected"] * 2
    batch = []
    mark = "%s" if db.is_postgres() else "?"
    sql = (f"INSERT INTO sessions (id, vid, serial, role, station, device_id, check_in_at, check_out_at, minutes, "
           f"kiosk_minutes, flags, state) VALUES ")
    for n in range(sessions):
        v = rnd.randrange(volunteers)
        t = start + rnd.randrange(330 * 86400)
        m = rnd.choice((60, 90, 120, 180, 240))
        batch.append((f"s{n:010d}", f"1402{v:08d}", 1, "volunteer", STATIONS[v % len(STATIONS)], "d", t, t + m * 60, m,
                      m, "", rnd.choice(states)))
        if len(batch) == 2000 or n == sessions - 1:
            with db.writing():
                db.db.execute_sql(sql + ",".join([f"({','.join([mark] * 12)})"] * len(batch)),
                                  [x for row in batch for x in row])
            batch = []


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=300_000)
    parser.add_argument("--sessions", type=int, default=5_000_000)
    parser.add_argument("--certificates", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--quick", action="store_true", help="30,000 volunteers, 500,000 sessions, 200 certificates")
    args = parser.parse_args()
    if args.quick:
        args.volunteers, args.sessions, args.certificates = 30_000, 500_000, 200
    from fastapi.testclient import TestClient

    from sync.badges import init_keys
    from sync.server import db
    from sync.server.app import create_app
    from sync.server.services import accounts, certificates, reports
    from sync.server.services.scope import CLI
    from sync.server.settings import ServerSettings
    folder = Path(tempfile.mkdtemp(prefix="wg-bench-reports-"))
    settings = ServerSettings(data_dir=folder, database_url=args.database_url)
    init_keys(settings.keys_dir)
    app = create_app(settings)
    if args.database_url:
        with db.writing():
            db.db.execute_sql("TRUNCATE sessions, volunteer, sites, users, certificates")
    t0 = time.perf_counter()
    load(args.volunteers, args.sessions)
    print(f"loaded {args.volunteers:,} volunteers, {args.sessions:,} sessions in {time.perf_counter() - t0:.0f} s "
          f"({db.describe()})", flush=True)
    token = {"Authorization": f"Bearer {accounts.make_token('bench')}"}
    period = "from=2026-01-01&to=2026-12-31"
    with TestClient(app) as client:
        def get(path):
            answer = client.get(path, headers=token)
            assert answer.status_code == 200, answer.text[:300]
            return answer
        bare = timed(lambda: db.db.execute_sql(
            "SELECT station, SUM(minutes), COUNT(DISTINCT vid) FROM sessions WHERE state IN "
            "('closed','approved','adjusted') GROUP BY station").fetchall())
        json_site = timed(lambda: get(f"/api/v1/reports/hours?{period}&by=site"))
        json_month = timed(lambda: get(f"/api/v1/reports/hours?{period}&by=month"))
        xlsx_site = timed(lambda: get(f"/api/v1/reports/hours?{period}&by=site&format=xlsx"), 1)
        xlsx_volunteer = timed(lambda: get(f"/api/v1/reports/hours?{period}&by=volunteer&format=xlsx"), 1)
        vids = [r["key"] for r in reports.hours(CLI, start="2026-01-01", end="2026-12-31", by="volunteer")["rows"]]
        vids = vids[:args.certificates]

        def batch():
            made = certificates.issue_many(CLI, vids, "2026-01-01", "2026-12-31", "bench", settings.secret_key,
                                           skip_empty=True)
            certificates.pdf(made, "http://center.example")
        certs = timed(batch, 1)
    print_table(f"Reports: {args.volunteers:,} volunteers, {args.sessions:,} sessions ({db.describe()})", [
        ("report by site (JSON, complete)", json_site, "bare SQL aggregate", bare, "≤ 1 s"),
        ("report by month (JSON, complete)", json_month, "bare SQL aggregate", bare, "≤ 1 s"),
        ("XLSX by site (complete)", xlsx_site, "bare SQL aggregate", bare, "≤ 10 s"),
        ("XLSX by volunteer (complete)", xlsx_volunteer, "bare SQL aggregate", bare, "≤ 10 s"),
        (f"{len(vids):,} certificates, one PDF", certs, "goal", 60.0, "≤ 60 s"),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
