"""Push: store a kiosk's batch of events, each exactly once, and answer per event.

    >>> results = push(device, request.events, settings)
    >>> [r.status for r in results]          # stored / duplicate / refused (+ code)

The event id is the idempotency key. Storing is one bulk ``INSERT … ON CONFLICT DO
NOTHING RETURNING id`` in one transaction: the ids it returns were stored now, the rest
of the accepted ids were stored before (or by a concurrent push of the same batch, which
the unique key makes wait and then skip). Never check-then-insert.

Refusal codes (sync.protocol.REFUSAL_CODES): bad_payload (the payload fails its
PAYLOAD_MODELS model), wrong_device (the envelope names another device than the token),
unknown_session (a check-out or correction of a session this server never saw);
activity_not_here (`services.activities`); foreign_number, duplicate_number (`services.requests`).
"""

from __future__ import annotations

import json
import time

from pydantic import ValidationError

from sync import protocol
from sync.server.db import in_list, insert_ignoring_duplicates, writing
from sync.server.models import Device, HoursSession, StoredEvent
from sync.server.services import activities, requests
from sync.server.services.sessions import Accepted, apply_events
from sync.server.settings import ServerSettings

_SESSION_EVENTS = ("checkout", "correction")
# The wire leaves integers unbounded; the database holds 64 bits and times are summed
# with offsets, so anything beyond JSON's safe integers is refused, not a 500.
_SAFE_INT = 2**53


def _ints_safe(value) -> bool:
    """Every int in this JSON value within ±2**53 (a loop, not recursion: it runs on every
    value of every pushed event). `type(v) is int` leaves bools out, as JSON does."""
    stack = [value]
    while stack:
        v = stack.pop()
        kind = type(v)
        if kind is int:
            if not -_SAFE_INT <= v <= _SAFE_INT:
                return False
        elif kind is dict:
            stack.extend(v.values())
        elif kind is list:
            stack.extend(v)
    return True


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


def check(device: Device, events: list[protocol.Event]) -> list[Accepted | str]:
    """Validate each event on its own (no database): the parsed event, or its refusal code."""
    return [_validate(event, device) for event in events]


def push(device: Device, events: list[protocol.Event], settings: ServerSettings,
         now: float | None = None) -> list[protocol.EventResult]:
    """Store one batch in its own transaction (the HTTP route goes through `writer.GroupWriter`,
    which runs `store` for many batches in one transaction)."""
    received_at = int(time.time() if now is None else now)
    checked = check(device, events)
    with writing():
        results = store(device, events, checked, received_at, settings)
        touch_devices([device.id], received_at)
    return results


def store(device: Device, events: list[protocol.Event], checked: list[Accepted | str], received_at: int,
          settings: ServerSettings) -> list[protocol.EventResult]:
    """Store the accepted events of one batch; call inside `writing()`. Several batches may
    share the transaction: a later one sees what an earlier one inserted, so an id sent by
    both is stored by the first and answered duplicate to the second."""
    keys = [str(e.id) for e in events]
    # 1. Check-outs and corrections need their session: stored, or checked in earlier in
    #    this batch. An event stored already is a duplicate, not a refusal.
    wanted = {str(c.payload.session_id) for c in checked
              if isinstance(c, Accepted) and c.event.type in _SESSION_EVENTS}
    known = {s.id for s in HoursSession.select(HoursSession.id).where(in_list(HoursSession.id, wanted))} \
        if wanted else set()
    orphans = [i for i, c in enumerate(checked) if isinstance(c, Accepted) and c.event.type in _SESSION_EVENTS
               and str(c.payload.session_id) not in known]
    stored_before = {r.id for r in StoredEvent.select(StoredEvent.id)
                     .where(in_list(StoredEvent.id, {keys[i] for i in orphans}))} if orphans else set()
    for index, c in enumerate(checked):
        if not isinstance(c, Accepted) or keys[index] in stored_before:
            continue
        if c.event.type == "checkin":
            known.add(str(c.payload.session_id))
        elif c.event.type in _SESSION_EVENTS and str(c.payload.session_id) not in known:
            checked[index] = "unknown_session"
    # Closures and orders, against the activities and order numbers the server holds.
    activities.refuse_closures(device, keys, checked)
    requests.refuse_numbers(device, keys, checked)

    # 2. Store: insert-or-ignore, and the database says which rows are new.
    accepted: dict[str, Accepted] = {}
    for key, c in zip(keys, checked):
        if isinstance(c, Accepted):
            accepted.setdefault(key, c)
    rows = [dict(id=key, device_id=device.id, station=device.station, seq=c.event.seq, type=c.event.type,
                 device_time=c.event.device_time.isoformat(), clock_offset_ms=c.event.clock_offset_ms,
                 payload=json.dumps(c.event.payload, ensure_ascii=False), received_at=received_at)
            for key, c in accepted.items()]
    new_ids = set(insert_ignoring_duplicates(StoredEvent, rows, returning="id"))

    # 3. What was stored now changes sessions and service requests.
    new = [accepted[key] for key in accepted if key in new_ids]
    apply_events(new, device.id, device.station, received_at, settings)
    activities.apply_closures(new, device)
    requests.store_requests(new, device)

    # 4. One answer per event, in order; an id repeated within the batch is a duplicate.
    results, answered = [], set()
    for key, event, c in zip(keys, events, checked):
        if isinstance(c, str):
            results.append(protocol.EventResult(id=event.id, status="refused", code=c))
        else:
            results.append(protocol.EventResult(
                id=event.id, status="stored" if key in new_ids and key not in answered else "duplicate"))
            answered.add(key)
    return results


def touch_devices(device_ids: list[str], received_at: int) -> None:
    """Record when these kiosks last pushed (one statement for a whole group)."""
    Device.update(last_seen_at=received_at).where(in_list(Device.id, set(device_ids))).execute()


def revoked(device_ids: list[str]) -> set[str]:
    """Which of these devices are revoked, read inside the push transaction: the token cache
    in `devices.authenticate` may be seconds old, a revocation must stop pushes at once."""
    return {d.id for d in Device.select(Device.id).where(in_list(Device.id, set(device_ids))
                                                         & Device.revoked_at.is_null(False))}
