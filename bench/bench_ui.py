"""UI benchmarks (run by `make bench`, never by the tests); needs a DISPLAY (or Xvfb).

    DISPLAY=:0 .venv/bin/python bench/bench_ui.py [--scans 3000] [--events 10000] [--latency 0.5]

1. cold start: process start -> first interactive frame (goal <= 3 s).
2. memory after N scans through the live camera's own path, the kiosk enrolled with a real
   server and its sync agent pushing the scans as they come (as at a station; --standalone: not enrolled): a recorded video (badges and empty
   frames, 640x480) read by OpenCV on the capture thread (kiosk.capture, what a webcam goes
   through), shown in the preview, decoded, decided and written; RSS and USS (private memory,
   /proc/self/smaps_rollup) before the first scan, after 500 and at the end (goals RSS <= 200 MB, USS <= 110 MB,
   no growth), and the largest mappings by private memory. The final figures are taken with the
   server stopped (it maps the same libraries from the same venv). USS counts only pages no other
   process maps: run it with nothing else from this venv running (tests, a demo), or it reads low.
3. the main loop while a 10,000-event backlog syncs to a real `weiguang server run` process
   (niced: a center is another machine) and badges arrive through the camera path (replayed
   frames -> decoder -> desk -> feedback screen): every loop iteration redraws the window (as during
   an animation) and each drawn frame is timed after glFinish (the frame is really rendered);
   the longest main-loop stall and the 99th percentile frame interval over the whole sync
   (goals 50 ms / 33 ms), beside the same figures without a sync (8 s before and 8 s after it,
   pooled: the anchor), and the CPU each drawn frame and each synced event cost, by thread
   (figures the machine's load does not move much). The sync agent talks through a connection with `--latency` seconds
   per request (a kiosk on a mobile network) so that the sync lasts at least 20 s; the figure
   says how long it lasted. On a machine loaded by other work the wall-clock figures say more
   about the load than about the kiosk (the renderer's threads wait for a core): the table gives
   `uptime` beside them, and two figures the load does not move: the UI thread's own CPU in its
   busiest iteration, and an estimate of the longest iteration on two idle cores (the UI
   thread's CPU plus the renderer's CPU in that iteration shared by its threads, plus the CPU of
   any garbage collection another thread ran meanwhile, which holds the GIL; what it leaves
   out: the X server's part of the swap, other waits for the GIL; the collections are also
   counted by generation, the full ones listed). Last, the
   kiosk left alone for 5 s on the home screen with a 15 fps preview (no redraw asked for): the
   frames it draws per second and their CPU, the load it puts on its own machine.
   --verbose: a sampler (every 2 ms, from `--late` seconds late) records what the UI thread was
   doing during stalls, and each long or busy loop iteration is printed with its steps (clock,
   draw, glFinish, decisions, screen changes, fades, collections) in wall and UI-thread CPU time.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
T0 = time.monotonic()


def memory_mb() -> dict:
    """RSS, USS (private pages: what psutil's memory_full_info calls uss) and PSS, from
    /proc/self/smaps_rollup: psutil would add its own 2.6 MB to what it measures."""
    kb = {}
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                kb[parts[0][:-1]] = int(parts[1])
    uss = kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0) + kb.get("Private_Hugetlb", 0)
    return {"rss": kb["Rss"] / 1024, "uss": uss / 1024, "pss": kb.get("Pss", 0) / 1024}


def mappings(top: int = 14, like: str | None = None) -> list[tuple[str, float, float]]:
    """(file, RSS MB, private MB) of this process's largest mappings, from /proc/self/smaps."""
    sums: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
    name = "?"
    with open("/proc/self/smaps") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if not parts[0].endswith(":"):          # a mapping's header line
                name = parts[5] if len(parts) > 5 else "[anon]"
                name = os.path.basename(name) if name.startswith("/") else name
            elif parts[0] == "Rss:":
                sums[name][0] += int(parts[1]) / 1024
            elif parts[0] in ("Private_Clean:", "Private_Dirty:"):
                sums[name][1] += int(parts[1]) / 1024
    import re
    ranked = sorted(((n, v) for n, v in sums.items() if like is None or re.search(like, n)),
                    key=lambda kv: -kv[1][1])[:top]
    return [(n, round(r, 1), round(p, 1)) for n, (r, p) in ranked]


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each thread of this process, by thread name (same names summed)."""
    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = collections.defaultdict(float)
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name = names.get(int(tid)) or text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        out[name] += (int(fields[11]) + int(fields[12])) / tick
    return dict(out)


def cpu_delta(before: dict, after: dict) -> dict:
    return {k: round(v - before.get(k, 0.0), 2) for k, v in sorted(after.items(), key=lambda kv: -kv[1])
            if v - before.get(k, 0.0) > 0.05}


def anon_regions(top: int = 10) -> list[tuple[str, float]]:
    """The largest anonymous mappings (address range size MB, RSS MB): arenas, GL buffers."""
    found, current = [], None
    with open("/proc/self/smaps") as f:
        for line in f:
            parts = line.split()
            if parts and not parts[0].endswith(":"):
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                current = [(hi - lo) / 2**20, 0.0] if len(parts) <= 5 or parts[5] == "[heap]" else None
                if current is not None:
                    found.append(current)
            elif current is not None and parts and parts[0] == "Rss:":
                current[1] = int(parts[1]) / 1024
    found.sort(key=lambda r: -r[1])
    return [(round(size, 1), round(rss, 1)) for size, rss in found[:top]]


def sample_kiosk(prefix: str):
    """A Kivy window configured (1280x800, no sound) and a sample kiosk: (folder, clock, store, tokens)."""
    sys.path.insert(0, str(ROOT))
    os.environ["WEIGUANG_NO_SOUND"] = "1"
    from kiosk.app import configure_kivy
    configure_kivy(size=(1280, 800))
    from kiosk.ui.sample import FakeClock, make_kiosk
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    clock = FakeClock()
    store, tokens = make_kiosk(folder, clock=clock)
    return folder, clock, store, tokens


def record_video(badges: Path, out: Path, fps: int = 60) -> Path:
    """The kiosk camera's view as a recorded video: each badge (the coordinator's left out: it
    opens another screen) on a grey 640x480 frame, then an empty frame."""
    import cv2
    import numpy as np
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    blank = np.full((480, 640, 3), 128, np.uint8)
    for path in sorted(badges.glob("*.png")):
        if path.stem == "14020200009":
            continue
        img = cv2.imread(str(path))
        scale = 400 / max(img.shape[:2])
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        frame = blank.copy()
        y, x = (480 - img.shape[0]) // 2, (640 - img.shape[1]) // 2
        frame[y:y + img.shape[0], x:x + img.shape[1]] = img
        writer.write(frame)
        writer.write(blank)
    writer.release()
    return out


def record_blank(out: Path, fps: int = 30) -> Path:
    """The camera's view of an empty counter: a few seconds of grey, played in a loop."""
    import cv2
    import numpy as np
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    for _ in range(fps):
        writer.write(np.full((480, 640, 3), 128, np.uint8))
    writer.release()
    return out


