"""A lean load generator for the ingest bench: many simulated kiosks in ONE process, one
asyncio loop, plain HTTP/1.1 over keep-alive sockets, bodies built from a text template
(no pydantic, no requests, no threads). Its own CPU time is measured apart from the
server's, so the bench can say what the server costs per event.

    >>> figures = asyncio.run(steady(url, devices, batch=200, seconds=60))

Each kiosk pushes a batch of `batch` check-ins (the sync agent's batch size), then pulls
its changes (as the agent does after its outbox is empty), back to back. A push answered
with anything but 200 is re-sent after a short jittered wait (the same events: the
server must count each once).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

# One event as the kiosk's agent sends it; ids and session ids are fresh per event.
# Session ids: time-ordered, as the kiosk makes them (kiosk.attendance, UUIDv7); "uuid4"
# for kiosks of older versions, whose random ones cost the center more per check-in
# (`bench_sync.py --uuid4-sessions`).
SESSION_IDS = "uuid7"
_EVENT = ('{{"id":"{id}","device_id":"{device}","seq":{seq},"type":"checkin","device_time":"{stamp}",'
          '"clock_offset_ms":0,"payload":{{"session_id":"{session}","vid":"B{tail}{seq:06d}","serial":{seq},'
          '"at":{at}}}}}')


def push_body(device_id: str, first_seq: int, n: int) -> bytes:
    now = time.time()
    stamp = datetime.fromtimestamp(now, timezone.utc).isoformat()
    at, tail = int(now), device_id[-6:]
    # uuid7-like ids (time-ordered, as the kiosk's uuid6.uuid7): 48-bit ms, then random
    ms = int(now * 1000)
    session = uuid.uuid4 if SESSION_IDS == "uuid4" else (lambda: _uuid7(ms))
    events = ",".join(_EVENT.format(id=_uuid7(ms), device=device_id, seq=seq, stamp=stamp, session=session(),
                                    tail=tail, at=at)
                      for seq in range(first_seq, first_seq + n))
    return ('{"events":[' + events + "]}").encode()


def _uuid7(ms: int) -> str:
    rand = random.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects when the server closes it."""

    def __init__(self, host: str, port: int, token: str):
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n".encode()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n".encode() + self.auth
                + (f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode() if body else b"")
                + b"\r\n")
        self.writer.write(head + body)
        try:
            status_line = await self.reader.readuntil(b"\r\n")
            length, close = 0, False
            while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            payload = await self.reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        if close:
            self.close()
        return int(status_line.split()[1]), payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Tally:
    acked: int = 0
    refused: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)   # the failed requests' statuses (0: no answer)
    latencies: list[float] = field(default_factory=list)


async def kiosk(url_host: str, port: int, device_id: str, token: str, batch: int, stop: asyncio.Event,
                tally: Tally) -> None:
    conn, seq, cursor = Connection(url_host, port, token), 1, 0
    try:
        while not stop.is_set():
            body = push_body(device_id, seq, batch)
            for _attempt in range(20):
                started = time.perf_counter()
                try:
                    status, payload = await conn.request("POST", "/api/v1/events", body)
                except (OSError, asyncio.IncompleteReadError):
                    status, payload = 0, b""
                tally.latencies.append(time.perf_counter() - started)
                if status == 200:
                    break
                tally.errors += 1
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
                if stop.is_set():
                    return
                await asyncio.sleep(random.uniform(0.05, 0.5))
            else:
                return
            results = json.loads(payload)["results"]
            refused = sum(r["status"] == "refused" for r in results)
            tally.acked += len(results) - refused
            tally.refused += refused
            seq += batch
            started = time.perf_counter()
            try:
                status, payload = await conn.request("GET", f"/api/v1/changes?cursor={cursor}")
            except (OSError, asyncio.IncompleteReadError):
                status = 0
            tally.latencies.append(time.perf_counter() - started)
            if status == 200:
                cursor = json.loads(payload)["cursor"]
            else:
                tally.errors += 1
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
    finally:
        conn.close()


async def steady(url: str, devices: list[tuple[str, str]], batch: int, seconds: float) -> tuple[list[Tally], float]:
    """Every kiosk at once for `seconds`; returns the tallies and the elapsed time (the
    last answers in flight included)."""
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    stop = asyncio.Event()
    tallies = [Tally() for _ in devices]
    started = time.perf_counter()
    tasks = [asyncio.create_task(kiosk(host, int(port), d, t, batch, stop, tally))
             for (d, t), tally in zip(devices, tallies)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait(tasks, timeout=60)
    return tallies, time.perf_counter() - started
