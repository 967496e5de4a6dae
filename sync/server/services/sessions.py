"""Server-side hours: the authority. Sessions are built from check-in / check-out /
correction events, each checked against what the server knows; credit, flags and state come
from `sync.hours.settle`, the function the kiosk calls too.

`apply_events` runs inside the push transaction for the events just stored (each event
once: duplicates never reach it), in each device's sequence order, and answers a refusal
code for the events it will not apply (the caller removes them again):

    unknown_session   a check-out / correction of a session never seen (and none of the
                      device's earlier events is missing: else it waits, `deferred`)
    wrong_station     a check-out / correction from a device of another station
                      (kiosks of the same station may close each other's sessions)
    activity_not_here a check-in to an activity that is not this station's, nor above it
    already_closed    a second check-out (an automatic close may be followed by the real
                      check-out, or by the late one, once)
    already_reviewed  a change to a session a person approved, adjusted or rejected
    conflict          a second check-in with a session id already used

Kiosk times are put on the server clock with the event's `clock_offset_ms`. Doubtful but
plausible is stored and flagged, never dropped: recorded_offline, clock_skew, future_time,
two_stations, unknown_volunteer, revoked_badge (see sync/hours.py for which need review).
"""

from __future__ import annotations

import json
import operator
import time
from dataclasses import dataclass, fields

from sync import hours, protocol
from sync.server.db import in_list, insert_ignoring_duplicates, reading, select_in, update_many, writing
from sync.server.models import Activity, Badge, HoursSession, Revocation, StoredEvent, Volunteer, db
from sync.server.services.changes import rules_for
from sync.server.settings import ServerSettings

class Accepted:
    """An event that passed validation, with its payload parsed; `key` (the event id) and
    `sid` (its session id, if any) as text, made once: the push path asks for them often.
    A plain class with slots (a frozen dataclass cost twice as much to make, per event);
    treat it as read-only."""
    __slots__ = ("event", "payload", "key", "sid")

    def __init__(self, event: protocol.Event, payload: protocol.Strict, key: str | None = None,
                 sid: str | None = None):
        """`key`, `sid`: the texts, when the caller made them already (`events.check`, for a
        whole push at once); else made here."""
        self.event, self.payload = event, payload
        self.key = str(event.id) if key is None else key
        if sid is None:
            session_id = payload.__dict__.get("session_id")
            sid = None if session_id is None else str(session_id)
        self.sid = sid

    def __eq__(self, other):
        if not isinstance(other, Accepted):
            return NotImplemented
        return self.event == other.event and self.payload == other.payload

    __hash__ = None

    def __repr__(self) -> str:
        return f"Accepted(event={self.event!r}, payload={self.payload!r})"


def server_time(event: protocol.Event, at: int) -> int:
    """A kiosk-clock time moved onto the server clock."""
    offset_ms = event.clock_offset_ms
    return at + round(offset_ms / 1000) if offset_ms else at    # (no float for a synced clock)


@dataclass(slots=True)
class _Session:
    """A sessions row as plain attributes: the push path builds hundreds, and a peewee
    instance costs several times more. Same names as `HoursSession` (checked below), so
    `_recompute` and `_add_flags` take either."""
    id: str
    vid: str
    serial: int
    station: str
    device_id: str
    check_in_at: int
    role: str = "volunteer"
    activity_id: str | None = None
    check_out_at: int | None = None
    closed_by: str | None = None
    closed_by_vid: str | None = None
    minutes: int | None = None
    kiosk_minutes: int | None = None
    flags: str = ""
    state: str = "open"

    def row(self) -> dict:
        return dict(zip(_COLUMNS, _VALUES(self)))


_COLUMNS = tuple(f.column_name for f in HoursSession._meta.sorted_fields)
_VALUES = operator.attrgetter(*_COLUMNS)
assert set(_COLUMNS) == {f.name for f in fields(_Session)}, "_Session must mirror models.HoursSession"


