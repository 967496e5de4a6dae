"""The city's figures for a volunteer, sent to the kiosks of their station so a check-out
shows the volunteer's real totals, not what one kiosk recorded.

    >>> figures(["14020200001"])["14020200001"]
    {"year": 2026, "year_minutes": 5400, "year_pending_minutes": 120, "total_minutes": 9000}
    >>> publish({"14020200001"})      # inside the writing() that changed their sessions

`publish` appends a "volunteer" change (the roster row: name, team, role, plus these
figures) for each volunteer on a station's roster; it is called where a session's credit
or state changes at the center: events applied (`sessions.apply_events`), automatic
closes, review decisions. Confirmed minutes are `sync.hours.COUNTED_STATES`; pending are
those waiting for review. The year is the calendar year in UTC+8 (China).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from peewee import Case, fn

from sync.hours import COUNTED_STATES, STATE_REVIEW
from sync.server.models import HoursSession, Volunteer

TZ = timezone(timedelta(hours=8))


def _year_start(now: float) -> tuple[int, int]:
    year = datetime.fromtimestamp(now, TZ).year
    return year, int(datetime(year, 1, 1, tzinfo=TZ).timestamp())


def figures(vids, now: float | None = None) -> dict[str, dict]:
    """{vid: {"year", "year_minutes", "year_pending_minutes", "total_minutes"}}; call inside reading()/writing()."""
    year, start = _year_start(time.time() if now is None else now)
    vids = sorted(set(vids))
    counted = HoursSession.state.in_(COUNTED_STATES)
    this_year = HoursSession.check_in_at >= start
    out = {v: {"year": year, "year_minutes": 0, "year_pending_minutes": 0, "total_minutes": 0} for v in vids}
    for i in range(0, len(vids), 500):
        query = (HoursSession.select(
            HoursSession.vid,
            fn.SUM(Case(None, [(counted, HoursSession.minutes)], 0)),
            fn.SUM(Case(None, [(counted & this_year, HoursSession.minutes)], 0)),
            fn.SUM(Case(None, [((HoursSession.state == STATE_REVIEW) & this_year, HoursSession.minutes)], 0)))
            .where(HoursSession.vid.in_(vids[i:i + 500])).group_by(HoursSession.vid))
        for vid, total, year_minutes, pending in query.tuples():
            out[vid].update(total_minutes=int(total or 0), year_minutes=int(year_minutes or 0),
                            year_pending_minutes=int(pending or 0))
    return out


def publish(vids, now: float | None = None) -> int:
    """Send the current figures of these volunteers (those on a roster) to their station's
    kiosks; call inside the `writing()` that changed their sessions. Returns how many."""
    from sync.server.services.changes import append_changes
    vids = sorted({v for v in vids if v})
    if not vids:
        return 0
    people = []
    for i in range(0, len(vids), 500):
        people += list(Volunteer.select(Volunteer.vid, Volunteer.name, Volunteer.team, Volunteer.role,
                                        Volunteer.station)
                       .where(Volunteer.vid.in_(vids[i:i + 500]) & Volunteer.station.is_null(False)))
    if not people:
        return 0
    numbers = figures([p.vid for p in people], now)
    append_changes([("volunteer", p.vid, {"name": p.name, "team": p.team, "role": p.role, **numbers[p.vid]},
                     p.station) for p in people])
    return len(people)
