"""Hour review: the sessions that need a person, for a coordinator's subtree, and their
decisions. Totals count closed, approved and adjusted sessions only.

    >>> queue(scope, site="WBY")["items"]                        # state "review", oldest first
    >>> decide(scope, "3f2…", "approve", actor="li")
    >>> decide(scope, "3f2…", "adjust", minutes=90, reason="签退忘扫", actor="li")
    >>> decide_many(scope, ["3f2…", "9ab…"], "reject", reason="重复记录", actor="li")

A decision sets the session's state (approve: approved, minutes kept; adjust: adjusted,
minutes set; reject: rejected), writes one audit row (before, after, reason) and
publishes a "session" change ({"id", "state", "minutes"}) to the kiosks of the session's
station, all in one transaction. The session states themselves are made by
`services.sessions` (keep REVIEWABLE in step with its states).
"""

from __future__ import annotations

from peewee import fn

from sync.server.db import reading, writing
from sync.server.models import Activity, HoursSession, Volunteer
from sync.server.services import ServiceError, audit, sites
from sync.server.services.changes import append_changes
from sync.server.services.scope import Scope, not_found, site_in

ACTIONS = {"approve": "approved", "adjust": "adjusted", "reject": "rejected"}
# "flagged", the name before the review states landed, is renamed "review" by migration
# 0002 and never written since; one state lets the queue be read in order from an index.
WAITING = ("review",)
DECIDED = ("approved", "adjusted", "rejected")
REVIEWABLE = WAITING + DECIDED           # a decision may be changed; open/closed ones are not for review
COUNTED = ("closed", "approved", "adjusted")
MAX_MINUTES = 24 * 60
MAX_BULK = 500


def _flags(text: str) -> list[str]:
    return [f for f in (text or "").split(",") if f]


def _item(s: HoursSession, names: dict, stations: dict, titles: dict) -> dict:
    return {"session_id": s.id, "vid": s.vid, "name": names.get(s.vid, ""), "station": s.station,
            "station_name": stations.get(s.station, ""), "activity_id": s.activity_id,
            "activity": titles.get(s.activity_id, "") if s.activity_id else "",
            "check_in_at": s.check_in_at, "check_out_at": s.check_out_at, "minutes": s.minutes,
            "kiosk_minutes": s.kiosk_minutes, "flags": _flags(s.flags), "state": s.state}


def _describe(rows: list[HoursSession]) -> list[dict]:
    vids = list({r.vid for r in rows})
    activities = list({r.activity_id for r in rows if r.activity_id})
    names = dict(Volunteer.select(Volunteer.vid, Volunteer.name).where(Volunteer.vid.in_(vids)).tuples()) if vids else {}
    stations = {code: site.name for code, site in sites.all_sites().items()}
    titles = dict(Activity.select(Activity.id, Activity.title).where(Activity.id.in_(activities)).tuples()) \
        if activities else {}
    return [_item(r, names, stations, titles) for r in rows]


def queue(scope: Scope, site: str | None = None, states: tuple[str, ...] = WAITING, limit: int = 100,
          offset: int = 0) -> dict:
    """Sessions waiting for a decision in `site`'s subtree (default: the whole scope)."""
    scope.require("read")
    codes = scope.sites_under(site)
    limit = max(1, min(int(limit), MAX_BULK))
    states = list(states)
    with reading():
        query = HoursSession.select(HoursSession.id).where(
            HoursSession.state == states[0] if len(states) == 1 else HoursSession.state.in_(states))
        if codes is not None and not scope.whole_network(codes):   # every session has a station
            query = query.where(site_in(HoursSession.station, codes))
        total = query.count()
        # The page's ids from the index alone (state or station, state, check_in_at, id),
        # then those rows: not every waiting session of a city read and sorted for 100.
        ids = [i for (i,) in query.order_by(HoursSession.check_in_at, HoursSession.id)
               .limit(limit).offset(max(0, offset)).tuples()]
        found = {r.id: r for r in HoursSession.select().where(HoursSession.id.in_(ids))} if ids else {}
        rows = [found[i] for i in ids if i in found]
        return {"items": _describe(rows), "total": total, "limit": limit, "offset": offset}


def session(scope: Scope, session_id: str) -> dict:
    """One session as a queue item (whatever its state)."""
    with reading():
        row = HoursSession.get_or_none(HoursSession.id == session_id)
        if row is None or not scope.contains(row.station):
            raise not_found("session")
        return _describe([row])[0]


def _checked(action: str, minutes, reason: str) -> tuple[str, int | None, str]:
    if action not in ACTIONS:
        raise ServiceError("bad_decision", f"action must be one of {', '.join(ACTIONS)}")
    reason = (reason or "").strip()
    if action in ("adjust", "reject") and not reason:
        raise ServiceError("reason_required", f"a reason is required to {action}")
    if len(reason) > 500:
        raise ServiceError("bad_decision", "the reason is longer than 500 characters")
    if action == "adjust":
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= MAX_MINUTES:
            raise ServiceError("bad_decision", f"adjust needs minutes, a whole number from 0 to {MAX_MINUTES}")
    return action, minutes, reason


def _apply(scope: Scope, session: HoursSession, action: str, minutes: int | None, reason: str, actor: str) -> dict:
    if session.state not in REVIEWABLE:
        raise ServiceError("not_in_review", f"session {session.id} is {session.state}, not waiting for review")
    state = ACTIONS[action]
    new_minutes = minutes if action == "adjust" else session.minutes
    before = {"state": session.state, "minutes": session.minutes}
    HoursSession.update(state=state, minutes=new_minutes).where(HoursSession.id == session.id).execute()
    after = {"state": state, "minutes": new_minutes}
    audit.record(actor, f"session.{action}", "session", session.id, site=session.station, before=before,
                 after=after, reason=reason)
    return {"id": session.id, **after}


def decide_many(scope: Scope, session_ids: list[str], action: str, minutes: int | None = None,
                reason: str = "", actor: str = "") -> list[dict]:
    """The same decision for each session, in one transaction: all or none (a session
    outside the scope is not_found, one not waiting for review refuses the batch)."""
    scope.require("manage")
    action, minutes, reason = _checked(action, minutes, reason)
    ids = list(dict.fromkeys(str(i) for i in session_ids))
    if not ids or len(ids) > MAX_BULK:
        raise ServiceError("bad_decision", f"give 1 to {MAX_BULK} sessions")
    with writing():
        rows = {s.id: s for s in HoursSession.select().where(HoursSession.id.in_(ids))}
        for sid in ids:
            if sid not in rows or not scope.contains(rows[sid].station):
                raise not_found("session")
        decided = [_apply(scope, rows[sid], action, minutes, reason, actor) for sid in ids]
        append_changes([("session", d["id"], d, rows[d["id"]].station) for d in decided])
        from sync.server.services import totals
        totals.publish({rows[d["id"]].vid for d in decided})
    return decided


def decide(scope: Scope, session_id: str, action: str, minutes: int | None = None, reason: str = "",
           actor: str = "") -> dict:
    """One decision; returns {"id", "state", "minutes"}."""
    return decide_many(scope, [session_id], action, minutes, reason, actor)[0]


def credited_minutes(scope: Scope, vid: str) -> int:
    """A volunteer's confirmed minutes (closed, approved, adjusted), at the sites of the scope."""
    with reading():
        return int(HoursSession.select(fn.COALESCE(fn.SUM(HoursSession.minutes), 0))
                   .where((HoursSession.vid == vid) & HoursSession.state.in_(COUNTED)
                          & scope.where(HoursSession.station)).scalar() or 0)