class _Batch:
    """Sessions touched by one batch of events, loaded once and written once."""

    def __init__(self, session_ids: set[str]):
        self.sessions = {r["id"]: _Session(**r) for r in select_in(HoursSession, "id", session_ids)}
        self.new: set[str] = set()
        self.touched: set[str] = set()
        self.deferred: set[str] = set()
        self._rules: dict = {}
        self._activities: dict = {}

    def activity(self, activity_id: str | None) -> Activity | None:
        if activity_id is None:
            return None
        if activity_id not in self._activities:
            self._activities[activity_id] = Activity.get_or_none(Activity.id == activity_id)
        return self._activities[activity_id]

    def rules(self, session: HoursSession) -> hours.HoursRules:
        key = (session.station, session.activity_id)
        if key not in self._rules:
            activity = self.activity(session.activity_id)
            self._rules[key] = rules_for(session.station, activity.rules if activity else None)
        return self._rules[key]

    def activity_end(self, session: HoursSession) -> int | None:
        activity = self.activity(session.activity_id)
        return activity.ends_at if activity else None


def _add_flags(session: HoursSession, *flags: str) -> None:
    if not session.flags:
        if not any(flags):
            return              # nothing to add to nothing (every check-in comes here)
        if len(flags) == 1:
            session.flags = flags[0]   # one flag to none (an unknown volunteer's check-in)
            return
    session.flags = ",".join(sorted(hours.split_flags(session.flags) | {f for f in flags if f}))


def _drop_flags(session: HoursSession, *flags: str) -> None:
    session.flags = ",".join(sorted(hours.split_flags(session.flags) - set(flags)))


# What a kiosk may say about its own close; every other flag is the server's to set.
_KIOSK_CLOSE_FLAGS = {hours.FLAG_AUTO_CLOSED, hours.FLAG_LATE_CHECKOUT, hours.FLAG_FUTURE_TIME}


def _time_flags(item: Accepted, at: int, received_at: int, settings: ServerSettings) -> list[str]:
    """Flags a time earns by when it reached us and by the kiosk's clock."""
    flags = []
    if received_at - at > settings.offline_after_seconds:
        flags.append(hours.FLAG_OFFLINE)
    if abs(item.event.clock_offset_ms) > settings.clock_skew_ms:
        flags.append(hours.FLAG_CLOCK_SKEW)
    if at > received_at + settings.future_tolerance_seconds:
        flags.append(hours.FLAG_FUTURE_TIME)
    return flags


# An open session's settlement by its flags' text: `hours.settle` of a session without a
# check-out depends on its flags alone (no credit, no rule applies), and every check-in
# of a push is settled open. Bounded: flags come in few combinations.
_SETTLED_OPEN: dict[str, tuple[int | None, str, str]] = {}


def _settle(batch: _Batch, session: HoursSession) -> None:
    """Credit, flags and state by the shared rules (sync.hours.settle)."""
    if session.check_out_at is None:
        known = _SETTLED_OPEN.get(session.flags)
        if known is None:
            settled = hours.settle(session.check_in_at, None, batch.rules(session), hours.split_flags(session.flags))
            known = (settled.minutes, ",".join(settled.flags), settled.state)
            if len(_SETTLED_OPEN) < 1024:
                _SETTLED_OPEN[session.flags] = known
        session.minutes, session.flags, session.state = known
        return
    settled = hours.settle(session.check_in_at, session.check_out_at, batch.rules(session),
                           hours.split_flags(session.flags))
    session.minutes, session.flags, session.state = settled.minutes, ",".join(settled.flags), settled.state


