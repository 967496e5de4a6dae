"""Scan-to-durable-record latency, and the store's hot queries at 1,000,000 attendance rows.

    python bench/bench_store.py [--rows 1000000] [--scans 300]

1. From camera frame bytes (640×480 RGBA holding a badge) to the committed attendance row and
   outbox event: decode + verify + decide + one fsynced transaction. Anchor: a bare SQLite commit
   of one row with the same pragmas (WAL, synchronous=FULL) on the same disk. Goal p99 ≤ 25 ms.
2. A store holding N attendance rows (300,000 volunteers): a check-in p99, and "minutes of this
   volunteer this year" p99. Anchor: the same operations on a 1,000-row store. Goal ≤ 5 ms each.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import p50, p99, print_table  # noqa: E402
from kiosk.attendance import Attendance  # noqa: E402
from kiosk.scanner.decoder import Frame, decode  # noqa: E402
from kiosk.store import PRAGMAS, TrustedKey, open_store  # noqa: E402
from sync.badges import generate_key, issue, public_key_b64  # noqa: E402
from sync.printing import qr_image  # noqa: E402

KEY = generate_key()
NOW = int(time.time())


def badge_frame(token: str, width=640, height=480) -> bytes:
    """A grey, noisy 640×480 RGBA frame with the badge QR at arm's length."""
    rng = np.random.default_rng(len(token))
    frame = rng.normal(120, 18, (height, width)).clip(0, 255).astype(np.uint8)
    qr = np.asarray(qr_image(token, box_size=4).convert("L"))
    y, x = (height - qr.shape[0]) // 2, (width - qr.shape[1]) // 2
    frame[y:y + qr.shape[0], x:x + qr.shape[1]] = qr * 0.8 + 30
    return np.dstack([frame, frame, frame, np.full_like(frame, 255)]).tobytes()


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - start) * 1000


def fresh_store(directory: Path, name: str):
    store = open_store(directory / name, clock=lambda: NOW)
    TrustedKey.replace(kid=KEY.kid, public_key=public_key_b64(KEY.public_key)).execute()
    return store


def scan_to_durable(directory: Path, scans: int) -> tuple[list[float], list[float]]:
    desk = Attendance(fresh_store(directory, "scan.db"))
    frames = [badge_frame(issue(KEY, f"S{n:08d}", n)) for n in range(1, scans + 1)]
    latencies = []
    for data in frames:
        start = time.perf_counter()
        [text] = decode(Frame(data, 640, 480, "rgba", bottom_up=True))
        assert desk.scan(text).result == "checked_in"
        latencies.append((time.perf_counter() - start) * 1000)
    # anchor: one row, one commit, same pragmas and disk
    bare = sqlite3.connect(directory / "bare.db", isolation_level=None)
    for pragma, value in PRAGMAS.items():
        bare.execute(f"pragma {pragma}={value}")
    bare.execute("create table t (id integer primary key, v text)")
    commits = []
    for n in range(scans):
        commits.append(timed(lambda: (bare.execute("begin"), bare.execute("insert into t (v) values (?)", (str(n),)),
                                      bare.execute("commit"))))
    return latencies, commits


def fill(store_path: Path, rows: int, volunteers: int) -> None:
    """Bulk-load closed sessions spread over two years (raw SQL: a load, not the code under test)."""
    conn = sqlite3.connect(store_path)
    conn.execute("pragma synchronous=off")
    rng = random.Random(7)
    two_years = 2 * 365 * 86400

    def sessions():
        for n in range(rows):
            start = NOW - 86400 - rng.randrange(two_years)
            minutes = rng.choice((60, 90, 120, 180, 240))
            yield (f"s{n}", f"V{rng.randrange(volunteers):08d}", n + 1, start, start + minutes * 60, minutes)
    conn.executemany("insert into attendance (id, vid, serial, role, activity_id, check_in_at, check_out_at, minutes, "
                     "flags) values (?, ?, ?, 'volunteer', null, ?, ?, ?, '')", sessions())
    conn.commit()
    conn.close()


def hot_queries(directory: Path, rows: int, volunteers: int, samples: int) -> tuple[list[float], list[float]]:
    path = directory / f"store-{rows}.db"
    fresh_store(directory, path.name)
    fill(path, rows, volunteers)
    desk = Attendance(fresh_store(directory, path.name))
    rng = random.Random(3)
    vids = [f"V{rng.randrange(volunteers):08d}" for _ in range(samples)]
    tokens = [issue(KEY, vid, 10_000_000 + n) for n, vid in enumerate(vids)]
    checkins = []
    for token in tokens:
        start = time.perf_counter()
        desk.scan(token)
        checkins.append((time.perf_counter() - start) * 1000)
    year = [timed(desk.year_minutes, vid, NOW) for vid in vids]
    return checkins, year


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--scans", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent.parent) as tmp:
        directory = Path(tmp)
        scan, commit = scan_to_durable(directory, args.scans)
        print_table(f"Scan to durable record ({args.scans} scans, 640×480 RGBA frame → committed row)", [
            ("scan→durable p50 (ms)", p50(scan), "bare SQLite commit p50", p50(commit), "–"),
            ("scan→durable p99 (ms)", p99(scan), "bare SQLite commit p99", p99(commit), "≤ 25 ms"),
        ])
        small_in, small_year = hot_queries(directory, 1_000, 1_000, args.scans)
        big_in, big_year = hot_queries(directory, args.rows, 300_000, args.scans)
        print_table(f"Store with {args.rows:,} attendance rows (300,000 volunteers)", [
            ("check-in p50 (ms)", p50(big_in), "1,000-row store p50", p50(small_in), "–"),
            ("check-in p99 (ms)", p99(big_in), "1,000-row store p99", p99(small_in), "≤ 5 ms"),
            ("hours this year p50 (ms)", p50(big_year), "1,000-row store p50", p50(small_year), "–"),
            ("hours this year p99 (ms)", p99(big_year), "1,000-row store p99", p99(small_year), "≤ 5 ms"),
        ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