class StallSampler:
    """Every 2 ms, is the UI thread late? When it is, keep its stack (and the other threads'),
    with the time, so that each long loop iteration can be told what filled it."""

    def __init__(self, main_ident: int, late: float = 0.030):
        self.main, self.late = main_ident, late
        self.last_tick = time.monotonic()
        self.main_stacks: collections.Counter = collections.Counter()
        self.other_stacks: collections.Counter = collections.Counter()
        self.samples: list[tuple[float, str]] = []      # (when, the UI thread's stack) while late
        self.on = False
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True, name="bench-sampler").start()

    def tick(self) -> None:
        self.last_tick = time.monotonic()

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            if not self.on or time.monotonic() - self.last_tick < self.late:
                continue
            now = time.monotonic()
            frames = sys._current_frames()
            for ident, frame in frames.items():
                if ident == threading.get_ident():
                    continue
                steps, f = [], frame      # a bare walk (no source lines read): the GIL is held meanwhile
                while f is not None and len(steps) < 10:
                    steps.append(f"{os.path.basename(f.f_code.co_filename)}:{f.f_lineno} {f.f_code.co_name}")
                    f = f.f_back
                text = " < ".join(steps)
                if ident == self.main:
                    self.main_stacks[text] += 1
                    self.samples.append((now, text))
                else:
                    self.other_stacks[text] += 1

    def during(self, start: float, end: float, top: int = 4) -> list[tuple[str, int]]:
        """The UI thread's stacks sampled between start and end, most frequent first."""
        return collections.Counter(text for t, text in self.samples if start <= t <= end).most_common(top)

    def stop(self) -> None:
        self._stop.set()


class SlowNetwork:
    """requests.Session whose every request takes `latency` seconds more (a mobile network)."""

    def __new__(cls, latency: float):
        import requests

        class Session(requests.Session):
            def request(self, *args, **kwargs):
                time.sleep(latency)
                return super().request(*args, **kwargs)
        return Session()