class _Apply:
    """One push's events folded into sessions: checks, then changes in memory."""

    def __init__(self, device_id: str, station: str, received_at: int, settings: ServerSettings):
        self.device_id, self.station = device_id, station
        self.received_at, self.settings = received_at, settings
        self.stations_here = _stations_at_or_above(station)

    def checkin(self, batch: _Batch, item: Accepted) -> str | None:
        p, sid = item.payload, item.sid
        if sid in batch.sessions:
            return "conflict"   # a session id is made once, by one check-in
        if p.activity_id is not None:
            activity = batch.activity(p.activity_id)
            if activity is None or (activity.station is not None and activity.station not in self.stations_here):
                return "activity_not_here"
        at = server_time(item.event, p.at)
        session = _Session(id=sid, vid=p.vid, serial=p.serial, role=p.role, station=self.station,
                           device_id=self.device_id, activity_id=p.activity_id, check_in_at=at, flags="")
        _add_flags(session, *_time_flags(item, at, self.received_at, self.settings))
        batch.sessions[sid] = session
        batch.new.add(sid)
        return None

    def _changeable(self, session: _Session) -> str | None:
        if session.station != self.station:
            return "wrong_station"
        if session.state in hours.DECIDED_STATES:
            return "already_reviewed"
        return None

    def checkout(self, batch: _Batch, item: Accepted) -> str | None:
        p = item.payload
        session = batch.sessions[str(p.session_id)]
        refusal = self._changeable(session)
        if refusal:
            return refusal
        if session.check_out_at is not None and session.closed_by != "auto":
            return "already_closed"
        at = max(server_time(item.event, p.at), session.check_in_at)
        if session.check_out_at is not None and p.closed_by in ("scan", "coordinator"):
            # Our own automatic close was a guess made while the kiosk was silent: its
            # real check-out replaces it.
            _drop_flags(session, hours.FLAG_AUTO_CLOSED)
        observed = set(p.flags) & _KIOSK_CLOSE_FLAGS
        if p.closed_by == "auto":
            observed.add(hours.FLAG_AUTO_CLOSED)
        elif p.closed_by == "late":
            observed |= {hours.FLAG_AUTO_CLOSED, hours.FLAG_LATE_CHECKOUT}
        session.check_out_at, session.closed_by, session.kiosk_minutes = at, p.closed_by, p.minutes
        session.closed_by_vid = p.by_vid
        _add_flags(session, *observed, *_time_flags(item, at, self.received_at, self.settings))
        return None

    def correction(self, batch: _Batch, item: Accepted) -> str | None:
        p = item.payload
        session = batch.sessions[str(p.session_id)]
        refusal = self._changeable(session)
        if refusal:
            return refusal
        value = server_time(item.event, p.value)
        if p.field == "check_in":
            session.check_in_at = min(value, session.check_out_at) if session.check_out_at else value
        else:
            session.check_out_at = max(value, session.check_in_at)
            session.closed_by = session.closed_by or "coordinator"
        _add_flags(session, hours.FLAG_CORRECTED, *_time_flags(item, value, self.received_at, self.settings))
        return None


_ABOVE: dict[str, tuple[float, frozenset[str]]] = {}
_ABOVE_SECONDS = 60.0   # the network changes rarely; a push should not load 1,946 sites


def forget_network() -> None:
    _ABOVE.clear()


def _stations_at_or_above(station: str) -> frozenset[str]:
    """The site codes whose activities a kiosk of `station` may check volunteers in to
    (cached a minute per station: this runs on every push)."""
    from sync.server.services.sites import ancestors
    cached = _ABOVE.get(station)
    if cached is None or cached[0] < time.monotonic():
        cached = (time.monotonic() + _ABOVE_SECONDS, frozenset({station} | {s.code for s in ancestors(station)}))
        _ABOVE[station] = cached
    return cached[1]


def _missing_before(device_id: str, seq: int) -> bool:
    """Has this device an event below `seq` that has not reached us (stored or refused)?"""
    p = db.obj.param
    received = db.execute_sql(
        f'SELECT (SELECT COUNT(*) FROM "events" WHERE "device_id" = {p} AND "seq" < {p}) + '
        f'(SELECT COUNT(DISTINCT "seq") FROM "refusals" WHERE "device_id" = {p} AND "seq" < {p})',
        (device_id, seq, device_id, seq)).fetchone()[0]
    return received < seq - 1


