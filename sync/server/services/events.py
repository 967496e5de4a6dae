"""Push: store a kiosk's batch of events, each exactly once, and answer per event.

    >>> results = push(device, request.events, settings)
    >>> [r.status for r in results]          # stored / duplicate / refused (+ code)

The event id is the idempotency key. Storing is one bulk ``INSERT … ON CONFLICT DO
NOTHING RETURNING id`` in one transaction: the ids it returns were stored now, the rest
of the accepted ids were stored before (or by a concurrent push of the same batch, which
the unique key makes wait and then skip). Never check-then-insert. An id stored before is
a duplicate only if its content (device, type, payload) has the same digest; otherwise it
is refused ``conflict`` and both digests are logged.

One event never fails its batch: a text the database cannot hold is refused ``bad_text``
before the insert, and should the database still refuse a row, the batch is inserted again
row by row (each in a savepoint) and only that row is refused ``storage_error``.

Refusal codes: sync.protocol.REFUSAL_CODES (the per-session ones come from
`sessions.apply_events`; activity_not_here for closures from
`services.activities`; foreign_number, duplicate_number from `services.requests`). Every refusal is also recorded in the ``refusals`` table.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from uuid import UUID

from peewee import DatabaseError
from pydantic import TypeAdapter, ValidationError

from sync import protocol
from sync.server.db import db, in_list, insert_ignoring_duplicates, select_in, writing
from sync.server.logs import log
from sync.server.models import Device, Refusal, StoredEvent
from sync.server.services import closures, failed_scans, requests
from sync.server.services.sessions import Accepted, apply_events, server_time
from sync.server.settings import ServerSettings

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


def _texts_storable(value) -> bool:
    """No NUL character (PostgreSQL text cannot hold one) and no lone surrogate (not UTF-8)."""
    stack = [value]
    while stack:
        v = stack.pop()
        kind = type(v)
        if kind is str:
            if "\x00" in v:
                return False
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif kind is dict:
            stack.extend(v.keys())
            stack.extend(v.values())
        elif kind is list:
            stack.extend(v)
    return True


def _text_ok(v: str) -> bool:
    if "\x00" in v:
        return False
    if v.isascii():        # no surrogate in ASCII: no encoding needed
        return True
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _scan(payload: dict) -> str | None:
    """`_ints_safe` and `_texts_storable` over a payload in one pass: "bad_payload" for an
    int out of range (that refusal first, as the two checks in turn gave), "bad_text"
    for a text the database cannot hold, None when both pass. A flat dict of texts and
    numbers (every kiosk event) is read in one loop; anything nested is walked."""
    bad_text = False
    for key, v in payload.items():
        if not bad_text and not _text_ok(key):
            bad_text = True
        kind = type(v)
        if kind is str:
            if not bad_text and not _text_ok(v):
                bad_text = True
        elif kind is int:
            if not -_SAFE_INT <= v <= _SAFE_INT:
                return "bad_payload"
        elif kind is dict or kind is list:
            if not _ints_safe(v):
                return "bad_payload"
            if not bad_text and not _texts_storable(v):
                bad_text = True
    return "bad_text" if bad_text else None


def _encoder(**options):
    """json.dumps(value, **options), byte for byte, without its per-call cost: JSONEncoder
    builds a new C encoder on every call (half the time of encoding a small payload); this
    builds one and keeps it. No circular check: a value parsed from JSON has no cycles."""
    reference = json.JSONEncoder(check_circular=False, **options)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:              # no C accelerator: the plain encoder
        return reference.encode
    encode_one = make(None, reference.default, json.encoder.encode_basestring if not reference.ensure_ascii
                      else json.encoder.encode_basestring_ascii, reference.indent, reference.key_separator,
                      reference.item_separator, reference.sort_keys, reference.skipkeys, reference.allow_nan)

    def encode(value) -> str:
        if type(value) is str:     # what JSONEncoder.encode does for a bare text
            return reference.encode(value)
        return "".join(encode_one(value, 0))
    return encode


# json.dumps with these options (once per event: `_digests`).
_DIGEST_JSON = _encoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def digest(event: protocol.Event) -> str:
    """What an event says, as one hash: a re-sent id must say the same."""
    body = _DIGEST_JSON([event.device_id, event.type, event.payload])
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


def _digests(events: list[protocol.Event]) -> tuple[list[str], list[str]]:
    """(`digest` of each event, each payload as canonical JSON: sorted keys, no spaces).
    One encoding per event serves both: the digest's body is that JSON inside the list
    ``[device_id,type,payload]``, byte for byte what `digest` encodes; and it is what the
    events table keeps (any JSON reads back the same; the push path encoded twice before)."""
    prefixes: dict[tuple[str, str], str] = {}
    digests, payloads = [], []
    sha256 = hashlib.sha256
    for event in events:
        prefix = prefixes.get((event.device_id, event.type))
        if prefix is None:
            prefix = prefixes[(event.device_id, event.type)] = \
                f"[{_DIGEST_JSON(event.device_id)},{_DIGEST_JSON(event.type)},"
        payload = _DIGEST_JSON(event.payload)
        payloads.append(payload)
        digests.append(sha256((prefix + payload + "]").encode("utf-8", "surrogatepass")).hexdigest())
    return digests, payloads


_TIME_FIELDS = ("at", "value")

# What, in a push's raw body, could make a payload fail `_scan`: a NUL (only as the escape
# \u0000: the JSON parser refuses a raw control character), a lone surrogate (\uD800 to
# \uDFFF: the parser refuses those too, looked for all the same), or a run of 16 digits
# (an integer past 2**53 has at least that many). A body without any of them holds no
# payload `_scan` would refuse, so `check(..., clean=True)` skips the scan. Conservative:
# a vid of 16 digits, or a NUL anywhere in the body, only takes the full scan. Plain
# searches, not one regular expression: that took 10 µs per event.
_UNSAFE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_DIGITS_AS_ZERO = bytes(48 if 48 <= i <= 57 else 46 for i in range(256))   # digits to "0", the rest to "."
_SIXTEEN_DIGITS = b"0" * 16


def body_is_clean(body: bytes) -> bool:
    """No payload in this raw push body can be refused by `_scan` (see above)."""
    if b"\x00" in body or (b"\\" in body and _UNSAFE_ESCAPE.search(body)):
        return False
    return _SIXTEEN_DIGITS not in body.translate(_DIGITS_AS_ZERO)


def _validate(event: protocol.Event, device: Device, clean: bool = False) -> protocol.Strict | str:
    """The parsed payload, or the refusal code. `clean`: the raw body passed `body_is_clean`."""
    refusal = _precheck(event, device, clean)
    if refusal:
        return refusal
    try:
        payload = protocol.PAYLOAD_MODELS[event.type].model_validate(event.payload)
    except ValidationError:
        return "bad_payload"
    return _on_our_clock(event, payload)


def _precheck(event: protocol.Event, device: Device, clean: bool) -> str | None:
    """`_validate`'s refusals before the payload's model: the code, or None."""
    if event.device_id != device.id:
        return "wrong_device"
    if not (-_SAFE_INT <= event.seq <= _SAFE_INT and -_SAFE_INT <= event.clock_offset_ms <= _SAFE_INT):
        return "bad_payload"
    if not clean:
        refusal = _scan(event.payload)    # (the device id is this device's own: nothing to check)
        if refusal:
            return refusal
    if event.type not in protocol.PAYLOAD_MODELS:
        return "unknown_type"
    return None


def _on_our_clock(event: protocol.Event, payload: protocol.Strict) -> protocol.Strict | str:
    """The payload, or bad_payload: on our clock too, the time must be one a calendar can show."""
    fields = payload.__dict__
    for name in _TIME_FIELDS:
        at = fields.get(name)
        if at is not None and not protocol.EARLIEST <= server_time(event, at) <= protocol.LATEST:
            return "bad_payload"
    return payload


# UUIDs to their text, a list at once (pydantic's serializer: a sixth of str() each).
_UUID_TEXTS = TypeAdapter(list[UUID | None]).dump_python


def _session_uuid(payload: protocol.Strict) -> UUID | None:
    """The payload's session id when it is a UUID (else None: `Accepted` makes the text)."""
    session_id = payload.__dict__.get("session_id")
    return session_id if type(session_id) is UUID else None


