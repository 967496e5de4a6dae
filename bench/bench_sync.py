"""Benchmark: sync over loopback against a real `weiguang server run` process.

Run:  python bench/bench_sync.py [--quick] [--postgres] [--workers 1,2,4] [--batch 200] [--only-steady] [--uuid4-sessions]

1. backlog  One kiosk (a real kiosk store, the real SyncAgent) pushes a 10,000-event backlog.
            Anchor, same run: the same rows inserted straight into the server's database
            (one transaction per batch, as a push has); the ratio is what HTTP, validation
            and the sessions bookkeeping cost.
2. steady   200 simulated kiosks push batches of the sync agent's size (200 events) and pull,
            back to back, for 60 s, from a lean load generator (bench/loadgen.py: one process,
            one asyncio loop, raw HTTP/1.1 keep-alive, no pydantic): events/s; the server's
            own CPU per event (from /proc/PID/stat of the server and its workers, before and
            after), the load generator's apart, PostgreSQL's apart; p99 request latency,
            errors (goal 0), lost (goal 0: every acknowledged event counted on the server).
            `--workers 1,2,4` repeats it on PostgreSQL with that many server workers, beside
            SQLite's single writer.
3. herd     2,000 kiosks reconnect at once after an outage, 500 events each, with the agent's
            own retry policy (tenacity, full jitter; a failed round waits full_jitter(n, 30 s)):
            time until the server holds every event, the slowest kiosk's wait, the latest first
            acknowledgement (a starved kiosk shows there), ingest events/s.

Goals (DESIGN.md scale, issue 12): >= 5,000 events/s ingested on SQLite, <= 70 us of server CPU
per event at the agent's batch size; the herd drained in <= 5 min
with no kiosk starved. `--postgres` runs the same against a throwaway PostgreSQL cluster
(fsync on, as SQLite's synchronous=FULL) and prints its column beside. `--quick` is a short
run. Loopback only; every loop is bounded by a count or a deadline. Client and server share
this machine's cores, so the figures are a floor for the server.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import uuid6  # noqa: E402

from sync.client import MAX_BACKOFF, Api, SyncAgent, SyncError, enroll, full_jitter  # noqa: E402

GOAL_EVENTS_PER_S = 5000
GOAL_SERVER_US = 70          # server CPU per event at the agent's batch size (issue 12)
PROFILE = ""                 # --profile OUT: the server runs under yappi, its profile saved to OUT
AGENT_BATCH = 200            # sync.client.SyncAgent's default batch_size
GOAL_DRAIN_S = 300
GIVE_UP_S = 420              # the herd's bound: past it the kiosks stop (and the table says FAIL)
MAX_SERVER_RSS = 4 * 2**30   # past it the herd is aborted: the bench must not take the machine down
ROUND_INTERVAL = 30          # the agent's default interval: the backoff base between failed rounds

FULL = dict(backlog=10_000, steady_kiosks=200, steady_seconds=60, herd_kiosks=2000, herd_events=500)
QUICK = dict(backlog=2_000, steady_kiosks=20, steady_seconds=10, herd_kiosks=200, herd_events=100)


def wire_events(device_id: str, first_seq: int, n: int) -> list[dict]:
    """n check-in events as a kiosk sends them."""
    now = time.time()
    stamp = datetime.fromtimestamp(now, timezone.utc).isoformat()
    return [{"id": str(uuid6.uuid7()), "device_id": device_id, "seq": seq, "type": "checkin",
             "device_time": stamp, "clock_offset_ms": 0,
             "payload": {"session_id": str(uuid6.uuid7()), "vid": f"B{device_id[-6:]}{seq:06d}", "serial": seq,
                         "at": int(now)}}
            for seq in range(first_seq, first_seq + n)]


# --- the server under test ----------------------------------------------------------------

class Server:
    """`weiguang server init` + `weiguang server run` in a temp dir; the bench process opens
    the same database to enrol devices and to count what arrived."""

    def __init__(self, root: Path, database_url: str | None = None, workers: int = 1):
        self.data = root / "center"
        self.database_url, self.workers = database_url, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        self.env["PYTHONPATH"] = str(ROOT)
        if database_url:
            self.env["DATABASE_URL"] = database_url

    def __enter__(self) -> "Server":
        cli = [sys.executable, "-m", "kiosk.cli", "server"]
        subprocess.run([*cli, "init", "--data", str(self.data), "--admin-password", "bench-admin"],
                       check=True, capture_output=True, env=self.env, timeout=120)
        self.log = open(self.data / "server.log", "ab")
        run = [*cli, "run", "--data", str(self.data), "--port", str(self.port), "--workers", str(self.workers)]
        if PROFILE:   # the same server under yappi (tools/profile_server.py)
            run = [sys.executable, str(ROOT / "tools" / "profile_server.py"), "--data", str(self.data),
                   "--port", str(self.port), "--out", PROFILE]
        self.process = subprocess.Popen(run,
                                        stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.time() + 60
        while True:
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).ok:
                    break
            except requests.RequestException:
                if time.time() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"the server did not start; see {self.data / 'server.log'}")
                time.sleep(0.2)
        from sync.server.db import open_database
        from sync.server.settings import ServerSettings
        open_database(ServerSettings(data_dir=self.data, database_url=self.database_url))
        return self

    def __exit__(self, *exc) -> None:
        from sync.server.db import close_database
        close_database()
        self.process.terminate()
        try:
            self.process.wait(120 if PROFILE else 20)   # a profile takes a while to write
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def cpu(self) -> float:
        """CPU seconds (user + system) used so far by the server: its process and every
        worker process under it."""
        return tree_cpu(self.process.pid)

    def rss(self) -> int:
        """The server process's resident memory, bytes (0 once it is gone)."""
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                line = next(line for line in status if line.startswith("VmRSS:"))
            return int(line.split()[1]) * 1024
        except (OSError, StopIteration):
            return 0

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)

    def devices(self, n: int, station: str = "bench-station") -> list[tuple[str, str]]:
        """n enrolled devices: (device_id, token), through the enrolment service."""
        from sync.server.services import changes, devices
        changes.upsert_station(station, station)
        out = []
        for _ in range(n):
            answer = devices.enroll(devices.make_enroll_code(station), device_id=f"bench-{uuid.uuid4()}")
            out.append((answer.device_id, answer.token))
        return out

    def count(self, device_ids: list[str]) -> int:
        from sync.server.db import reading
        from sync.server.models import StoredEvent
        total = 0
        with reading():
            for start in range(0, len(device_ids), 500):
                chunk = device_ids[start:start + 500]
                total += StoredEvent.select().where(StoredEvent.device_id.in_(chunk)).count()
        return total

    def raw_insert(self, events: list[dict], batch: int) -> tuple[float, float]:
        """Rows/s (wall clock) of inserting these events straight into the server's events
        table, one transaction per `batch` rows (as one push), and the CPU microseconds per
        row it took this process (peewee and SQLite's own work; PostgreSQL's is not in it);
        the rows are deleted afterwards."""
        from peewee import chunked
        from sync.server.db import writing
        from sync.server.models import StoredEvent
        now = int(time.time())
        rows = [dict(id=str(uuid6.uuid7()), device_id="bench-raw", station="bench-station", seq=e["seq"],
                     type=e["type"], device_time=e["device_time"], clock_offset_ms=0,
                     payload=json.dumps(e["payload"], ensure_ascii=False), received_at=now) for e in events]
        started, cpu = time.perf_counter(), time.process_time()
        for batch_rows in chunked(rows, batch):
            with writing():
                StoredEvent.insert_many(batch_rows).execute()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        with writing():
            StoredEvent.delete().where(StoredEvent.device_id == "bench-raw").execute()
        return len(rows) / elapsed


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float]:
    """(parent pid, user + system CPU seconds) of a live process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def tree_cpu(root: int) -> float:
    """CPU seconds used by process `root` and its live descendants (read from /proc, so
    the load generator's own time is never in it)."""
    parents, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)], cpu[int(entry)] = _stat(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(cpu.get(pid, 0.0) for pid in tree)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_cluster(root: Path):
    """A throwaway cluster (tests/conftest.py's PostgresCluster), fsync on; returns (url, stop)."""
    from tests.conftest import PostgresCluster, _pg_bin
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise SystemExit("--postgres: initdb/pg_ctl not found")
    pg_root = root / "pg"
    pg_root.mkdir()
    as_user = []
    if os.geteuid() == 0:                       # initdb refuses root
        shutil.chown(pg_root, "postgres", "postgres")
        os.chmod(root, 0o755)
        as_user = ["runuser", "-u", "postgres", "--"]
    cluster = PostgresCluster(pg_root, free_port(), as_user)
    cluster.run(initdb, "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
    options = f"-h 127.0.0.1 -p {cluster.port} -k {pg_root} -c max_connections=300"
    cluster.run(pg_ctl, "-D", str(cluster.data), "-o", options, "-l", str(pg_root / "log"), "-w", "start")
    cluster.execute("CREATE DATABASE bench")

    def stop():
        subprocess.run([*as_user, pg_ctl, "-D", str(cluster.data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
    stop.postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    return cluster.url("bench"), stop


# --- 1. one kiosk's backlog -------------------------------------------------------------

def bench_backlog(server: Server, root: Path, n: int) -> dict:
    from kiosk.store import OutboxEvent, db, open_store
    from sync.server.services.changes import upsert_station
    from sync.server.services.devices import make_enroll_code
    upsert_station("bench-station", "bench-station")
    store = open_store(root / f"kiosk-{uuid.uuid4().hex[:6]}.db")
    enroll(store, server.url, make_enroll_code("bench-station"))
    device_id = store.sync_state()["device_id"]
    events = wire_events(device_id, 1, n)
    with db.atomic():                          # the backlog, as n scans would have left it
        for start in range(0, n, 500):
            OutboxEvent.insert_many([dict(id=e["id"], seq=e["seq"], type=e["type"], device_time=e["device_time"],
                                          payload=json.dumps(e["payload"])) for e in events[start:start + 500]]
                                    ).execute()
    agent = SyncAgent(store)
    started = time.perf_counter()
    status = agent.sync_once()
    elapsed = time.perf_counter() - started
    db.close()
    raw, raw_cpu = server.raw_insert(events, agent.batch_size)
    stored = server.count([device_id])
    return {"push_eps": n / elapsed, "raw_eps": raw, "raw_cpu_us": raw_cpu, "ok": status["ok"], "lost": n - stored,
            "seconds": elapsed}


# --- 2 and 3. many simulated kiosks ----------------------------------------------------------

@dataclass
class Tally:
    acked: int = 0
    refused: int = 0
    errors: int = 0
    first_ack: float | None = None
    done: float | None = None
    latencies: list[float] = field(default_factory=list)


def herd_kiosk(api: Api, device_id: str, params: dict, stop) -> Tally:
    """A kiosk back after the outage with its backlog, on the agent's retry policy:
    requests retried by tenacity with full jitter; a failed round waits full_jitter(n, 30 s)."""
    tally, t0 = Tally(), params["t0"].value
    backlog, batch, seq, failed_rounds = params["events"], 200, 1, 0
    while seq <= backlog and not stop.is_set():
        events = wire_events(device_id, seq, min(batch, backlog - seq + 1))
        try:
            answer = api.push(events)
        except SyncError:
            failed_rounds += 1
            stop.wait(full_jitter(failed_rounds, ROUND_INTERVAL, MAX_BACKOFF))
            continue
        tally.first_ack = tally.first_ack or time.time() - t0
        tally.acked += sum(r.status != "refused" for r in answer.results)
        tally.refused += sum(r.status == "refused" for r in answer.results)
        seq += len(events)
    tally.errors = api.failures
    tally.done = time.time() - t0 if seq > backlog else None
    return tally


KIOSKS = {"herd": (herd_kiosk, {})}


def _worker(kind: str, url: str, devices: list, params: dict, ready, go, stop, results) -> None:
    """One process of simulated kiosks. Its threads wait on thread-local events, relayed by
    this process's main thread from two shared flags it polls (multiprocessing.Event's
    condition variable deadlocked here under a timed wait racing a set)."""
    out: list[Tally] = [Tally() for _ in devices]
    work, api_options = KIOSKS[kind]
    local_go, local_stop = threading.Event(), threading.Event()

    def run(i: int) -> None:
        device_id, token = devices[i]
        api = Api(url, token, **api_options)
        local_go.wait()
        try:
            out[i] = work(api, device_id, params, local_stop)
        except Exception as exc:  # noqa: BLE001 - a crashed simulated kiosk is an error, not a hang
            out[i].errors += 1
            print(f"kiosk crashed: {exc!r}", file=sys.stderr)
    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(devices))]
    for thread in threads:
        thread.start()
    ready.put(len(threads))
    while not go.value:
        time.sleep(0.01)
    local_go.set()
    while any(thread.is_alive() for thread in threads) and not stop.value:
        time.sleep(0.2)
    local_stop.set()
    deadline = time.time() + 60                # a kiosk still busy after that counts as not done
    for thread in threads:
        thread.join(max(0.0, deadline - time.time()))
    results.put([t.__dict__ for t in out])


def run_kiosks(kind: str, server: Server, devices: list, params: dict, processes: int,
               seconds: float) -> tuple[list[Tally], float, float, str | None, int]:
    """Every kiosk on its own thread, spread over `processes`, released at once, stopped
    after `seconds`, or at once (the server killed) when its memory passes MAX_SERVER_RSS.
    Also returns the server's peak RSS (bytes, sampled every second)."""
    ctx = mp.get_context("fork")
    ready, results = ctx.Queue(), ctx.Queue()
    go, stop = ctx.RawValue("b", 0), ctx.RawValue("b", 0)
    params = {**params, "t0": ctx.RawValue("d", 0.0)}
    shares = [devices[i::processes] for i in range(processes) if devices[i::processes]]
    workers = [ctx.Process(target=_worker, args=(kind, server.url, share, params, ready, go, stop, results))
               for share in shares]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=300)
    t0 = params["t0"].value = time.time()
    go.value = 1
    tallies, aborted, stopped, peak = [], None, float("inf"), server.rss()
    while len(tallies) < len(devices):
        try:
            tallies += [Tally(**t) for t in results.get(timeout=1)]
            continue
        except queue.Empty:
            pass
        if stop.value:
            continue
        rss = server.rss()
        peak = max(peak, rss)
        if rss > MAX_SERVER_RSS:
            aborted = f"server RSS {rss / 2**30:.1f} GiB at {time.time() - t0:.0f} s: killed"
            server.kill()
            stop.value, stopped = 1, time.time() - t0
        elif time.time() - t0 > seconds:
            stop.value, stopped = 1, time.time() - t0
    for worker in workers:
        worker.join(30)
    return tallies, t0, stopped, aborted, peak


def bench_steady(server: Server, kiosks: int, seconds: float, batch: int, postmaster: int | None = None) -> dict:
    """The lean load generator (bench/loadgen.py: one process, one asyncio loop, raw
    HTTP/1.1) against the server; CPU read from /proc for the server's processes, the
    load generator (this process) and PostgreSQL's, each apart."""
    import asyncio

    from bench import loadgen
    devices = server.devices(kiosks)
    server_cpu0, client_cpu0 = server.cpu(), time.process_time()
    db_cpu0 = tree_cpu(postmaster) if postmaster else 0.0
    tallies, elapsed = asyncio.run(loadgen.steady(server.url, devices, batch, seconds))
    server_cpu, client_cpu = server.cpu() - server_cpu0, time.process_time() - client_cpu0
    db_cpu = tree_cpu(postmaster) - db_cpu0 if postmaster else 0.0
    latencies = sorted(x for t in tallies for x in t.latencies) or [float("nan")]
    acked = sum(t.acked for t in tallies)
    per_event = 1e6 / max(acked, 1)
    statuses: dict[str, int] = {}
    for tally in tallies:
        for status, n in tally.statuses.items():
            statuses[str(status)] = statuses.get(str(status), 0) + n
    return {"eps": acked / elapsed, "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
            "p50_ms": 1000 * statistics.median(latencies), "errors": sum(t.errors for t in tallies),
            "error_statuses": statuses,
            "lost": acked - server.count([d for d, _ in devices]), "requests": len(latencies), "aborted": None,
            "server_us_per_event": server_cpu * per_event, "client_us_per_event": client_cpu * per_event,
            "db_us_per_event": db_cpu * per_event, "server_cpu_share": server_cpu / elapsed / (os.cpu_count() or 1),
            "client_cpu_share": client_cpu / elapsed / (os.cpu_count() or 1), "batch": batch,
            "workers": server.workers, "load": load_average()}


def bench_herd(server: Server, kiosks: int, events: int) -> dict:
    devices = server.devices(kiosks)
    cpu0 = server.cpu()
    tallies, t0, stopped, aborted, peak = run_kiosks("herd", server, devices, {"events": events}, processes=4,
                                               seconds=GIVE_UP_S)
    done = [t.done if t.done is not None else float("inf") for t in tallies]
    server_cpu = server.cpu() - cpu0
    expected, stored = kiosks * events, server.count([d for d, _ in devices])
    end = min(max(done), stopped)
    return {"drained_s": max(done) if stored == expected else float("inf"), "slowest_s": max(done),
            "p50_s": statistics.median(done), "eps": stored / end, "errors": sum(t.errors for t in tallies),
            "last_first_ack_s": max(t.first_ack if t.first_ack is not None else float("inf") for t in tallies),
            "lost": expected - stored, "aborted": aborted, "rss_peak_mb": peak / 2**20,
            "server_us_per_event": server_cpu * 1e6 / max(stored, 1)}


# --- the table ---------------------------------------------------------------------------

def measure(root: Path, sizes: dict, database_url: str | None, batch: int, postmaster: int | None = None,
            stages: tuple[str, ...] = ("backlog", "steady", "herd"), workers: int = 1) -> dict:
    """The benches on one fresh server; each figure also goes to stderr as it comes."""
    every = {
        "backlog": (f"{sizes['backlog']:,} events", lambda s: bench_backlog(s, s.data.parent, sizes["backlog"])),
        "steady": (f"{sizes['steady_kiosks']} kiosks, {sizes['steady_seconds']} s, batch {batch}, {workers} worker(s)",
                   lambda s: bench_steady(s, sizes["steady_kiosks"], sizes["steady_seconds"], batch, postmaster)),
        "herd": (f"{sizes['herd_kiosks']:,} kiosks x {sizes['herd_events']}",
                 lambda s: bench_herd(s, sizes["herd_kiosks"], sizes["herd_events"])),
    }
    figures = {}
    name = ("postgresql" if database_url else "sqlite") + (f"-w{workers}" if workers > 1 else "")
    with Server(root / f"{name}-{uuid.uuid4().hex[:6]}", database_url, workers) as server:
        for stage in stages:
            what, run = every[stage]
            print(f"  {stage} ({what}; load {load_average()})…", file=sys.stderr, flush=True)
            figures[stage] = run(server)
            print(f"    {json.dumps(figures[stage], default=str)}", file=sys.stderr, flush=True)
    return figures


def rows(f: dict, sizes: dict) -> list[tuple[str, str, str, str]]:
    """(figure, measured, anchor/goal, ratio) for one backend."""
    b, s, h = f["backlog"], f["steady"], f["herd"]
    goal = GOAL_EVENTS_PER_S
    raw_us = b["raw_cpu_us"]
    return [
        (f"backlog {sizes['backlog']:,} ev, 1 kiosk: ev/s", f"{b['push_eps']:,.0f}",
         f"raw insert {b['raw_eps']:,.0f}", f"{b['push_eps'] / b['raw_eps']:.2f}x"),
        ("backlog lost", f"{b['lost']}", "goal 0", "ok" if b["lost"] == 0 and b["ok"] else "FAIL"),
        (f"steady {sizes['steady_kiosks']} kiosks, batch {s['batch']}: ev/s", f"{s['eps']:,.0f}",
         f"goal >= {goal:,}", f"{s['eps'] / goal:.2f}x"),
        ("steady server CPU us/event", f"{s['server_us_per_event']:.0f}", f"goal <= {GOAL_SERVER_US}",
         f"{s['server_us_per_event'] / GOAL_SERVER_US:.2f}x"),
        ("steady server CPU us/event vs the bare insert", f"{s['server_us_per_event']:.0f}",
         f"bare insert CPU {raw_us:.0f} us/ev", f"{s['server_us_per_event'] / raw_us:.2f}x"),
        ("steady load generator CPU us/event", f"{s['client_us_per_event']:.0f}",
         f"server {s['server_us_per_event']:.0f}", f"{s['client_us_per_event'] / s['server_us_per_event']:.2f}x"),
        ("steady database CPU us/event (PostgreSQL)", f"{s['db_us_per_event']:.0f}" if s["db_us_per_event"] else "-",
         "in-process (SQLite)" if not s["db_us_per_event"] else f"server {s['server_us_per_event']:.0f}",
         f"{s['db_us_per_event'] / s['server_us_per_event']:.2f}x" if s["db_us_per_event"] else ""),
        ("steady CPU share: server / load gen", f"{s['server_cpu_share']:.0%} / {s['client_cpu_share']:.0%}",
         f"of {os.cpu_count()} cores", ""),
        ("steady p50 / p99 latency ms", f"{s['p50_ms']:.0f} / {s['p99_ms']:.0f}", f"{s['requests']:,} requests", ""),
        ("steady errors (by status; 503 = busy)", f"{s['errors']} {_statuses(s)}", "goal 0",
         "ok" if s["errors"] == 0 else "FAIL"),
        ("steady lost", f"{s['lost']}", "goal 0", "ok" if s["lost"] == 0 else "FAIL"),
        (f"herd {sizes['herd_kiosks']:,}x{sizes['herd_events']}: drained s", f"{h['drained_s']:.1f}",
         f"goal <= {GOAL_DRAIN_S}", f"{h['drained_s'] / GOAL_DRAIN_S:.2f}x"),
        ("herd slowest kiosk / median s", f"{h['slowest_s']:.1f} / {h['p50_s']:.1f}", f"goal <= {GOAL_DRAIN_S}",
         f"{h['slowest_s'] / GOAL_DRAIN_S:.2f}x"),
        ("herd latest first ack s", f"{h['last_first_ack_s']:.1f}", "starved if ~ drained", ""),
        ("herd ingest ev/s", f"{h['eps']:,.0f}", f"goal >= {goal:,}", f"{h['eps'] / goal:.2f}x"),
        ("herd server CPU us/event", f"{h['server_us_per_event']:.0f}", f"goal <= {GOAL_SERVER_US}",
         f"{h['server_us_per_event'] / GOAL_SERVER_US:.2f}x"),
        ("herd failed attempts (retried)", f"{h['errors']:,}", "info", ""),
        ("herd aborted", h["aborted"] or "no", f"server RSS <= {MAX_SERVER_RSS / 2**30:.0f} GiB",
         "FAIL" if h["aborted"] else "ok"),
        ("herd server RSS peak MiB", f"{h['rss_peak_mb']:,.0f}", "bounded", ""),
        ("herd not stored at the end", f"{h['lost']:,}", f"goal 0 (bound {GIVE_UP_S} s)",
         "ok" if h["lost"] == 0 else "FAIL"),
    ]


def _statuses(s: dict) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(s.get("error_statuses", {}).items()))


def print_table(results: dict[str, dict], sizes: dict) -> None:
    backends = list(results)
    table = {name: rows(figures, sizes) for name, figures in results.items()}
    header = ["figure"] + [f"{name}: measured | anchor/goal | ratio" for name in backends]
    lines = []
    for i, (label, *_rest) in enumerate(table[backends[0]]):
        cells = [" | ".join(table[name][i][1:]) for name in backends]
        lines.append([label, *cells])
    _print_rows(header, lines)


def _print_rows(header: list[str], lines: list[list[str]]) -> None:
    widths = [max(len(str(row[c])) for row in [header, *lines]) for c in range(len(header))]
    for row in [header, ["-" * w for w in widths], *lines]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)))