def child_stall(events: int, latency: float, verbose: bool = False, late: float = 0.030) -> None:
    """Fill the outbox, enrol with a real server, sync while drawing every frame and scanning."""
    folder, clock, store, tokens = sample_kiosk("wg-bench-stall-")
    from kivy.clock import Clock
    from kiosk.app import make_app_class
    from kiosk.attendance import Attendance
    from kiosk.demo import LocalServer
    from kiosk.scanner.replay import ReplaySource
    from kiosk.store import db
    from kiosk.ui.services import KioskServices
    from sync.client import SyncAgent, enroll
    desk = Attendance(store)
    vids = [v for v in tokens if v != "14020200009"]
    with db.atomic():
        while store.count_pending() < events:
            clock.advance(180)
            for vid in vids:     # check-in / check-out pairs, three minutes apart
                desk.scan(tokens[vid])
    backlog = store.count_pending()
    for p in (folder / "badges").glob("14020200009.png"):
        p.unlink()             # the coordinator's badge opens the PIN screen: not a scan
    server = LocalServer(folder / "server", nice=10).init().start()
    try:
        enroll(store, server.url, server.code("WBY"))
        services = KioskServices(store)
        services.sync_agent = SyncAgent(store, http=SlowNetwork(latency) if latency else None, interval=3600)
        app = make_app_class()(services, start_camera=False, sounds=False)
        sampler = StallSampler(threading.get_ident(), late=late) if verbose else None
        ticks: list[float] = []
        cpu_ticks: list[float] = []    # the UI thread's own CPU time at each tick
        gl_ticks: list[float] = []     # the software renderer's threads' CPU time at each tick
        renderer: list[str] = []       # their thread ids (Mesa's llvmpipe-N), found once drawing

        def renderer_cpu() -> float:
            """CPU seconds of the renderer's threads so far (/proc schedstat: ns, exact)."""
            total = 0
            for tid in renderer:
                try:
                    with open(f"/proc/self/task/{tid}/schedstat") as f:
                        total += int(f.read().split()[0])
                except OSError:
                    pass
            return total / 1e9
        flips: list[float] = []
        marks: list[tuple[float, float, str]] = []   # (when, UI thread CPU, what): the loop's steps
        state = {"on": False}
        out = {"backlog": backlog, "latency_s": latency}

        def tick(dt):            # every iteration of the Kivy loop
            now = time.monotonic()
            if sampler:
                sampler.tick()
            if state["on"]:
                ticks.append(now)
                cpu_ticks.append(time.thread_time())
                gl_ticks.append(renderer_cpu())
                if verbose:
                    marks.append((now, time.thread_time(), "tick"))
            if state.get("calm"):
                return                   # the kiosk left alone: it draws when it has something new
            from kivy.core.window import Window
            Window.canvas.ask_update()   # draw every frame, as during an animation

        def flipped(*args):      # a frame drawn: wait until the GL has really rendered it
            from kivy.graphics.opengl import glFinish
            if verbose:
                marks.append((time.monotonic(), time.thread_time(), "drawn"))
            glFinish()
            state["calm_draws"] = state.get("calm_draws", 0) + 1
            if state["on"]:
                flips.append(time.monotonic())
                if verbose:
                    marks.append((flips[-1], time.thread_time(), "finished"))

        def mark(what: str):
            if verbose:
                marks.append((time.monotonic(), time.thread_time(), what))

        # (generation, seconds, thread, when it ended (monotonic), its CPU seconds, on the UI thread?)
        gc_runs: list[tuple[int, float, str, float, float, bool]] = []
        gc_started: dict[int, tuple[float, float]] = {}
        ui_ident = threading.get_ident()

        def collected(phase: str, info: dict) -> None:   # gc.callbacks: whichever thread collects
            now, cpu, me = time.monotonic(), time.thread_time(), threading.get_ident()
            if phase == "start":
                gc_started[me] = (now, cpu)
                return
            t0, c0 = gc_started.get(me, (now, cpu))
            took = now - t0
            who = threading.current_thread().name
            if state["on"] and (info["generation"] >= 1 or took > 0.005 or cpu - c0 > 0.001):
                gc_runs.append((info["generation"], took, who, now, cpu - c0, me == ui_ident))
                if verbose and state["on"]:
                    marks.append((now - took, None, f"gc{info['generation']} ({who}, {took * 1000:.1f} ms)"))
        import gc
        gc.callbacks.append(collected)

        phases: dict[str, dict] = {name: {"frame": [], "loop": [], "loop_cpu": [], "loop_est": [], "seconds": 0.0, "frames": 0,
                                          "cpu": {}} for name in ("idle", "sync")}

        def close_phase(name: str, seconds: float, cpu_before: dict) -> None:
            """Keep this stretch's gaps (stretches of one kind pooled) and CPU by thread."""
            ph = phases[name]
            for i, (a, b, ca, cb) in enumerate(zip(ticks, ticks[1:], cpu_ticks, cpu_ticks[1:])):
                prev = ticks[max(0, i - 1)]     # the long iterations, from the one before
                gl_ms = (gl_ticks[i + 1] - gl_ticks[i]) * 1000
                if b - a > 0.040 or (verbose and cb - ca > 0.008):
                    out.setdefault("long_iterations", []).append(
                        {"phase": name, "at_s": round(a - T0, 2), "ms": round((b - a) * 1000, 1),
                         "cpu_ms": round((cb - ca) * 1000, 1), "gl_ms": round(gl_ms, 1),
                         "ui": sampler.during(a, b) if sampler else [],
                         "steps": [(what, round((t - a) * 1000, 1), None if c is None else round((c - ca) * 1000, 1))
                                   for t, c, what in marks if prev <= t <= b]})
            ph["frame"] += [b - a for a, b in zip(flips, flips[1:])]
            ph["loop"] += [b - a for a, b in zip(ticks, ticks[1:])]
            ph["loop_cpu"] += [b - a for a, b in zip(cpu_ticks, cpu_ticks[1:])]
            # what the iteration would take on two idle cores: the UI thread's CPU, plus the
            # renderer's CPU shared by its threads (it renders while the UI thread waits in glFinish)
            # A collection on another thread holds the GIL: its CPU counts too (an upper bound: the
            # UI thread may have been waiting in glFinish meanwhile, without the GIL).
            held = [(at, c) for g, took, who, at, c, on_ui in gc_runs if not on_ui and c > 0.001]
            ph["loop_est"] += [(cb - ca) + (gb - ga) / max(1, len(renderer))
                               + sum(c for at, c in held if a < at <= b)
                               for a, b, ca, cb, ga, gb in zip(ticks, ticks[1:], cpu_ticks, cpu_ticks[1:],
                                                               gl_ticks, gl_ticks[1:])]
            ph["seconds"] += seconds
            ph["frames"] += len(flips)
            for k, v in cpu_delta(cpu_before, thread_cpu()).items():
                ph["cpu"][k] = round(ph["cpu"].get(k, 0.0) + v, 2)
            flips.clear()
            ticks.clear()
            cpu_ticks.clear()
            gl_ticks.clear()
            marks.clear()

        def figures(prefix: str, ph: dict) -> None:
            from bench.common import percentile
            out[prefix + "frames"] = ph["frames"]
            out[prefix + "fps_mean"] = ph["frames"] / ph["seconds"]
            out[prefix + "frame_p99_ms"] = percentile(ph["frame"], 99) * 1000
            out[prefix + "frame_max_ms"] = max(ph["frame"]) * 1000
            out[prefix + "loop_max_ms"] = max(ph["loop"]) * 1000
            out[prefix + "loop_p99_ms"] = percentile(ph["loop"], 99) * 1000
            out[prefix + "stalls_over_50ms"] = sum(g > 0.050 for g in ph["loop"])
            # the UI thread's own CPU in its longest iteration: what the kiosk's code costs at
            # once, whatever the neighbours' load (waiting for the renderer or the CPU is not in it)
            out[prefix + "loop_cpu_max_ms"] = max(ph["loop_cpu"]) * 1000
            out[prefix + "loop_est_max_ms"] = max(ph["loop_est"]) * 1000
            out[prefix + "loop_est_over_50ms"] = sum(g > 0.050 for g in ph["loop_est"])
            drawing = sum(v for k, v in ph["cpu"].items() if k == "MainThread" or k.startswith("llvmpipe"))
            out[prefix + "cpu_per_frame_ms"] = drawing / max(1, ph["frames"]) * 1000
            out[prefix + "cpu"] = ph["cpu"]

        def server_cpu() -> float:
            import psutil
            try:
                t = psutil.Process(server.proc.pid).cpu_times()
                return t.user + t.system + t.children_user + t.children_system
            except Exception:  # noqa: BLE001
                return 0.0

        def anchor_done(dt):     # the same screen, camera and scans, no sync: what drawing costs here
            close_phase("idle", time.monotonic() - state["t_idle"], state["cpu_idle"])
            state["on"] = False
            state["cpu_sync"], state["server_cpu"] = thread_cpu(), server_cpu()
            services.start_sync_agent()   # as the app starts it
            services.sync_agent.trigger()
            Clock.schedule_interval(watch, 0.1)

        def second_anchor_done(dt):   # the anchor again after the sync: the machine's load drifts
            close_phase("idle", time.monotonic() - state["t_idle"], state["cpu_idle"])
            figures("idle_", phases["idle"])
            figures("", phases["sync"])
            out["gc"] = {f"gen{g}": [sum(1 for r in gc_runs if r[0] == g),
                                     round(max([r[1] for r in gc_runs if r[0] == g] or [0]) * 1000, 1)]
                         for g in (0, 1, 2)}
            out["gc_full"] = [(round(at - T0, 2), round(took * 1000, 1), round(c * 1000, 1), who)
                              for g, took, who, at, c, _ in gc_runs if g == 2]
            if sampler:
                sampler.stop()
            # Then the kiosk as it runs at a station between scans, no redraw asked for: the home
            # screen with the camera preview (15 fps, shown, not decoded). How often it draws and
            # what that costs is the load the kiosk puts on its own machine.
            state["calm"] = True
            app.camera.play(ReplaySource(folder / "badges", fps=15, hold_seconds=1.0, loop=True, blank_frames=8),
                            decode=False)
            app.go_home()
            Clock.schedule_once(calm_start, 1.0)

        def calm_start(dt):
            app.go_home()
            state["calm_t"], state["calm_cpu"], state["calm_draws"] = time.monotonic(), thread_cpu(), 0
            Clock.schedule_once(calm_done, 5.0)

        def calm_done(dt):
            seconds = time.monotonic() - state["calm_t"]
            cpu = cpu_delta(state["calm_cpu"], thread_cpu())
            drawing = sum(v for k, v in cpu.items() if k == "MainThread" or k.startswith("llvmpipe"))
            out["calm_draws_per_s"] = state["calm_draws"] / seconds
            out["calm_cpu_per_s"] = drawing / seconds
            out["calm_screen"] = app.sm.current
            print(json.dumps(out), flush=True)
            app.allow_quit = True
            app.stop()

        def watch(dt):
            status = services.sync_agent.status()
            if not state.get("t0"):
                if status.get("running"):
                    state["on"], state["t0"] = True, time.monotonic()
                return None
            if status.get("running"):      # the first round: the whole backlog and the scans made meanwhile
                return None
            out["sync_s"] = time.monotonic() - state["t0"]
            close_phase("sync", out["sync_s"], state["cpu_sync"])
            out["pending_end"], out["ok"] = status.get("pending"), status.get("ok")
            out["scans_decided"] = services.scans_decided
            sync_cpu = phases["sync"]["cpu"].get("weiguang-sync", 0.0)
            out["sync_thread_us_per_event"] = sync_cpu / max(1, backlog) * 1e6
            out["server_cpu_s"] = round(server_cpu() - state["server_cpu"], 2)
            if sampler:
                out["ui_stacks"] = sampler.main_stacks.most_common(8)
                out["other_stacks"] = sampler.other_stacks.most_common(6)
            services.sync_agent.stop(5)
            state["t_idle"], state["cpu_idle"] = time.monotonic(), thread_cpu()
            Clock.schedule_once(second_anchor_done, 8.0)
            return False

        def start(dt):
            from kivy.core.window import Window
            Window.bind(on_flip=flipped)
            for tid in os.listdir("/proc/self/task"):     # the renderer's threads exist after the first frames
                try:
                    with open(f"/proc/self/task/{tid}/comm") as f:
                        if f.read().startswith("llvmpipe"):
                            renderer.append(tid)
                except OSError:
                    pass
            out["renderer_threads"] = len(renderer)
            if verbose:
                Window.bind(on_draw=lambda *a: mark("draw"))
                app.sm.bind(current=lambda sm, name: mark("screen " + name))
                app.sm.transition.bind(on_progress=lambda tr, p: mark(f"fade {p:.2f}"))
            decide = services.on_decision

            def decided(result):         # the next scan of the same badge is three minutes on
                if state.get("calm"):    # a decision still on its way: the calm phase stays home
                    return
                clock.advance(180)
                mark("decision")
                decide(result)
                mark("decision shown")
            services.on_decision = decided
            app.camera.play(ReplaySource(folder / "badges", fps=15, hold_seconds=1.0, loop=True, blank_frames=8))
            Clock.schedule_interval(tick, 0)
            state["on"], state["t_idle"], state["cpu_idle"] = True, time.monotonic(), thread_cpu()
            if sampler:
                sampler.on = True
            Clock.schedule_once(anchor_done, 8.0)
        Clock.schedule_once(start, 1.0)   # after the first frames (window, shaders, fonts)
        app.run()
    finally:
        server.stop()