# A list of one payload model, validated in one call: the same schema as the model's own
# (the same instances, the same refusals), without a call per payload (`check`).
_PAYLOAD_LISTS = {name: TypeAdapter(list[model]) for name, model in protocol.PAYLOAD_MODELS.items()}


def check(device: Device, events: list[protocol.Event], clean: bool = False) -> list[Accepted | str]:
    """Validate each event on its own (no database): the parsed event, or its refusal code.
    `clean`: the raw body these events were parsed from passed `body_is_clean`. The
    payloads of one type are validated together, in one call; when one of them fails its
    model, each of that type again on its own (`_validate`), so one event's refusal stays
    its own."""
    parsed: list = [_precheck(event, device, clean) for event in events]
    by_type: dict[str, list[int]] = {}
    for index, refusal in enumerate(parsed):
        if refusal is None:
            by_type.setdefault(events[index].type, []).append(index)
    for type_, indexes in by_type.items():
        try:
            payloads = _PAYLOAD_LISTS[type_].validate_python([events[i].payload for i in indexes])
        except ValidationError:
            for i in indexes:
                parsed[i] = _validate(events[i], device, clean=True)   # (prechecked: no second scan)
            continue
        for i, payload in zip(indexes, payloads):
            parsed[i] = _on_our_clock(events[i], payload)
    keys = _UUID_TEXTS([e.id for e in events], mode="json")
    sids = _UUID_TEXTS([None if type(p) is str else _session_uuid(p) for p in parsed], mode="json")
    return [p if type(p) is str else Accepted(e, p, key, sid)
            for e, p, key, sid in zip(events, parsed, keys, sids)]


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
    both is stored by the first and answered duplicate (or conflict) to the second."""
    keys = [c.key if type(c) is Accepted else str(e.id) for e, c in zip(events, checked)]
    types = {e.type for e in events}
    # Closures and orders, against the activities and order numbers the server holds.
    if closures.EVENT_TYPE in types:
        closures.refuse_closures(device, keys, checked)
    if requests.EVENT_TYPE in types:
        requests.refuse_numbers(device, keys, checked)
    if requests.RATING in types:
        requests.refuse_ratings(keys, checked)
    digests, payloads = _digests(events)
    answers: list[str | None] = [c if type(c) is str else None for c in checked]

    # 1. Insert-or-ignore the accepted events (the first of an id repeated in the batch);
    #    the database says which rows are new.
    first: dict[str, int] = {}
    for index, c in enumerate(checked):
        if type(c) is Accepted:
            first.setdefault(keys[index], index)
    device_id, station = device.id, device.station
    rows = []
    for key, i in first.items():
        item = checked[i]
        e = item.event
        rows.append((key, device_id, station, e.seq, e.type, e.device_time.isoformat(), e.clock_offset_ms,
                     received_at, payloads[i], digests[i], item.sid, 0))
    new_ids, failed = _insert(rows)
    for key in failed:
        answers[first[key]] = "storage_error"

    # 2. Ids stored before (or earlier in this transaction): the same content is a
    #    duplicate, other content a conflict.
    again = {k for k in first if k not in new_ids and k not in failed}
    stored_before = {r["id"]: r["digest"] for r in select_in(StoredEvent, "id", again)} if again else {}
    for index, (key, c) in enumerate(zip(keys, checked)):
        if not isinstance(c, Accepted) or answers[index]:
            continue
        if key in new_ids and first[key] == index:
            continue
        earlier = stored_before.get(key, digests[first[key]])
        if earlier is not None and earlier != digests[index]:
            answers[index] = "conflict"
            log.warning("event id re-sent with other content", extra={"fields": {
                "event": key, "device": device.id, "stored_digest": earlier, "sent_digest": digests[index]}})

    # 3. What was stored now changes sessions and service requests; what the rules refuse
    #    is taken out again, in this same transaction. Refusals so far are recorded first:
    #    they complete the device's sequence numbers, which tell whether a check-out of an
    #    unknown session may still get its check-in.
    _record_refusals(device, events, answers, digests, received_at)
    before = list(answers)
    new = [checked[first[key]] for key in first if key in new_ids]
    refused = apply_events(new, device.id, device.station, received_at, settings)
    if refused:
        StoredEvent.delete().where(in_list(StoredEvent.id, set(refused))).execute()
        for key, code in refused.items():
            answers[first[key]] = code
    applied = [n for n in new if n.key not in refused] if refused else new
    if closures.EVENT_TYPE in types:
        closures.apply_closures(applied, device)
    if requests.EVENT_TYPE in types:
        requests.store_requests(applied, device)
    if requests.RATING in types:
        requests.apply_ratings(applied, device)
    if failed_scans.EVENT_TYPE in types:
        failed_scans.store_failed_scans(applied, device, received_at)

    # 4. One answer per event, in order; an id repeated within the batch is a duplicate.
    results, answered = [], set()
    for index, (key, event) in enumerate(zip(keys, events)):
        if answers[index]:
            results.append({"id": event.id, "status": "refused", "code": answers[index]})
        else:
            results.append({"id": event.id, "status": "stored" if key in new_ids and key not in answered
                            else "duplicate", "code": None})
            answered.add(key)
    results = _results(results)
    _record_refusals(device, events, [a if a != b else None for a, b in zip(answers, before)], digests, received_at)
    return results


# EventResults from dicts, the whole batch in one call (a third cheaper than one by one).
_results = TypeAdapter(list[protocol.EventResult]).validate_python


# The events table's columns, in the order `store` builds its rows (tuples: a dict per row
# cost more than the insert's own binding).
_EVENT_COLUMNS = ("id", "device_id", "station", "seq", "type", "device_time", "clock_offset_ms", "received_at",
                  "payload", "digest", "session_id", "deferred")


def _insert(rows: list[tuple]) -> tuple[set[str], set[str]]:
    """Insert-or-ignore rows (tuples in _EVENT_COLUMNS order); (ids inserted, ids the
    database refused). One statement for the batch; should the database refuse it, row by
    row in savepoints, so one poison event is that event's refusal and the others are stored."""
    rows = sorted(rows, key=lambda row: row[0])   # one lock order for every process
    try:
        with db.atomic():
            return set(insert_ignoring_duplicates(StoredEvent, rows, returning="id", columns=_EVENT_COLUMNS)), set()
    except (DatabaseError, OverflowError, ValueError) as error:
        if is_transient(error):    # a deadlock is the transaction's, not a row's: retried whole
            raise
    inserted, failed = set(), set()
    for row in rows:
        try:
            with db.atomic():
                inserted.update(insert_ignoring_duplicates(StoredEvent, [row], returning="id", columns=_EVENT_COLUMNS))
        except (DatabaseError, OverflowError, ValueError) as error:
            if is_transient(error):
                raise
            failed.add(row[0])
            log.warning("event refused by the database", extra={"fields": {"event": row[0], "error": str(error)}})
    return inserted, failed


