"""The kiosk's side of the wire, without pydantic (about 10 MB less in every kiosk process).

The contract is sync.protocol's models: the center validates every request with them and a
payload that fails its model is refused (``bad_payload``), visible on the kiosk. The kiosk
builds its event payloads as plain dicts here, the same dicts the models dump
(``model_dump(mode="json")``), and reads the center's answers into plain objects with the
same fields, checked for the fields it uses (a malformed answer raises WireError).
tests/sync/test_wire.py holds both sides together: every builder's dict validates against its
model and dumps back unchanged, every answer the models accept parses here to the same
values, and the constants are protocol's.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

# The same values as sync.protocol's (tests/sync/test_wire.py compares them).
API_PREFIX = "/api/v1"
MAX_BATCH = 500
PAGE_SIZE = 500
DEVICE_EXISTS = "device_exists"
HELD_BACK_TYPES = frozenset({"failed_scan"})


class WireError(ValueError):
    """An answer from the center that does not have the protocol's shape."""


# --- event payloads (protocol.*Payload, as model_dump(mode="json") gives them) ------------

def _uuid(value) -> str:
    return str(uuid.UUID(str(value)))


def checkin_payload(session_id, vid: str, serial: int, role: str = "volunteer", activity_id: str | None = None,
                    at: int = 0) -> dict:
    return {"session_id": _uuid(session_id), "vid": vid, "serial": serial, "role": role,
            "activity_id": activity_id, "at": at}


def checkout_payload(session_id, vid: str, at: int, minutes: int, flags=(), closed_by: str = "scan",
                     by_vid: str | None = None) -> dict:
    return {"session_id": _uuid(session_id), "vid": vid, "at": at, "minutes": minutes, "flags": list(flags),
            "closed_by": closed_by, "by_vid": by_vid}


def correction_payload(session_id, field: str, value: int, reason: str, by_vid: str) -> dict:
    return {"session_id": _uuid(session_id), "field": field, "value": value, "reason": reason, "by_vid": by_vid}


def activity_closed_payload(activity_id: str, at: int, by_vid: str) -> dict:
    return {"activity_id": activity_id, "at": at, "by_vid": by_vid}


def failed_scan_payload(id, at: int, code: str, vid: str | None = None, serial: int | None = None) -> dict:
    return {"id": _uuid(id), "at": at, "code": code, "vid": vid, "serial": serial}


# --- answers (protocol.PushResponse, PullResponse, EnrollResponse) -------------------------

def _need(body: Any, key: str, kind, optional: bool = False):
    if not isinstance(body, dict):
        raise WireError(f"expected an object, got {type(body).__name__}")
    if key not in body or body[key] is None:
        if optional:
            return None
        raise WireError(f"{key}: missing")
    value = body[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise WireError(f"{key}: expected {getattr(kind, '__name__', kind)}, got {type(value).__name__}")
    return value


def _time(body: dict, key: str = "server_time") -> datetime:
    text = _need(body, key, str)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise WireError(f"{key}: not a time: {text[:40]!r}") from exc


@dataclass(frozen=True)
class EventResult:
    id: str
    status: str
    code: str | None = None


@dataclass(frozen=True)
class PushResponse:
    results: list[EventResult]
    server_time: datetime

    @classmethod
    def parse(cls, body: Any) -> "PushResponse":
        results = []
        for item in _need(body, "results", list):
            status = _need(item, "status", str)
            if status not in ("stored", "duplicate", "refused"):
                raise WireError(f"status: {status[:20]!r}")
            try:
                rid = _uuid(_need(item, "id", str))
            except ValueError as exc:
                raise WireError(f"id: not a UUID: {item.get('id')!r:.50}") from exc
            results.append(EventResult(rid, status, _need(item, "code", str, optional=True)))
        return cls(results, _time(body))


@dataclass(frozen=True)
class Change:
    kind: str
    key: str
    data: dict | None = None
    version: int = 0


@dataclass(frozen=True)
class PullResponse:
    changes: list[Change]
    cursor: int
    more: bool
    server_time: datetime
    page_key: str | None = None
    event_types: list[str] | None = None

    @classmethod
    def parse(cls, body: Any) -> "PullResponse":
        changes = [Change(_need(c, "kind", str), _need(c, "key", str), _need(c, "data", dict, optional=True),
                          _need(c, "version", int)) for c in _need(body, "changes", list)]
        types = _need(body, "event_types", list, optional=True)
        if types is not None and not all(isinstance(t, str) for t in types):
            raise WireError("event_types: not a list of texts")
        return cls(changes, _need(body, "cursor", int), _need(body, "more", bool), _time(body),
                   _need(body, "page_key", str, optional=True), types)


@dataclass(frozen=True)
class StationInfo:
    code: str
    name: str
    institute: str = ""
    center: str = ""
    timezone: str = "Asia/Shanghai"

    def model_dump(self) -> dict:      # the name protocol.StationInfo's callers use
        return asdict(self)


@dataclass(frozen=True)
class EnrollResponse:
    device_id: str
    token: str
    station: StationInfo
    public_keys: dict[str, str]
    server_time: datetime
    kiosk_number: int | None = None

    @classmethod
    def parse(cls, body: Any) -> "EnrollResponse":
        raw = _need(body, "station", dict)
        station = StationInfo(_need(raw, "code", str), _need(raw, "name", str),
                              **{k: _need(raw, k, str) for k in ("institute", "center", "timezone")
                                 if raw.get(k) is not None})
        keys = _need(body, "public_keys", dict)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
            raise WireError("public_keys: not texts")
        return cls(_need(body, "device_id", str), _need(body, "token", str), station, keys, _time(body),
                   _need(body, "kiosk_number", int, optional=True))
