"""UI benchmarks (run by `make bench`, never by the tests); needs a DISPLAY (or Xvfb).

    DISPLAY=:0 .venv/bin/python bench/bench_ui.py [--scans 3000]

1. cold start: process start -> first interactive frame (goal <= 3 s)
2. resident memory after N scans through the camera path (CameraFeed.show_frame ->
   FrameDecoder -> desk), sampled after 500 and at the end (goal <= 200 MB, no growth)
3. frames per second while a backlog syncs: needs a running `weiguang server`; not
   measured here yet (printed as such).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
T0 = time.monotonic()


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(scans: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["WEIGUANG_NO_SOUND"] = "1"
    from kiosk.app import configure_kivy, make_app_class
    configure_kivy(size=(1280, 800))
    from kivy.clock import Clock
    from kiosk.scanner.replay import load_rgb
    from kiosk.ui.services import KioskServices
    from tests.kiosk.ui.harness import FakeClock, make_kiosk
    folder = Path(tempfile.mkdtemp(prefix="wg-bench-"))
    clock = FakeClock()
    store, tokens = make_kiosk(folder, clock=clock)
    services = KioskServices(store)
    app = make_app_class()(services, start_camera=False, sounds=False)
    frames = [load_rgb(p) for p in sorted((folder / "badges").glob("*.png"))]
    import numpy as np
    blank = np.full_like(frames[0], 128)
    out = {}

    def start(dt):
        out["cold_start_s"] = app.first_frame_at - T0 if app.first_frame_at else time.monotonic() - T0
        state = {"i": 0}

        def feed(dt):
            # each "scan": a badge frame then a blank one, the store clock moving 3 min on
            i = state["i"]
            if i >= scans:
                services.wait_idle(30)
                out["rss_end_mb"] = rss_mb()
                out["decided"] = services.scans_decided
                print(json.dumps(out), flush=True)
                app.allow_quit = True
                app.stop()
                return False
            frame = frames[i % len(frames)]
            app.camera.decoder.wait_idle(5)
            app.camera._last_submit = 0
            app.camera.show_frame(frame)
            app.camera.decoder.wait_idle(5)
            app.camera._last_submit = 0
            app.camera.show_frame(blank)
            services.seen_recently("", 0)   # noqa - keep API warm
            services._seen.clear()
            clock.advance(180)
            state["i"] = i + 1
            if state["i"] == 500:
                services.wait_idle(30)
                out["rss_500_mb"] = rss_mb()
        Clock.schedule_interval(feed, 0)

    Clock.schedule_once(start, 0.2)
    app.run()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--scans", type=int, default=3000)
    p.add_argument("--child", action="store_true")
    args = p.parse_args()
    if args.child:
        child(args.scans)
        return 0
    env = dict(os.environ, KIVY_NO_CONSOLELOG="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, __file__, "--child", "--scans", str(args.scans)], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if not lines:
        print(proc.stderr[-3000:])
        return 1
    r = json.loads(lines[-1])
    growth = r["rss_end_mb"] - r["rss_500_mb"]
    rows = [("cold start to first frame (s)", r["cold_start_s"], 3.0, "<="),
            (f"RSS after {args.scans} scans (MB)", r["rss_end_mb"], 200.0, "<="),
            ("RSS growth after scan 500 (MB)", growth, 10.0, "<="),
            ("FPS while 10,000 events sync", None, 30.0, ">=")]
    print(f"{'measure':40} {'value':>10} {'goal':>8} {'ratio':>8}")
    for name, value, goal, op in rows:
        if value is None:
            print(f"{name:40} {'n/a':>10} {op}{goal:>6g} {'—':>8}  (not measured: needs a running sync server)")
        else:
            print(f"{name:40} {value:>10.2f} {op}{goal:>6g} {value / goal if goal else 0:>8.2f}")
    print(f"(decisions made: {r['decided']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
