"""A small fake center for the client's unit tests: the wire contract of sync/protocol.py,
served by FastAPI + uvicorn on 127.0.0.1 in this process, with switchable faults.

The real server is exercised by tests/sync/e2e; here each test controls exactly what the
center answers (a refusal, a 503, a slow answer, a revoked token, a skewed clock).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kiosk.store import db, open_store
from sync.protocol import API_PREFIX, PAYLOAD_MODELS, Change, PushRequest

PUBLIC_KEY = "A" * 43 + "="


class FakeCenter:
    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.events: dict[str, dict] = {}          # id -> event, stored once
        self.tokens = {"tok-1"}
        self.codes = {"GOOD-CODE"}
        self.changes: list[Change] = []
        self.faults: list[tuple[str, int | float]] = []  # ("status", 503) or ("delay", 2.0), consumed in order
        self.refuse: dict[str, str] = {}           # event id -> refusal code
        self.skew = 0.0                            # seconds added to the server's clock
        self.requests: list[tuple[str, int]] = []  # (path, events in it)
        self.max_events: int | None = None         # push bodies above this answer 413
        self.retry_after: int | None = None        # sent with injected errors

    def now(self) -> str:
        return (datetime.now(timezone.utc) + timedelta(seconds=self.skew)).isoformat()

    def add_changes(self, n: int, kind: str = "volunteer") -> None:
        start = len(self.changes)
        self.changes += [Change(kind=kind, key=f"V{start + i:05d}", data={"name": f"志愿者{start + i}"},
                                version=start + i + 1) for i in range(n)]

    def error(self, status: int, code: str) -> JSONResponse:
        return JSONResponse({"code": code, "message": code, "server_time": self.now()}, status_code=status)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def faults(request: Request, call_next):
            if self.faults:
                kind, value = self.faults.pop(0)
                if kind == "delay":
                    await asyncio.sleep(value)
                else:
                    answer = self.error(int(value), f"injected_{value}")
                    if self.retry_after is not None:
                        answer.headers["Retry-After"] = str(self.retry_after)
                    return answer
            return await call_next(request)

        def authorised(request: Request) -> bool:
            return request.headers.get("authorization", "").removeprefix("Bearer ") in self.tokens

        @app.post(API_PREFIX + "/devices/enroll")
        async def enroll(body: dict):
            self.requests.append(("enroll", 0))
            if body.get("code") == "TOO-MANY":   # the center's per-address enrolment limit
                answer = self.error(429, "rate_limited")
                answer.headers["Retry-After"] = "60"
                return answer
            if body.get("code") not in self.codes:
                return self.error(400, "bad_code")
            return {"device_id": body.get("device_id") or str(uuid.uuid4()), "token": "tok-1",
                    "station": {"code": "S001", "name": "文博苑社区"}, "public_keys": {"k1": PUBLIC_KEY},
                    "server_time": self.now()}

        @app.post(API_PREFIX + "/events")
        async def push(request: Request):
            if not authorised(request):
                return self.error(401, "token_revoked")
            body = PushRequest.model_validate(await request.json())   # the contract, strictly
            self.requests.append(("events", len(body.events)))
            if self.max_events and len(body.events) > self.max_events:
                return self.error(413, "too_large")
            results = []
            for event in body.events:
                PAYLOAD_MODELS[event.type].model_validate(event.payload)
                key = str(event.id)
                if key in self.refuse:
                    results.append({"id": key, "status": "refused", "code": self.refuse[key]})
                elif key in self.events:
                    results.append({"id": key, "status": "duplicate"})
                else:
                    self.events[key] = event.model_dump(mode="json")
                    results.append({"id": key, "status": "stored"})
            return {"results": results, "server_time": self.now()}

        @app.get(API_PREFIX + "/changes")
        async def pull(request: Request, cursor: int = 0, limit: int = 500):
            if not authorised(request):
                return self.error(401, "token_revoked")
            self.requests.append(("changes", 0))
            page = [c for c in self.changes if c.version > cursor][:limit]
            last = page[-1].version if page else cursor
            return {"changes": [c.model_dump() for c in page], "cursor": last,
                    "more": any(c.version > last for c in self.changes), "server_time": self.now()}

        return app


@pytest.fixture(scope="session")
def _center():
    center = FakeCenter()
    server = uvicorn.Server(uvicorn.Config(center.app(), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started:
        assert time.time() < deadline, "the fake center did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    center.url = f"http://127.0.0.1:{port}"
    yield center
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def center(_center):
    _center.reset()
    yield _center
    _center.reset()


@pytest.fixture
def store(tmp_path):
    store = open_store(tmp_path / "kiosk.db")
    yield store
    db.close()


@pytest.fixture
def enrolled(store, center):
    store.set_sync_state(server_url=center.url, token="tok-1", cursor=0)
    return store


def record_checkins(store, n: int) -> list[str]:
    """n check-in events in the outbox, as the scan path writes them; their ids in order."""
    ids = []
    for i in range(n):
        payload = {"session_id": str(uuid.uuid4()), "vid": f"V{i:05d}", "serial": i, "at": int(time.time())}
        ids.append(store.record("checkin", payload).id)
    return ids


@pytest.fixture
def unused_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