def print_scale_table(anchor: dict, scaled: dict[int, dict]) -> None:
    """Steady ingest for 1, 2, 4… PostgreSQL workers beside SQLite's single writer."""
    header = ["server", "ev/s", "vs SQLite", "vs goal 5,000", "server us/ev", "vs goal 70", "PostgreSQL us/ev",
              "load gen us/ev", "server CPU share", "errors", "lost", "load avg (1/5/15)"]
    lines = []
    for name, s in [("SQLite, 1 process (single writer)", anchor), *[(f"PostgreSQL, {n} worker(s)", f)
                                                                      for n, f in scaled.items()]]:
        lines.append([name, f"{s['eps']:,.0f}", f"{s['eps'] / anchor['eps']:.2f}x",
                      f"{s['eps'] / GOAL_EVENTS_PER_S:.2f}x", f"{s['server_us_per_event']:.0f}",
                      f"{s['server_us_per_event'] / GOAL_SERVER_US:.2f}x",
                      f"{s['db_us_per_event']:.0f}" if s["db_us_per_event"] else "-",
                      f"{s['client_us_per_event']:.0f}", f"{s['server_cpu_share']:.0%}", f"{s['errors']} {_statuses(s)}",
                      str(s["lost"]), s["load"]])
    print()
    _print_rows(header, lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs")
    parser.add_argument("--postgres", action="store_true", help="also against a throwaway PostgreSQL cluster")
    parser.add_argument("--workers", default="",
                        help="e.g. 1,2,4: the steady ingest again on PostgreSQL with that many server workers each")
    parser.add_argument("--batch", type=int, default=AGENT_BATCH, help=f"events per push (the agent's: {AGENT_BATCH})")
    parser.add_argument("--only-steady", action="store_true", help="the steady ingest only (profiling, quick looks)")
    parser.add_argument("--uuid4-sessions", action="store_true",
                        help="random session ids, as kiosks before issue 12 made them (now UUIDv7)")
    parser.add_argument("--profile", metavar="OUT", help="run the server under yappi; its profile saved to OUT")
    args = parser.parse_args(argv)
    if args.profile:
        global PROFILE
        PROFILE = str(Path(args.profile).resolve())
    if args.uuid4_sessions:
        from bench import loadgen
        loadgen.SESSION_IDS = "uuid4"
    sizes = QUICK if args.quick else FULL
    stages = ("steady",) if args.only_steady else ("backlog", "steady", "herd")
    scale = [int(n) for n in args.workers.split(",") if n.strip()]
    root = Path(tempfile.mkdtemp(prefix="wg-bench-sync-"))
    results, scaled = {}, {}
    load_before = load_average()
    try:
        print("sqlite…", file=sys.stderr, flush=True)
        results["sqlite"] = measure(root, sizes, None, args.batch, stages=stages)
        if args.postgres or scale:
            print("postgresql…", file=sys.stderr, flush=True)
            url, stop = postgres_cluster(root)
            try:
                if args.postgres:
                    results["postgresql"] = measure(root, sizes, url, args.batch, stop.postmaster, stages)
                for n in scale:
                    print(f"postgresql, {n} worker(s)…", file=sys.stderr, flush=True)
                    scaled[n] = measure(root, sizes, url, args.batch, stop.postmaster, ("steady",), n)["steady"]
            finally:
                stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\nweiguang sync bench ({'quick' if args.quick else 'full'}; loopback, {os.cpu_count()} cores shared by "
          f"the load generator, the server and PostgreSQL; load average before {load_before}, after {load_average()})\n")
    if args.only_steady:
        for name, figures in results.items():
            print(f"{name}: {json.dumps(figures['steady'], default=str)}")
    else:
        print_table(results, sizes)
    if scaled:
        print_scale_table(results["sqlite"]["steady"], scaled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