def memory_setup(folder: str, server_url: str = "", code: str = "") -> None:
    """In its own process (the measured kiosk must not hold what only the bench needs: badge
    signing, QR drawing, the video writer): a sample kiosk, its badges as a recorded camera
    video, enrolled with the server when one is given."""
    from kiosk.ui.sample import make_kiosk
    path = Path(folder)
    store, _ = make_kiosk(path)
    record_video(path / "badges", path / "camera.avi")
    record_blank(path / "blank.avi")
    if server_url:
        from sync.client import enroll
        enroll(store, server_url, code)


def child_memory(scans: int, standalone: bool = False) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["WEIGUANG_NO_SOUND"] = "1"
    folder = Path(tempfile.mkdtemp(prefix="wg-bench-mem-"))
    server = None
    setup_started = time.monotonic()
    if not standalone:   # as at a station: enrolled, the sync agent pushing the scans as they come
        from kiosk.demo import LocalServer
        server = LocalServer(folder / "server", nice=10).init().start()
        url, code = server.url, server.code("WBY")
    else:
        url = code = ""
    subprocess.run([sys.executable, "-c", "import sys; from bench.bench_ui import memory_setup; memory_setup(*sys.argv[1:])",
                    str(folder), url, code], check=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    video = folder / "camera.avi"
    server_setup_s = time.monotonic() - setup_started    # no part of a kiosk's start
    from kiosk.app import configure_kivy
    configure_kivy(size=(1280, 800))
    from kivy.clock import Clock
    from kiosk.app import build_services, make_app_class
    from kiosk.ui.sample import FakeClock
    clock = FakeClock()
    services = build_services(str(folder / "kiosk.db"), clock=clock)   # as `weiguang kiosk run` builds them
    store = services.store
    assert (services.sync_agent is not None) == (server is not None)
    app = make_app_class()(services, start_camera=False, sounds=False)
    out = {"enrolled": server is not None}

    import types
    from kiosk.heap import TRIM_SECONDS
    samples = types.SimpleNamespace(values=[], stop=threading.Event())

    def sample_memory():
        while not samples.stop.wait(1.0):
            m = memory_mb()
            samples.values.append((m["rss"], m["uss"]))
    sampler = threading.Thread(target=sample_memory, name="bench-memory", daemon=True)

    def idle_done(dt):
        out["idle"] = memory_mb()
        out["idle_mesa_private"] = sum(p for _, _, p in mappings(50, like=r"LLVM|swrast|gallium|dri\.so"))
        out["idle_decided"] = services.scans_decided - out["decided"]    # nothing was shown meanwhile
        print(json.dumps(out), flush=True)
        app.allow_quit = True
        app.stop()

    def start(dt):
        first = app.first_frame_at or time.monotonic()
        out["cold_start_s"] = first - T0 - server_setup_s
        out["before"] = memory_mb()
        decide = services.on_decision
        state = {"n": 0}

        def decided(result):        # UI thread: a decision shown; the same badge may come again
            clock.advance(180)
            services._seen.clear()
            state["n"] += 1
            if state["n"] == min(500, scans // 2):
                out["at_500"] = memory_mb()
                sampler.start()
            if state["n"] == scans:
                services.wait_idle(30)
                if server is not None:
                    # The server maps the same libraries (pydantic, cryptography) from the same
                    # venv: while it runs their pages are shared and missing from our USS. A
                    # kiosk has no server beside it.
                    out["uss_with_server"] = memory_mb()["uss"]
                    out["sync"] = {k: services.sync_agent.status().get(k) for k in ("ok", "pending", "last_success")}
                    services.sync_agent.stop(5)
                    server.stop()
                out["end"] = memory_mb()
                samples.stop.set()
                if samples.values:    # once a second from scan 500 on, through the kiosk's heap trims
                    rss = sorted(r for r, _ in samples.values)
                    uss = sorted(u for _, u in samples.values)
                    out["busy"] = {"samples": len(rss), "rss_max": rss[-1], "rss_median": rss[len(rss) // 2],
                                   "uss_max": uss[-1], "uss_median": uss[len(uss) // 2]}
                out["decided"] = services.scans_decided
                out["camera_frames"] = app.camera._camera.frames_read if app.camera._camera else 0
                out["maps"] = mappings()
                # Mesa's software GL (libLLVM, swrast: ≈ 60 MB RSS) counts in USS only for the
                # pages no other process on the machine maps at that moment: a figure that moves
                # with the neighbours. What the kiosk holds besides is the stable figure.
                out["mesa_private"] = sum(p for _, _, p in mappings(50, like=r"LLVM|swrast|gallium|dri\.so"))
                out["anon_regions"] = anon_regions()
                out["copies"] = mappings(20, like=r"crypto|ssl|openblas|_rust|LLVM|gallium|dri|GLX|mesa")
                out["packages"] = sorted({m.split(".")[0] for m, mod in sys.modules.items()
                                          if mod is not None and not m.startswith("_")})
                out["threads"] = [t.name for t in threading.enumerate()]
                out["os_threads"] = len(os.listdir("/proc/self/task"))
                out["os_thread_names"] = sorted(open(f"/proc/self/task/{t}/comm").read().strip()
                                                for t in os.listdir("/proc/self/task"))
                import tracemalloc
                if tracemalloc.is_tracing():      # PYTHONTRACEMALLOC=1: what Python itself holds
                    snap = tracemalloc.take_snapshot()
                    out["python_mb"] = sum(st.size for st in snap.statistics("filename")) / 2**20
                    out["python_top"] = [(str(st.traceback), round(st.size / 2**20, 2))
                                         for st in snap.statistics("filename")[:12]]
                out["seconds"] = time.monotonic() - state["t0"]
                # Then the counter empties: the camera sees no badge, the kiosk waits for the
                # next person, as it does most of a day; its heap trim (kiosk/heap.py) comes round.
                app.camera.start(video=str(folder / "blank.avi"), loop=True)
                Clock.schedule_once(idle_done, TRIM_SECONDS + 2)
            decide(result)
        services.on_decision = decided
        state["t0"] = time.monotonic()
        if not app.camera.start(video=str(video), loop=True):
            print(json.dumps({"error": "the recorded camera did not open"}), flush=True)
            app.allow_quit = True
            app.stop()
            return
        app.camera._min_gap = 0      # decode every frame the camera gives (60 a second): 3,000 scans sooner

    Clock.schedule_once(start, 0.5)
    try:
        app.run()
    except BaseException as exc:   # Kivy hides stderr (KIVY_NO_CONSOLELOG): say it on stdout, where the parent looks
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}", "scans_done": state_n(services),
                          "traceback": traceback.format_exc()[-4000:]}), flush=True)
        raise
    finally:
        if app.camera is not None:
            app.camera.stop()
        if server is not None:
            server.stop()
        import shutil
        shutil.rmtree(folder, ignore_errors=True)   # the kiosk, its badges, the video, the server's data


def state_n(services) -> int:
    return getattr(services, "scans_decided", 0)


def run_child(*args: str) -> dict | None:
    env = dict(os.environ, KIVY_NO_CONSOLELOG="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        err = proc.stderr
        start = err.rfind("Traceback (most recent call last)")
        print(f"child {args[:2]} exited with {proc.returncode} and no figures:",
              err[start:][-3000:] if start >= 0 else err[-3000:])
        return None
    answer = json.loads(lines[-1])
    if "error" in answer:
        print(f"child {args[:2]} failed: {answer['error']} (after {answer.get('scans_done')} scans)\n"
              f"{answer.get('traceback', '')}")
    return answer


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--scans", type=int, default=3000)
    p.add_argument("--events", type=int, default=10000)
    p.add_argument("--latency", type=float, default=0.5, help="seconds added to each sync request")
    p.add_argument("--child", choices=["memory", "stall"])
    p.add_argument("--only", choices=["memory", "stall"])
    p.add_argument("--standalone", action="store_true", help="memory: a kiosk not enrolled (no sync agent, no HTTP)")
    p.add_argument("--verbose", action="store_true", help="print the stall sampler's stacks and the maps")
    p.add_argument("--late", type=float, default=0.030, help="stall: the sampler keeps the UI thread's stack "
                   "once it is this many seconds late")
    args = p.parse_args()
    if args.child == "memory":
        child_memory(args.scans, args.standalone)
        return 0
    if args.child == "stall":
        child_stall(args.events, args.latency, args.verbose, args.late)
        return 0
    sys.path.insert(0, str(ROOT))
    from bench.common import print_table
    load = os.getloadavg()
    r = f = None
    if args.only != "stall":
        r = run_child("--child", "memory", "--scans", str(args.scans), *(["--standalone"] if args.standalone else []))
    if args.only != "memory":
        f = run_child("--child", "stall", "--events", str(args.events), "--latency", str(args.latency),
                      *(["--verbose", "--late", str(args.late)] if args.verbose else []))
    rows = []
    if r and "end" in r:
        rows += [("kiosk cold start to first frame (s)", r["cold_start_s"], "goal", 3.0, "≤ 3 s"),
                 ("RSS before the first scan (MB)", r["before"]["rss"], "goal", 200.0, "≤ 200 MB"),
                 (f"RSS after {r['decided']:,} camera scans (MB)", r["end"]["rss"], "goal", 200.0, "≤ 200 MB"),
                 (f"USS after {r['decided']:,} camera scans (MB)", r["end"]["uss"], "goal", 110.0, "≤ 110 MB"),
                 (f"RSS growth from scan {min(500, args.scans // 2)} (MB)", r["end"]["rss"] - r["at_500"]["rss"], "goal", 10.0, "≤ 10 MB")]
        if "busy" in r:
            rows += [("  RSS while scanning, highest of one a second from scan 500 (MB)", r["busy"]["rss_max"], "goal",
                      200.0, "≤ 200 MB")]
        if "idle" in r:
            rows += [("RSS when the counter is empty again, after the heap trim (MB)", r["idle"]["rss"], "goal", 200.0,
                      "≤ 200 MB"),
                     ("USS when the counter is empty again (MB)", r["idle"]["uss"], "goal", 110.0, "≤ 110 MB"),
                     ("  its USS without Mesa's share (MB)", r["idle"]["uss"] - r["idle_mesa_private"], "goal", 110.0,
                      "≤ 110 MB")]
    if f and "sync_s" in f:
        rows += [(f"longest main-loop stall, {f['backlog']:,} events syncing (ms)", f["loop_max_ms"], "goal", 50.0,
                  "≤ 50 ms"),
                 ("  the same, no sync (anchor, ms)", f["idle_loop_max_ms"], "goal", 50.0, "≤ 50 ms"),
                 ("  syncing / not syncing", f["loop_max_ms"], "no sync", f["idle_loop_max_ms"], ""),
                 ("UI thread's own CPU in its longest iteration, syncing (ms)", f["loop_cpu_max_ms"], "no sync",
                  f["idle_loop_cpu_max_ms"], "load-proof"),
                 (f"longest iteration on 2 idle cores: UI CPU + renderer CPU / {f['renderer_threads']}"
                  " + collections (ms)",
                  f["loop_est_max_ms"], "no sync", f["idle_loop_est_max_ms"], "estimate"),
                 ("p99 drawn-frame interval during the sync (ms)", f["frame_p99_ms"], "goal", 33.0, "≤ 33 ms"),
                 ("  the same, no sync (anchor, ms)", f["idle_frame_p99_ms"], "goal", 33.0, "≤ 33 ms"),
                 ("  syncing / not syncing", f["frame_p99_ms"], "no sync", f["idle_frame_p99_ms"], ""),
                 ("drawn frames per second during the sync", f["fps_mean"], "no sync", f["idle_fps_mean"], "≥ 30"),
                 ("CPU per drawn frame, UI + renderer threads (ms)", f["cpu_per_frame_ms"], "no sync",
                  f["idle_cpu_per_frame_ms"], ""),
                 ("kiosk sync thread CPU per event (µs)", f["sync_thread_us_per_event"], "server CPU per event",
                  f["server_cpu_s"] / f["backlog"] * 1e6, ""),
                 ("seconds the sync lasted", f["sync_s"], "goal", 20.0, "≥ 20 s")]
    if f and "calm_draws_per_s" in f:
        rows += [(f"left alone on the {f['calm_screen']} screen, 15 fps preview: frames drawn per second", f["calm_draws_per_s"],
                  "preview fps", 15.0, ""),
                 ("  its UI + renderer CPU (s per s)", f["calm_cpu_per_s"], "forced redraw, no sync",
                  f["idle_cpu_per_frame_ms"] * f["idle_fps_mean"] / 1000, "")]
    print_table(f"Kiosk UI and memory (load average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f})", rows)
    if r and "end" in r:
        print(f"\n(memory: {r['decided']:,} decisions from {r['camera_frames']:,} camera frames in "
              f"{r['seconds']:.0f} s, {'enrolled, syncing: ' + str(r.get('sync')) if r.get('enrolled') else 'standalone'};"
              f" USS while the server ran beside it {r.get('uss_with_server', 0):.1f} MB;"
              f" at scan {min(500, args.scans // 2)} RSS {r['at_500']['rss']:.1f} MB, USS {r['at_500']['uss']:.1f} MB;"
              f" of the final USS, Mesa's libLLVM and swrast {r.get('mesa_private', 0):.1f} MB (less when other"
              f" processes map them too), the rest {r['end']['uss'] - r.get('mesa_private', 0):.1f} MB)")
    elif r:
        print("memory run failed:", r.get("error", r))
    if f and "sync_s" in f:
        print(f"(sync: ok={f['ok']} pending at the end={f['pending_end']}, {f['scans_decided']} scans decided during it, "
              f"{f['stalls_over_50ms']} loop iterations over 50 ms, request latency {f['latency_s']} s)")
    if f and "cpu" in f:
        if "gc" in f:
            print(f"(garbage collections [count, longest ms] by generation, any thread: {f['gc']}; the full ones "
                  f"[s after start, ms, CPU ms, thread]: {f.get('gc_full')})")
        print(f"(kiosk CPU s by thread, {f['sync_s']:.0f} s of sync: {f['cpu']}; the server process: "
              f"{f['server_cpu_s']} s; 16 s without sync (8 before, 8 after): {f['idle_cpu']})")
    if args.verbose:
        if r and "packages" in r:
            print("\npackages imported:", " ".join(r["packages"]))
            print(f"threads: {r['os_threads']} ({', '.join(r['threads'])}; {', '.join(r['os_thread_names'])})")
        if r and "python_top" in r:
            print(f"\nPython allocations {r['python_mb']:.1f} MB:", *r["python_top"], sep="\n  ")
        if r and "anon_regions" in r:
            print("\nlargest anonymous regions (size MB, RSS MB):", r["anon_regions"])
        if r and "copies" in r:
            print("\ncrypto, BLAS and GL libraries mapped (file, RSS MB, private MB):", *r["copies"], sep="\n   ")
        if r and "maps" in r:
            print("\nlargest mappings (file, RSS MB, private MB):")
            for row in r["maps"]:
                print("  ", row)
        if f and "ui_stacks" in f:
            print("\nUI thread while late:")
            for stack, n in f["ui_stacks"]:
                print(f"  {n:4d} {stack}")
            print("other threads meanwhile:")
            for stack, n in f["other_stacks"]:
                print(f"  {n:4d} {stack}")
        its = (f or {}).get("long_iterations", [])
        longest = sorted(its, key=lambda it: -it["ms"])[:6]
        busiest = [it for it in sorted(its, key=lambda it: -it["cpu_ms"])[:6] if it not in longest]
        for it in longest + busiest if args.verbose else []:
            print(f"\nloop iteration of {it['ms']} ms, {it['cpu_ms']} ms of it on the UI thread's CPU, "
                  f"{it['gl_ms']} ms of the renderer's "
                  f"({it['phase']}, {it['at_s']} s after start); the UI thread's stacks:")
            for stack, n in it["ui"]:
                print(f"  {n:4d} {stack}")
            print("  steps (ms from its start, wall / UI thread CPU):", ", ".join(f"{w} {t}/{'-' if c is None else c}" for w, t, c in it["steps"]))
    return 0 if r is not None or f is not None else 1


if __name__ == "__main__":
    sys.exit(main())
