"""Reports and certificates at a city's size, against a real `weiguang server run` process.

    python bench/bench_reports.py [--quick] [--postgres] [--no-sqlite] [--reps N] [--sessions N]
    WEIGUANG_BENCH_SIZE=quick python bench/bench_reports.py      # the same as --quick

The data is bench_center's (the Datong-shaped network: 1,807 stations; 300,000 volunteers;
5,000,000 sessions over two years, most closed, ~3 % waiting for review, some approved,
adjusted, rejected or open), built with executemany (SQLite) or COPY (PostgreSQL); the
SQLite data dir is built once and cached under .bench/ keyed by its size (shared with
bench_center.py); PostgreSQL is a throwaway cluster loaded each run, then VACUUM ANALYZE.

Measured over HTTP on 127.0.0.1 as the city's center administrator (site DT: the whole
network), over the data's whole period (two years):

    report page    GET /reports?site=DT&from=…&to=…&by=site       (logged-in session; the page
                   draws the report by site and, for "busiest", the report by activity)
    report JSON    GET /api/v1/reports/hours?…&by=site            (API token)
    XLSX by site   GET /api/v1/reports/hours?…&by=site&format=xlsx
    XLSX by volunteer  …&by=volunteer&format=xlsx                 (one row per active volunteer)

Each: time to first byte (headers in) and to complete (body read), p50 of --reps runs after
a warm-up, beside the bare SQL aggregate (SUM of minutes and COUNT(DISTINCT vid) per station,
or SUM per volunteer, over the sessions of the period, counted states only) timed on this
process's own connection in the same run: the ratio says what the report adds to the query.
Then 1,000 certificates as one PDF (services.certificates.issue_many + pdf, in this process,
on the same database; the center's batch does exactly this).

Goals (issue 9): report ≤ 1 s to first byte, ≤ 10 s complete (page and XLSX); 1,000
certificates ≤ 60 s. `--quick`: 20,000 volunteers, 200,000 sessions, 200 certificates.
Client, server and database share this machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.bench_center import (CACHE, FULL, NOW, QUICK, USER_PASSWORD, Bare, Server, load,  # noqa: E402
                                postgres_available, postgres_cluster, postgres_data, sqlite_data, timed_get)
from bench.common import percentile  # noqa: E402

GOAL_TTFB_S = 1.0
GOAL_COMPLETE_S = 10.0
GOAL_CERTIFICATES_S = 60.0
USER, SITE = "bench-city", "DT"
# The data's whole period: check-ins from NOW - 730 days to NOW (bench_center.generate).
FROM, TO = "2024-09-01", "2026-09-30"
COUNTED = "('closed', 'approved', 'adjusted')"


def bounds() -> tuple[int, int]:
    from datetime import date

    from sync.server.services.reports import _bounds
    return _bounds(date.fromisoformat(FROM), date.fromisoformat(TO))


def sessions(bare: Bare) -> str:
    """The sessions table, read (on SQLite) through the reports' covering index: left to
    itself SQLite's planner takes the (state, check_in_at) index and fetches every row one
    by one (68 s instead of 4 s at 5,000,000 sessions, load 12): the anchor is the best
    plain SQL, not that."""
    from sync.server.services.reports import REPORT_INDEX
    return "sessions" if bare.pg else f'sessions INDEXED BY "{REPORT_INDEX}"'


def bare_by_station(bare: Bare) -> float:
    """The aggregate the report by site needs: minutes and distinct volunteers per station."""
    lo, hi = bounds()
    started = time.perf_counter()
    bare._all(f"SELECT station, SUM(minutes), COUNT(DISTINCT vid) FROM {sessions(bare)} WHERE state IN {COUNTED} "
              f"AND check_in_at >= {lo} AND check_in_at < {hi} GROUP BY station")
    return time.perf_counter() - started


def bare_by_volunteer(bare: Bare) -> float:
    """The aggregate the report by volunteer needs: minutes per volunteer."""
    lo, hi = bounds()
    started = time.perf_counter()
    bare._all(f"SELECT vid, SUM(minutes) FROM {sessions(bare)} WHERE state IN {COUNTED} "
              f"AND check_in_at >= {lo} AND check_in_at < {hi} GROUP BY vid")
    return time.perf_counter() - started


def measure(data: Path, database_url: str | None, tokens: dict, reps: int, certificates_n: int,
            only_certificates: bool = False) -> dict:
    results = {}
    period = f"from={FROM}&to={TO}"
    if only_certificates:
        results["certificates"] = certificates_batch(data, database_url, certificates_n)
        results["certificates (typical)"] = certificates_batch(data, database_url, certificates_n, "spread")
        return results
    with Server(data, database_url) as server:
        bare = Bare(data, database_url)
        try:
            page = server.login(USER, USER_PASSWORD)
            api = requests.Session()
            api.headers["Authorization"] = f"Bearer {tokens[USER]}"
            cases = [
                ("report page (by site)", page, f"/reports?site={SITE}&{period}&by=site", bare_by_station),
                ("report JSON (by site)", api, f"/api/v1/reports/hours?site={SITE}&{period}&by=site", bare_by_station),
                ("XLSX by site", api, f"/api/v1/reports/hours?site={SITE}&{period}&by=site&format=xlsx",
                 bare_by_station),
                ("XLSX by volunteer", api, f"/api/v1/reports/hours?site={SITE}&{period}&by=volunteer&format=xlsx",
                 bare_by_volunteer),
            ]
            for name, session, path, bare_query in cases:
                print(f"  {name}…", file=sys.stderr, flush=True)
                _, _, size, _ = timed_get(session, server.url + path)          # warm-up
                ttfb, done, bare_s = [], [], []
                for _ in range(reps):
                    t, d, size, _ = timed_get(session, server.url + path)
                    ttfb.append(t)
                    done.append(d)
                    bare_s.append(bare_query(bare))
                results[name] = {"path": path, "bytes": size, "ttfb": percentile(ttfb, 50),
                                 "complete": percentile(done, 50), "complete_max": max(done),
                                 "bare": percentile(bare_s, 50)}
                print(f"    {json.dumps(results[name])}", file=sys.stderr, flush=True)
        finally:
            bare.close()
    results["certificates"] = certificates_batch(data, database_url, certificates_n)
    results["certificates (typical)"] = certificates_batch(data, database_url, certificates_n, "spread")
    return results


def certificates_batch(data: Path, database_url: str | None, n: int, pick: str = "top") -> dict:
    """n certificates as one PDF, in this process: of the period's most active volunteers
    (the worst case: hundreds of service lines each), or ("spread") of volunteers taken
    evenly along the report's rows (typical ones)."""
    from sync.server import db
    from sync.server.services import certificates, reports
    from sync.server.services.scope import CLI
    from sync.server.settings import ServerSettings
    settings = ServerSettings(data_dir=data, database_url=database_url)
    db.open_database(settings)
    db.migrate()
    rows = reports.hours(CLI, start=FROM, end=TO, by="volunteer")["rows"]
    vids = [r["key"] for r in (rows[:n] if pick == "top" else rows[::max(1, len(rows) // n)][:n])]
    print(f"  {len(vids):,} certificates ({pick})…", file=sys.stderr, flush=True)
    started = time.perf_counter()
    made = certificates.issue_many(CLI, vids, FROM, TO, "bench", settings.session_secret(), skip_empty=True)
    recorded = time.perf_counter() - started
    pdf = certificates.pdf(made, "http://center.example")
    done = time.perf_counter() - started
    db.db.close()
    lines = sum(len(c["lines"]) for c in made)
    print(f"    {len(made):,} certificates, {lines:,} service lines: recorded {recorded:.1f} s, complete {done:.1f} s",
          file=sys.stderr, flush=True)
    return {"n": len(made), "lines": lines, "pick": pick, "recorded": recorded, "complete": done, "bytes": len(pdf)}


def print_results(results: dict[str, dict]) -> None:
    header = ["backend", "figure", "ttfb p50 s", "complete p50 s", "bare SQL p50 s", "complete / bare",
              "goal", "ok"]
    lines = []
    for backend, figures in results.items():
        for name, f in figures.items():
            if name.startswith("certificates"):
                lines.append([backend, f"{f['n']:,} certificates {'(most active)' if f.get('pick', 'top') == 'top' else '(typical)'}"
                              f", {f.get('lines', 0):,} lines, one PDF ({f['bytes'] / 1e6:.1f} MB)", "–",
                              f"{f['complete']:.2f}", "–", "–", f"≤ {GOAL_CERTIFICATES_S:.0f} s",
                              "ok" if f["complete"] <= GOAL_CERTIFICATES_S else "MISS"])
                continue
            ok = f["ttfb"] <= GOAL_TTFB_S and f["complete"] <= GOAL_COMPLETE_S
            lines.append([backend, f"{name} ({f['bytes'] / 1e3:,.0f} kB)", f"{f['ttfb']:.3f}", f"{f['complete']:.3f}",
                          f"{f['bare']:.3f}", f"{f['complete'] / f['bare']:.2f}×" if f["bare"] else "–",
                          f"≤ {GOAL_TTFB_S:.0f} s / ≤ {GOAL_COMPLETE_S:.0f} s", "ok" if ok else "MISS"])
    widths = [max(_w(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    for n, row in enumerate([header, *lines]):
        print("| " + " | ".join(str(c) + " " * (w - _w(str(c))) for c, w in zip(row, widths)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def _w(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 volunteers, 200,000 sessions, 200 certificates "
                        "(also WEIGUANG_BENCH_SIZE=quick)")
    parser.add_argument("--postgres", action="store_true", help="also against a throwaway PostgreSQL cluster")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--reps", type=int, help="repetitions per figure (default 3)")
    parser.add_argument("--sessions", type=int, help="override the number of sessions (e.g. 1000000)")
    parser.add_argument("--volunteers", type=int, help="override the number of volunteers")
    parser.add_argument("--certificates", type=int, help="certificates in the batch (default 1,000; quick 200)")
    parser.add_argument("--only-certificates", action="store_true", help="the certificate batches only (no server)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the built data and the JSON go (.bench/)")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("WEIGUANG_BENCH_SIZE", "") == "quick"
    sizes = dict(QUICK if quick else FULL)
    for key in ("sessions", "volunteers"):
        if getattr(args, key):
            sizes[key] = getattr(args, key)
    custom = (sizes["volunteers"], sizes["sessions"]) != ((QUICK if quick else FULL)["volunteers"],
                                                          (QUICK if quick else FULL)["sessions"])
    reps = args.reps or 3
    certificates_n = args.certificates or (200 if quick else 1000)
    root = Path(tempfile.mkdtemp(prefix="wg-bench-reports-"))
    results, meta = {}, {"sizes": sizes, "reps": reps, "load_before": load(), "cores": os.cpu_count(), "now": NOW}
    # The SQLite cache is keyed by size: quick, full, or the custom size asked for.
    cache_key = f"{sizes['volunteers']}-{sizes['sessions']}" if custom else ("quick" if quick else "full")
    try:
        if not args.no_sqlite:
            print("sqlite…", file=sys.stderr, flush=True)
            data, tokens, built = sqlite_data(root, sizes, cache_key)
            meta["sqlite_build_s"] = built
            results["sqlite"] = measure(data, None, tokens, reps, certificates_n, args.only_certificates)
            shutil.rmtree(data, ignore_errors=True)
        if args.postgres and not postgres_available():
            print("\n(PostgreSQL skipped: initdb/pg_ctl not found; `make setup` installs them)", flush=True)
        elif args.postgres:
            print("postgresql…", file=sys.stderr, flush=True)
            url, stop = postgres_cluster(root)
            try:
                data, tokens, built = postgres_data(root, url, sizes)
                meta["postgresql_build_s"] = built
                results["postgresql"] = measure(data, url, tokens, reps, certificates_n, args.only_certificates)
            finally:
                stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    meta["load_after"] = load()
    args.cache.mkdir(parents=True, exist_ok=True)
    out = args.cache / f"reports-{cache_key}{'-certificates' if args.only_certificates else ''}.json"
    out.write_text(json.dumps({"meta": meta, "results": results}, ensure_ascii=False, indent=1))
    print(f"\nweiguang reports bench ({sizes['volunteers']:,} volunteers, {sizes['sessions']:,} sessions, "
          f"{reps} runs each; loopback, {os.cpu_count()} cores shared by client, server and database; "
          f"load {meta['load_before']} → {meta['load_after']})\n")
    for key in ("sqlite_build_s", "postgresql_build_s"):
        if meta.get(key):
            print(f"{key.split('_')[0]} data built in {meta[key]:.0f} s")
    print_results(results)
    print(f"\n(JSON: {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