def apply_events(items: list[Accepted], device_id: str, station: str, received_at: int,
                 settings: ServerSettings) -> dict[str, str]:
    """Fold newly stored events into sessions; call inside the push's `writing()`.
    Returns {event id: refusal code} for the events not applied (the caller un-stores
    them); events waiting for an earlier one of their device are marked deferred."""
    relevant = [i for i in items if i.event.type in _SESSION_TYPES]
    if not relevant:
        return {}
    batch = _Batch({i.sid for i in relevant})
    refused = _fold(batch, relevant, _Apply(device_id, station, received_at, settings))

    # Deferred events of sessions that exist now: their check-in has arrived.
    waiting = _deferred_for(batch.sessions.keys() - {i.sid for i in relevant if i.key in refused})
    if waiting:
        undeferred = [w for w, its_station in waiting if w.key not in _fold(
            batch, [w], _Apply(w.event.device_id, its_station, received_at, settings))]
        # A deferred event that its check-in's arrival shows to be refused stays stored
        # and deferred: its answer ("stored") was given already; it credits nothing.
        if undeferred:
            StoredEvent.update(deferred=0).where(in_list(StoredEvent.id, {w.key for w in undeferred})).execute()

    _flag_two_stations(batch, settings)
    _flag_roster(batch)

    # Credit, then write: new sessions in one statement, changed ones in one executemany.
    for sid in batch.touched:
        _settle(batch, batch.sessions[sid])
    insert_ignoring_duplicates(HoursSession, [_VALUES(batch.sessions[sid]) for sid in batch.new], columns=_COLUMNS)
    update_many(HoursSession, "id", [c for c in _COLUMNS if c != "id"],
                [batch.sessions[sid].row() for sid in batch.touched - batch.new])
    # The volunteers whose credit changed: their kiosks get the city's figures (services.totals).
    from sync.server.services import totals
    totals.publish({batch.sessions[sid].vid for sid in batch.touched | batch.new
                    if batch.sessions[sid].state != hours.STATE_OPEN})
    return refused


_SESSION_TYPES = ("checkin", "checkout", "correction")


def _fold(batch: _Batch, items: list[Accepted], apply: _Apply) -> dict[str, str]:
    """Apply events in device sequence order; return the refusals."""
    refused: dict[str, str] = {}
    for item in sorted(items, key=lambda i: i.event.seq):
        key, sid = item.key, item.sid
        if item.event.type == "checkin":
            code = apply.checkin(batch, item)
        elif sid not in batch.sessions:
            if _missing_before(item.event.device_id, item.event.seq):
                batch.deferred.add(key)   # its check-in is still on the way
                continue
            code = "unknown_session"
        else:
            code = apply.checkout(batch, item) if item.event.type == "checkout" else apply.correction(batch, item)
        if code:
            refused[key] = code
        else:
            batch.touched.add(sid)
    if batch.deferred:
        StoredEvent.update(deferred=1).where(in_list(StoredEvent.id, batch.deferred)).execute()
        batch.deferred.clear()
    return refused


def _deferred_for(session_ids) -> list[tuple[Accepted, str]]:
    """Stored events waiting for these sessions, parsed again, with their device's station."""
    if not session_ids:
        return []
    # Hand-built (select_in): this runs on every push, and mostly finds nothing.
    # "deferred" = 1 as a literal: the partial index (models.StoredEvent) serves that term only.
    rows = sorted(select_in(StoredEvent, "session_id", set(session_ids), '"deferred" = 1'),
                  key=lambda row: row["seq"])
    waiting = []
    for row in rows:
        event = protocol.Event(id=row["id"], device_id=row["device_id"], seq=row["seq"], type=row["type"],
                               device_time=row["device_time"], clock_offset_ms=row["clock_offset_ms"],
                               payload=json.loads(row["payload"]))
        waiting.append((Accepted(event, protocol.PAYLOAD_MODELS[row["type"]].model_validate(event.payload)),
                        row["station"]))
    return waiting


