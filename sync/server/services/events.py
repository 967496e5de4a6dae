"""Push: store a kiosk's batch of events, each exactly once, and answer per event.

    >>> results = push(device, request.events, settings)
    >>> [r.status for r in results]          # stored / duplicate / refused (+ code)

The event id is the idempotency key. Storing is one bulk ``INSERT … ON CONFLICT DO
NOTHING RETURNING id`` in one transaction: the ids it returns were stored now, the rest
of the accepted ids were stored before (or by a concurrent push of the same batch, which
the unique key makes wait and then skip). Never check-then-insert.

Refusal codes (sync.protocol.REFUSAL_CODES): bad_payload (the payload fails its
PAYLOAD_MODELS model), wrong_device (the envelope names another device than the token),
unknown_session (a check-out or correction of a session this server never saw).
"""

from __future__ import annotations

import json
import time

from pydantic import ValidationError

from sync import protocol
from sync.server.db import insert_ignoring_duplicates, writing
from sync.server.models import Device, HoursSession, ServiceRequest, StoredEvent
from sync.server.services.sessions import Accepted, apply_events, server_time
from sync.server.settings import ServerSettings

_SESSION_EVENTS = ("checkout", "correction")
# The wire leaves integers unbounded; the database holds 64 bits and times are summed
# with offsets, so anything beyond JSON's safe integers is refused, not a 500.
_SAFE_INT = 2**53


def _ints_safe(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, dict, list)):
        return True
    if isinstance(value, int):
        return abs(value) <= _SAFE_INT
    return all(_ints_safe(v) for v in (value.values() if isinstance(value, dict) else value))


def _validate(event: protocol.Event, device: Device) -> Accepted | str:
    """The parsed event, or the refusal code."""
    if event.device_id != device.id:
        return "wrong_device"
    if not _ints_safe([event.seq, event.clock_offset_ms, event.payload]):
        return "bad_payload"
    try:
        payload = protocol.PAYLOAD_MODELS[event.type].model_validate(event.payload)
    except ValidationError:
        return "bad_payload"
    return Accepted(event, payload)


def push(device: Device, events: list[protocol.Event], settings: ServerSettings,
         now: float | None = None) -> list[protocol.EventResult]:
    received_at = int(time.time() if now is None else now)
    # 1. Validate each event on its own (no database).
    checked = [_validate(event, device) for event in events]
    with writing():
        # 2. Check-outs and corrections need their session: stored, or checked in earlier
        #    in this batch. An event stored already is a duplicate, not a refusal.
        ids = [str(e.id) for e in events]
        stored_before = {r.id for r in StoredEvent.select(StoredEvent.id).where(StoredEvent.id.in_(ids))}
        wanted = {str(c.payload.session_id) for c in checked
                  if isinstance(c, Accepted) and c.event.type in _SESSION_EVENTS}
        known = {s.id for s in HoursSession.select(HoursSession.id).where(HoursSession.id.in_(list(wanted)))} \
            if wanted else set()
        for index, c in enumerate(checked):
            if not isinstance(c, Accepted) or str(c.event.id) in stored_before:
                continue
            if c.event.type == "checkin":
                known.add(str(c.payload.session_id))
            elif c.event.type in _SESSION_EVENTS and str(c.payload.session_id) not in known:
                checked[index] = "unknown_session"

        # 3. Store: insert-or-ignore, and the database says which rows are new.
        accepted: dict[str, Accepted] = {}
        for c in checked:
            if isinstance(c, Accepted):
                accepted.setdefault(str(c.event.id), c)
        rows = [dict(id=key, device_id=device.id, station=device.station, seq=c.event.seq, type=c.event.type,
                     device_time=c.event.device_time.isoformat(), clock_offset_ms=c.event.clock_offset_ms,
                     payload=json.dumps(c.event.payload, ensure_ascii=False), received_at=received_at)
                for key, c in accepted.items()]
        new_ids = set(insert_ignoring_duplicates(StoredEvent, rows, returning="id"))

        # 4. What was stored now changes sessions and service requests.
        new = [accepted[key] for key in accepted if key in new_ids]
        apply_events(new, device.id, device.station, received_at, settings)
        _store_requests(new, device)
        Device.update(last_seen_at=received_at).where(Device.id == device.id).execute()

    # 5. One answer per event, in order; an id repeated within the batch is a duplicate.
    results, answered = [], set()
    for event, c in zip(events, checked):
        key = str(event.id)
        if isinstance(c, str):
            results.append(protocol.EventResult(id=event.id, status="refused", code=c))
        else:
            results.append(protocol.EventResult(
                id=event.id, status="stored" if key in new_ids and key not in answered else "duplicate"))
            answered.add(key)
    return results


def _store_requests(items: list[Accepted], device: Device) -> None:
    rows = [dict(id=str(i.event.id), number=i.payload.number, station=device.station, device_id=device.id,
                 service=i.payload.service, phone=i.payload.phone, note=i.payload.note, state="ordered",
                 created_at=server_time(i.event, i.payload.at))
            for i in items if i.event.type == "service_request"]
    insert_ignoring_duplicates(ServiceRequest, rows)
