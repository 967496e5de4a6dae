"""Building events and pushing them as a kiosk would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import uuid6

T0 = 1_780_000_000  # a fixed Unix time (2026-05-28) for the payload `at` fields


@dataclass
class Kiosk:
    api: object
    device_id: str
    token: str
    station: str
    seq: int = 0
    sent: list = field(default_factory=list)

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def event(self, type: str, payload: dict, offset_ms: int = 0, device_id: str | None = None) -> dict:
        self.seq += 1
        return {"id": str(uuid6.uuid7()), "device_id": device_id or self.device_id, "seq": self.seq, "type": type,
                "device_time": datetime.now(timezone.utc).isoformat(), "clock_offset_ms": offset_ms,
                "payload": payload}

    def checkin(self, vid: str, at: int, activity_id=None, session_id=None, **kw) -> dict:
        return self.event("checkin", {"session_id": session_id or str(uuid.uuid4()), "vid": vid, "serial": 1,
                                      "activity_id": activity_id, "at": at}, **kw)

    def checkout(self, checkin: dict, at: int, minutes: int = 0, closed_by="scan", **kw) -> dict:
        p = checkin["payload"]
        return self.event("checkout", {"session_id": p["session_id"], "vid": p["vid"], "at": at, "minutes": minutes,
                                       "flags": [], "closed_by": closed_by}, **kw)

    def push(self, events: list[dict]):
        return self.api.post("/api/v1/events", json={"events": events}, headers=self.headers)

    def statuses(self, events: list[dict]) -> list[tuple[str, str | None]]:
        answer = self.push(events)
        assert answer.status_code == 200, answer.text
        return [(r["status"], r["code"]) for r in answer.json()["results"]]

    def pull(self, cursor: int = 0, limit: int | None = None):
        params = {"cursor": cursor, **({"limit": limit} if limit else {})}
        return self.api.get("/api/v1/changes", params=params, headers=self.headers)