def _record_refusals(device: Device, events: list[protocol.Event], answers: list[str | None],
                     digests: list[str], received_at: int) -> None:
    """Keep a row per refusal (the fleet page shows them). A seq beyond what the database
    holds is kept as 0: the refusal is what matters, and recording it never fails the batch."""
    rows = [dict(event_id=str(e.id), device_id=device.id, seq=e.seq if 0 < e.seq <= _SAFE_INT else 0,
                 type=e.type, code=code, digest=d, received_at=received_at)
            for e, code, d in zip(events, answers, digests) if code]
    if not rows:
        return
    try:
        with db.atomic():
            Refusal.insert_many(rows).execute()
    except DatabaseError as error:
        log.warning("refusals not recorded", extra={"fields": {"device": device.id, "error": str(error)}})


def touch_devices(device_ids: list[str], received_at: int) -> None:
    """Record when these kiosks last pushed (one statement for a whole group)."""
    Device.update(last_seen_at=received_at).where(in_list(Device.id, set(device_ids))).execute()


def lock_devices(device_ids: list[str]) -> None:
    """PostgreSQL: lock these devices' rows, in id order, first thing in a push
    transaction. Two server processes (workers) storing batches of the same kiosk then take
    turns instead of inserting the same event ids in opposite orders (a deadlock, which
    PostgreSQL breaks by failing one of them). SQLite has one writer: nothing to do."""
    from sync.server.db import is_postgres
    if is_postgres() and device_ids:
        list(Device.select(Device.id).where(in_list(Device.id, set(device_ids))).order_by(Device.id).for_update())


# PostgreSQL's "try the transaction again" errors: deadlock_detected, serialization_failure,
# lock_not_available. Never one event's fault: the whole transaction is retried.
TRANSIENT_CODES = {"40P01", "40001", "55P03"}


def is_transient(exc: BaseException) -> bool:
    for candidate in (exc, *getattr(exc, "args", ())[:1], exc.__cause__, exc.__context__):
        if getattr(candidate, "pgcode", None) in TRANSIENT_CODES:
            return True
    return False


def revoked(device_ids: list[str]) -> set[str]:
    """Which of these devices are revoked, read inside the push transaction: the token cache
    in `devices.authenticate` may be seconds old, a revocation must stop pushes at once."""
    return {d.id for d in Device.select(Device.id).where(in_list(Device.id, set(device_ids))
                                                         & Device.revoked_at.is_null(False))}