def _flag_two_stations(batch: _Batch, settings: ServerSettings) -> None:
    """The same volunteer checked in at another station close in time: flag both."""
    checkins = [batch.sessions[s] for s in batch.new]
    if not checkins:
        return
    window = settings.two_stations_seconds
    others = [_Session(**r) for r in select_in(
        HoursSession, "vid", {s.vid for s in checkins}, f'"check_in_at" BETWEEN {db.obj.param} AND {db.obj.param}',
        (min(s.check_in_at for s in checkins) - window, max(s.check_in_at for s in checkins) + window))]
    if not others and len({s.station for s in checkins}) == 1:
        return      # no session at another station to pair with (a push's usual case)
    by_vid: dict[str, dict[str, _Session]] = {}
    for candidate in [*(batch.sessions.get(o.id, o) for o in others), *checkins]:
        by_vid.setdefault(candidate.vid, {}).setdefault(candidate.id, candidate)
    for session in checkins:
        for other in list(by_vid[session.vid].values()):
            if other.station != session.station and abs(other.check_in_at - session.check_in_at) <= window:
                _add_flags(session, hours.FLAG_TWO_STATIONS)
                _add_flags(other, hours.FLAG_TWO_STATIONS)
                batch.sessions.setdefault(other.id, other)
                batch.touched.add(other.id)


def _flag_roster(batch: _Batch) -> None:
    """New sessions of a number on no roster, or of a badge revoked before the scan."""
    new = [batch.sessions[s] for s in batch.new]
    if not new:
        return
    known = {r["vid"] for r in select_in(Volunteer, "vid", {s.vid for s in new})}
    revoked = {r["serial"]: r["revoked_at"] for r in select_in(Revocation, "serial", {s.serial for s in new})}
    # Badges the center issued (those made with `weiguang badge issue` alone are not in this
    # table): a serial of someone else's, or not among this volunteer's, is a forged claim.
    issued = select_in(Badge, "serial", {s.serial for s in new}) + select_in(Badge, "vid", {s.vid for s in new})
    owner = {r["serial"]: r["vid"] for r in issued}
    has_badges = {r["vid"] for r in issued}
    for session in new:
        if session.vid not in known:
            _add_flags(session, hours.FLAG_UNKNOWN_VOLUNTEER)
        if session.serial in revoked and revoked[session.serial] <= session.check_in_at:
            _add_flags(session, hours.FLAG_REVOKED_BADGE)
        if owner.get(session.serial, session.vid) != session.vid or \
                (session.vid in has_badges and session.serial not in owner):
            _add_flags(session, hours.FLAG_BADGE_MISMATCH)
        batch.touched.add(session.id)


def close_overdue(now: float | None = None) -> int:
    """Close, flagged auto_closed (so: for review), every open session past its activity's
    end plus grace (or station duty's maximum) whose kiosk never reported a check-out."""
    now = int(time.time() if now is None else now)
    closed = 0
    with writing():
        batch, vids = _Batch(set()), set()
        for session in HoursSession.select().where(HoursSession.check_out_at.is_null()):
            due = hours.auto_close_at(session.check_in_at, batch.activity_end(session), batch.rules(session))
            if now >= due:
                session.check_out_at, session.closed_by = due, "auto"
                _add_flags(session, hours.FLAG_AUTO_CLOSED)
                _settle(batch, session)
                session.save()
                closed += 1
                vids.add(session.vid)
        from sync.server.services import totals
        totals.publish(vids)
    return closed


def sessions_of(vid: str) -> list[HoursSession]:
    with reading():
        return list(HoursSession.select().where(HoursSession.vid == vid).order_by(HoursSession.check_in_at))
