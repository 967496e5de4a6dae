"""Server-side hours: sessions rebuilt from check-in / check-out / correction events with
the same rules as the kiosk (`sync.hours`); the minutes computed here are authoritative.

`apply_events` runs inside the push transaction for the events just stored (each event
once: duplicates never reach it). Kiosk times are put on the server clock with the
event's `clock_offset_ms`. Beyond the rule flags (capped, below_minimum) a session is
flagged for review when:

    recorded_offline  an event of it reached the server > settings.offline_after_seconds late
    clock_skew        the kiosk clock was off by more than settings.clock_skew_ms
    auto_closed       nobody scanned out (closed by the kiosk's rule or by `close_overdue`)
    two_stations      the same volunteer checked in at another station within
                      settings.two_stations_seconds
    corrected         a coordinator changed a time

A session with any flag has state "flagged", else "open" or "closed".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields

from sync import hours, protocol
from sync.server.db import insert_ignoring_duplicates, reading, select_in, update_many, writing
from sync.server.models import Activity, HoursSession, db
from sync.server.services.changes import rules_for
from sync.server.settings import ServerSettings

# Recomputed from the times on every change; every other flag, once set, stays.
_COMPUTED_FLAGS = {hours.FLAG_CAPPED, hours.FLAG_BELOW_MINIMUM}


@dataclass(frozen=True)
class Accepted:
    """An event that passed validation, with its payload parsed."""
    event: protocol.Event
    payload: protocol.Strict


def server_time(event: protocol.Event, at: int) -> int:
    """A kiosk-clock time moved onto the server clock."""
    return at + round(event.clock_offset_ms / 1000)


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
    minutes: int | None = None
    kiosk_minutes: int | None = None
    flags: str = ""
    state: str = "open"

    def row(self) -> dict:
        return {c: getattr(self, c) for c in _COLUMNS}


_COLUMNS = tuple(f.column_name for f in HoursSession._meta.sorted_fields)
assert set(_COLUMNS) == {f.name for f in fields(_Session)}, "_Session must mirror models.HoursSession"


class _Batch:
    """Sessions touched by one batch of events, loaded once and written once."""

    def __init__(self, session_ids: set[str]):
        self.sessions = {r["id"]: _Session(**r) for r in select_in(HoursSession, "id", session_ids)}
        self.new: set[str] = set()
        self.touched: set[str] = set()
        self._rules: dict = {}

    def rules(self, session: HoursSession) -> hours.HoursRules:
        key = (session.station, session.activity_id)
        if key not in self._rules:
            activity = Activity.get_or_none(Activity.id == session.activity_id) if session.activity_id else None
            self._rules[key] = rules_for(session.station, activity.rules if activity else None)
        return self._rules[key]

    def activity_end(self, session: HoursSession) -> int | None:
        activity = Activity.get_or_none(Activity.id == session.activity_id) if session.activity_id else None
        return activity.ends_at if activity else None


def _add_flags(session: HoursSession, *flags: str) -> None:
    current = {f for f in session.flags.split(",") if f}
    session.flags = ",".join(sorted(current | {f for f in flags if f}))


def _review_flags(item: Accepted, at: int, received_at: int, settings: ServerSettings) -> list[str]:
    flags = []
    if received_at - at > settings.offline_after_seconds:
        flags.append(hours.FLAG_OFFLINE)
    if abs(item.event.clock_offset_ms) > settings.clock_skew_ms:
        flags.append(hours.FLAG_CLOCK_SKEW)
    return flags


def _recompute(batch: _Batch, session: HoursSession) -> None:
    """Credit and state from the session's times and its sticky flags (keep in step with
    kiosk.attendance._close, which credits the same way for the screen)."""
    sticky = tuple(sorted({f for f in session.flags.split(",") if f} - _COMPUTED_FLAGS))
    if session.check_out_at is None:
        session.minutes, session.flags = None, ",".join(sticky)
    else:
        credit = hours.credit(session.check_in_at, session.check_out_at, batch.rules(session), sticky)
        session.minutes, session.flags = credit.minutes, ",".join(sorted(set(credit.flags)))
    session.state = "flagged" if session.flags else "open" if session.check_out_at is None else "closed"


def apply_events(items: list[Accepted], device_id: str, station: str, received_at: int,
                 settings: ServerSettings) -> None:
    """Fold newly stored events into sessions; call inside the push's `writing()`."""
    relevant = [i for i in items if i.event.type in ("checkin", "checkout", "correction")]
    if not relevant:
        return
    batch = _Batch({str(i.payload.session_id) for i in relevant})
    # 1. Each event in device order changes its session in memory.
    for item in sorted(relevant, key=lambda i: i.event.seq):
        p, sid = item.payload, str(item.payload.session_id)
        if item.event.type == "checkin":
            if sid in batch.sessions:
                continue  # the same session id twice: the first check-in stands
            at = server_time(item.event, p.at)
            session = _Session(id=sid, vid=p.vid, serial=p.serial, role=p.role, station=station,
                                   device_id=device_id, activity_id=p.activity_id, check_in_at=at, flags="")
            batch.sessions[sid] = session
            batch.new.add(sid)
            _add_flags(session, *_review_flags(item, at, received_at, settings))
        elif sid in batch.sessions:  # push() refused checkouts/corrections of unknown sessions
            session = batch.sessions[sid]
            if item.event.type == "checkout":
                at = max(server_time(item.event, p.at), session.check_in_at)
                session.check_out_at, session.closed_by, session.kiosk_minutes = at, p.closed_by, p.minutes
                auto = p.closed_by == "auto" or hours.FLAG_AUTO_CLOSED in p.flags
                _add_flags(session, *_review_flags(item, at, received_at, settings),
                           hours.FLAG_AUTO_CLOSED if auto else "")
            else:
                value = server_time(item.event, p.value)
                if p.field == "check_in":
                    session.check_in_at = value
                else:
                    session.check_out_at = max(value, session.check_in_at)
                _add_flags(session, hours.FLAG_CORRECTED, *_review_flags(item, value, received_at, settings))
        batch.touched.add(sid)

    # 2. The same volunteer checked in at another station close in time: flag both.
    checkins = [batch.sessions[s] for s in batch.new]
    if checkins:
        window = settings.two_stations_seconds
        others = [_Session(**r) for r in select_in(
            HoursSession, "vid", {s.vid for s in checkins}, f'"check_in_at" BETWEEN {db.obj.param} AND {db.obj.param}',
            (min(s.check_in_at for s in checkins) - window, max(s.check_in_at for s in checkins) + window))]
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

    # 3. Credit, then write: new sessions in one statement, changed ones in one executemany.
    for sid in batch.touched:
        _recompute(batch, batch.sessions[sid])
    rows = {sid: batch.sessions[sid].row() for sid in batch.touched | batch.new}
    insert_ignoring_duplicates(HoursSession, [rows[sid] for sid in batch.new])
    update_many(HoursSession, "id", [c for c in _COLUMNS if c != "id"], [rows[sid] for sid in batch.touched - batch.new])


def close_overdue(now: float | None = None) -> int:
    """Close, flagged auto_closed, every open session past its activity's end plus grace
    (or station duty's maximum) whose kiosk never reported a check-out; return how many."""
    now = int(time.time() if now is None else now)
    closed = 0
    with writing():
        batch = _Batch(set())
        for session in HoursSession.select().where(HoursSession.check_out_at.is_null()):
            due = hours.auto_close_at(session.check_in_at, batch.activity_end(session), batch.rules(session))
            if now >= due:
                session.check_out_at, session.closed_by = due, "auto"
                _add_flags(session, hours.FLAG_AUTO_CLOSED)
                _recompute(batch, session)
                session.save()
                closed += 1
    return closed


def sessions_of(vid: str) -> list[HoursSession]:
    with reading():
        return list(HoursSession.select().where(HoursSession.vid == vid).order_by(HoursSession.check_in_at))
