"""Service requests through their life (点单 → 审单 → 派单 → 接单 → 评单): one state machine.

    submitted ─review─▶ reviewed ─dispatch(team)─▶ dispatched ─accept─▶ accepted ─complete─▶ completed
        │                  │  ▲                        │                    ▲                 │
        └─reject─▶ rejected│  └──decline / time-out────┘                    │            rate │
                           └─open─▶ open (抢单: the area's teams) ─grab──────┘                 ▼
                                                                               closed ◀─close─ rated

    >>> act(scope, request_id, "review", actor="li")
    >>> act(scope, request_id, "dispatch", actor="li", team=3)
    >>> act(lead_scope, request_id, "accept", actor="wang")          # a team leader of team 3
    >>> act(lead_scope, request_id, "complete", actor="wang", report="修好了", minutes=60, volunteers=["1402…"])
    >>> rate(number, last4, rating=5, comments=["准时"])              # the resident, by number + 4 digits
    >>> expire_dispatches(now)                                       # time-out: back to dispatch
    >>> close_stale(now)                # completed or rated, untouched 14 days: closed ("system")

Every transition is one conditional UPDATE (``WHERE id = ? AND state IN (…)``): of two
teams grabbing an open request at once exactly one changes a row, the other is refused
``already_taken``. A transition writes a `RequestTransition` row (who, when, team, note)
and an audit row in the same transaction. An action not allowed from the current state is
refused ``illegal_transition`` (409), whatever the actor may otherwise do.

Who may act: coordinators (permission "manage") of a site above or at the request's
station review, reject, dispatch, open and close; the leader of the holding team
(User.team) accepts, declines and completes; a leader of a team of the area (the
station's site or one above it) grabs an open request. Outside that the request does not
exist for them (not_found).

Phone numbers: whole to the holding team's leader and to coordinators whose own site is
the request's station, masked (138****8000) to everyone else (`phone_for`).
"""

from __future__ import annotations

import time
import uuid

from peewee import fn

from sync import service_menu
from sync.hours import STATE_REVIEW
from sync.server.db import reading, writing
from sync.server.models import HoursSession, RequestTransition, ServiceRequest, Site, Team, User, Volunteer
from sync.server.services import ServiceError, audit, sites
from sync.server.services.changes import append_changes
from sync.server.services.scope import Scope, not_found

SUBMITTED, REVIEWED, REJECTED, DISPATCHED, OPEN = "submitted", "reviewed", "rejected", "dispatched", "open"
ACCEPTED, COMPLETED, RATED, CLOSED = "accepted", "completed", "rated", "closed"
STATES = (SUBMITTED, REVIEWED, DISPATCHED, OPEN, ACCEPTED, COMPLETED, RATED, CLOSED, REJECTED)
FINAL = (CLOSED, REJECTED)

# action: (the states it may start from, the state it leads to, who does it)
ACTIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "review": ((SUBMITTED,), REVIEWED, "coordinator"),
    "reject": ((SUBMITTED, REVIEWED), REJECTED, "coordinator"),
    "dispatch": ((REVIEWED,), DISPATCHED, "coordinator"),
    "open": ((REVIEWED,), OPEN, "coordinator"),
    "accept": ((DISPATCHED,), ACCEPTED, "team"),
    "decline": ((DISPATCHED,), REVIEWED, "team"),
    "grab": ((OPEN,), ACCEPTED, "area_team"),
    "complete": ((ACCEPTED,), COMPLETED, "team"),
    "rate": ((COMPLETED,), RATED, "resident"),
    "close": ((COMPLETED, RATED), CLOSED, "coordinator"),
    "expire": ((DISPATCHED,), REVIEWED, "system"),
}
DISPATCH_TIMEOUT_SECONDS = 4 * 3600       # a dispatched request nobody accepted goes back
PHONE_RETENTION_SECONDS = 30 * 86400      # the phone number is erased this long after closing
AUTO_CLOSE_SECONDS = 14 * 86400           # completed or rated, untouched this long: closed by the system
MAX_TEXT = 500
MAX_MINUTES = 24 * 60
COMMENTS = service_menu.RATING_COMMENTS


def now_s() -> int:
    return int(time.time())


def mask(phone: str) -> str:
    """138****8000: the first three and last four digits."""
    digits = phone or ""
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "****" + digits[-4:]


def team_of(scope: Scope) -> int | None:
    """A team leader's team (None for any other account, or a leader without one)."""
    if scope.role != "team_leader":
        return None
    with reading():
        user = User.get_or_none(User.username == scope.username)
    return user.team if user is not None else None


def area_sites(station: str) -> set[str]:
    """The station and the sites above it: whose teams may take its open requests."""
    return {station, *(s.code for s in sites.ancestors(station))}


def phone_for(scope: Scope, row: ServiceRequest, team: int | None = "?") -> str:
    if not row.phone:
        return ""
    team = team_of(scope) if team == "?" else team
    if team is not None and row.team == team and row.state in (DISPATCHED, ACCEPTED, COMPLETED):
        return row.phone
    if scope.can("manage") and scope.site == row.station:
        return row.phone
    return mask(row.phone)


def set_team(username: str, team_id: int | None, actor: str = "cli") -> None:
    """Make a team leader the leader of `team_id` (a team of their site's subtree)."""
    with writing():
        user = User.get_or_none(User.username == username)
        if user is None:
            raise not_found("user")
        if team_id is not None:
            team = Team.get_or_none(Team.id == team_id)
            if team is None or (user.site is not None and team.site not in sites.subtree(user.site)):
                raise not_found("team")
        User.update(team=team_id).where(User.username == username).execute()
        audit.record(actor, "user.team", "user", username, site=user.site, before={"team": user.team},
                     after={"team": team_id})


# --- reading ------------------------------------------------------------------------------

def _visible(scope: Scope, row: ServiceRequest, team: int | None) -> bool:
    if scope.role == "team_leader":
        if team is None:
            return False
        if row.team == team:
            return True
        return row.state == OPEN and _team_site(team) in area_sites(row.station)
    return scope.contains(row.station)


def _team_site(team_id: int) -> str | None:
    with reading():
        team = Team.get_or_none(Team.id == team_id)
    return team.site if team else None


def describe(scope: Scope, rows: list[ServiceRequest], team: int | None = "?") -> list[dict]:
    team = team_of(scope) if team == "?" else team
    with reading():
        names = {t.id: t.name for t in Team.select()}
        stations = dict(Site.select(Site.code, Site.name).tuples())
    return [{"id": r.id, "number": r.number, "station": r.station, "station_name": stations.get(r.station, ""),
             "service": r.service, "note": r.note, "details": r.details or "", "phone": phone_for(scope, r, team),
             "state": r.state, "team": r.team, "team_name": names.get(r.team, "") if r.team else "",
             "created_at": r.created_at, "updated_at": r.updated_at, "dispatched_at": r.dispatched_at,
             "reason": r.reason or "", "report": r.report or "", "minutes": r.minutes,
             "volunteers": [v for v in (r.volunteers or "").split(",") if v], "rating": r.rating,
             "comments": [c for c in (r.comments or "").split(",") if c], "closed_at": r.closed_at}
            for r in rows]


def queue(scope: Scope, state: str | None = None, site: str | None = None, limit: int = 100,
          offset: int = 0, now: int | None = None) -> dict:
    """Requests in `site`'s subtree (default: the whole scope), by state; counts per state.
    A team leader sees their team's requests and the open ones of their area."""
    scope.require("read")
    expire_dispatches(now)
    close_stale(now)
    erase_phones(now)
    if state is not None and state not in STATES:
        raise ServiceError("bad_state", f"state must be one of {', '.join(STATES)}")
    limit = max(1, min(int(limit), 500))
    team = team_of(scope)
    with reading():
        query = ServiceRequest.select()
        if scope.role == "team_leader":
            if team is None:
                query = query.where(ServiceRequest.id == "")
            else:
                area = [code for code in (sites.subtree(_team_site(team) or "") or [])]
                query = query.where((ServiceRequest.team == team)
                                    | ((ServiceRequest.state == OPEN) & ServiceRequest.station.in_(area or [""])))
        else:
            codes = scope.sites_under(site)
            if codes is not None:
                query = query.where(ServiceRequest.station.in_(sorted(codes)))
        counts = {s: 0 for s in STATES}
        for s, n in (query.select(ServiceRequest.state, fn.COUNT(ServiceRequest.id))
                     .group_by(ServiceRequest.state).tuples()):
            counts[s if s in counts else SUBMITTED] = counts.get(s, 0) + n
        if state is not None:
            query = query.where(ServiceRequest.state == state)
        total = query.count()
        rows = list(query.order_by(ServiceRequest.created_at, ServiceRequest.id).limit(limit).offset(max(0, offset)))
    return {"items": describe(scope, rows, team), "counts": counts, "total": total, "limit": limit,
            "offset": offset, "state": state}


def get(scope: Scope, request_id: str) -> dict:
    """One request with its transitions (not_found outside the scope)."""
    scope.require("read")
    team = team_of(scope)
    with reading():
        row = ServiceRequest.get_or_none(ServiceRequest.id == request_id)
        if row is None or not _visible(scope, row, team):
            raise not_found("request")
        steps = [{"from": t.from_state, "to": t.to_state, "action": t.action, "actor": t.actor, "team": t.team,
                  "note": t.note, "at": t.at}
                 for t in RequestTransition.select().where(RequestTransition.request_id == request_id)
                 .order_by(RequestTransition.id)]
    return {**describe(scope, [row], team)[0], "transitions": steps}


def teams_for(scope: Scope, request_id: str) -> list[dict]:
    """The teams a request may be dispatched to: those of its station and the sites above."""
    row = _row_in_scope(scope, request_id)
    with reading():
        return [{"id": t.id, "name": t.name, "site": t.site}
                for t in Team.select().where(Team.site.in_(sorted(area_sites(row.station)))).order_by(Team.name)]


def _taken_in_my_area(scope: Scope, request_id: str) -> bool:
    my_team = team_of(scope)
    with reading():
        row = ServiceRequest.get_or_none(ServiceRequest.id == request_id)
        grabbed = row is not None and RequestTransition.select().where(
            (RequestTransition.request_id == row.id) & (RequestTransition.action == "grab")).exists()
    return (grabbed and my_team is not None and row.team != my_team and row.state == ACCEPTED
            and _team_site(my_team) in area_sites(row.station))


def _row_in_scope(scope: Scope, request_id: str) -> ServiceRequest:
    with reading():
        row = ServiceRequest.get_or_none(ServiceRequest.id == request_id)
    if row is None or not _visible(scope, row, team_of(scope)):
        raise not_found("request")
    return row


# --- moving -------------------------------------------------------------------------------

def _text(value: str | None, what: str, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ServiceError("reason_required", f"a {what} is required")
    if len(value) > MAX_TEXT or any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ServiceError("bad_request_text", f"the {what} is at most {MAX_TEXT} characters")
    return value


def _move(row: ServiceRequest, action: str, actor: str, changes: dict, note: str = "",
          extra_where=None, at: int | None = None) -> dict:
    """The conditional UPDATE, its transition row and audit row; inside `writing()`."""
    starts, target, _who = ACTIONS[action]
    at = now_s() if at is None else at
    where = (ServiceRequest.id == row.id) & ServiceRequest.state.in_(list(starts))
    if extra_where is not None:
        where &= extra_where
    changed = ServiceRequest.update(state=target, updated_at=at, **changes).where(where).execute()
    if changed != 1:
        current = ServiceRequest.get_by_id(row.id)
        if action == "grab" and current.state == ACCEPTED:
            raise ServiceError("already_taken", f"request {row.number} was taken by another team")
        raise ServiceError("illegal_transition",
                           f"cannot {action} request {row.number}: it is {current.state}")
    team = changes.get("team", row.team)
    RequestTransition.create(request_id=row.id, from_state=row.state, to_state=target, action=action, actor=actor,
                             team=team, note=note, at=at)
    audit.record(actor, f"request.{action}", "service_request", row.id, site=row.station,
                 before={"state": row.state, "team": row.team}, after={"state": target, "team": team},
                 reason=note)
    publish_state(row, target)
    return {"id": row.id, "number": row.number, "state": target, "team": team}


def publish_state(row: ServiceRequest, state: str) -> None:
    """The request's state to the kiosks of its station (change kind "request_state"), with
    the check a kiosk compares with what the resident types; inside `writing()`."""
    check = service_menu.check(row.number, row.phone[-4:]) if row.phone and len(row.phone) >= 4 else None
    append_changes([("request_state", row.number, {"number": row.number, "service": row.service, "state": state,
                                                   "check": check}, row.station)])


def act(scope: Scope, request_id: str, action: str, actor: str = "", team: int | None = None,
        reason: str = "", report: str = "", minutes: int | None = None, volunteers: list[str] | None = None,
        now: int | None = None) -> dict:
    """One transition by a person at the desk or a team leader; see the module's doc."""
    if action not in ACTIONS or ACTIONS[action][2] in ("resident", "system"):
        raise ServiceError("bad_action", "action must be one of review, reject, dispatch, open, accept, "
                                         "decline, grab, complete, close")
    scope.require("read")
    try:
        row = _row_in_scope(scope, request_id)
    except ServiceError:
        # A grab that lost the race: the request left "open" (so this team leader no longer
        # sees it) an instant ago. Said as such, not as a request that never existed.
        if action == "grab" and _taken_in_my_area(scope, request_id):
            raise ServiceError("already_taken", "this request was taken by another team") from None
        raise
    starts, _target, who = ACTIONS[action]
    my_team = team_of(scope)
    if who == "coordinator":
        if scope.role == "team_leader" or not scope.contains(row.station):
            raise not_found("request") if not scope.contains(row.station) else \
                ServiceError("forbidden", "only coordinators of the request's site may do this")
        scope.require("manage")
    elif who == "team":
        if my_team is None or row.team != my_team:
            raise ServiceError("forbidden", "only the leader of the team holding the request may do this")
    elif who == "area_team":
        if my_team is None or _team_site(my_team) not in area_sites(row.station):
            raise ServiceError("forbidden", "only a leader of a team of the request's area may take it")
    at = now_s() if now is None else now
    changes: dict = {}
    note = ""
    extra = None
    # The state is checked before the arguments: an illegal transition is refused as one.
    if row.state not in starts:
        raise ServiceError("illegal_transition", f"cannot {action} request {row.number}: it is {row.state}")
    if action == "reject":
        note = _text(reason, "reason", required=True)
        changes = {"reason": note, "closed_at": at}
    elif action == "dispatch":
        with reading():
            chosen = Team.get_or_none(Team.id == team) if isinstance(team, int) else None
        if chosen is None or chosen.site not in area_sites(row.station):
            raise ServiceError("bad_team", "choose a team of the request's station or a site above it")
        changes, note = {"team": chosen.id, "dispatched_at": at}, chosen.name
    elif action in ("decline",):
        note = _text(reason, "reason")
        changes = {"team": None, "dispatched_at": None}
        extra = ServiceRequest.team == my_team
    elif action == "accept":
        extra = ServiceRequest.team == my_team
    elif action == "grab":
        changes = {"team": my_team}
    elif action == "complete":
        note = _text(report, "report", required=True)
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= MAX_MINUTES:
            raise ServiceError("bad_minutes", f"minutes is a whole number from 1 to {MAX_MINUTES}")
        vids = list(dict.fromkeys(v.strip() for v in (volunteers or []) if v and v.strip()))
        if len(vids) > 50:
            raise ServiceError("bad_volunteers", "at most 50 volunteers")
        with reading():
            known = {v for (v,) in Volunteer.select(Volunteer.vid).where(Volunteer.vid.in_(vids or [""])).tuples()}
        if set(vids) - known:
            raise ServiceError("unknown_volunteer", f"no volunteer {', '.join(sorted(set(vids) - known))}")
        changes = {"report": note, "minutes": minutes, "volunteers": ",".join(vids)}
        extra = ServiceRequest.team == my_team
    elif action == "close":
        changes = {"closed_at": at}
    with writing():
        done = _move(row, action, actor or scope.username, changes, note, extra, at)
        if action == "complete":
            credit_hours(row, changes["volunteers"], minutes, at)
    return done


def credit_hours(row: ServiceRequest, vids: str, minutes: int, at: int) -> list[str]:
    """The volunteers who delivered it get its minutes as sessions waiting for review
    (state "review", flag "service_request"): a coordinator approves them like any hours.
    The session id is derived from request and volunteer: completing twice credits once."""
    ids = []
    for vid in [v for v in vids.split(",") if v]:
        sid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"weiguang:request:{row.id}:{vid}"))
        if HoursSession.get_or_none(HoursSession.id == sid) is None:
            HoursSession.create(id=sid, vid=vid, serial=0, role="volunteer", station=row.station,
                                device_id=f"request:{row.number}", activity_id=None, check_in_at=at - minutes * 60,
                                check_out_at=at, closed_by="request", minutes=minutes, kiosk_minutes=None,
                                flags="service_request", state=STATE_REVIEW)
        ids.append(sid)
    return ids


def expire_dispatches(now: int | None = None, limit_seconds: int | None = None) -> list[str]:
    """Requests dispatched longer than the time limit without being accepted go back to
    dispatch (state "reviewed", team cleared), as actor "system". Called on every read of
    a queue, so nothing needs a timer; safe to call from a periodic task too."""
    at = now_s() if now is None else now
    limit = DISPATCH_TIMEOUT_SECONDS if limit_seconds is None else limit_seconds
    with reading():
        due = list(ServiceRequest.select().where((ServiceRequest.state == DISPATCHED)
                                                 & (ServiceRequest.dispatched_at < at - limit)))
    expired = []
    for row in due:
        try:
            with writing():
                _move(row, "expire", "system", {"team": None, "dispatched_at": None},
                      f"not accepted within {limit // 60} minutes", ServiceRequest.dispatched_at < at - limit, at)
            expired.append(row.id)
        except ServiceError:
            continue            # accepted (or expired by another reader) meanwhile
    return expired


def close_stale(now: int | None = None, after_seconds: int | None = None) -> list[str]:
    """Requests completed or rated and left untouched longer than AUTO_CLOSE_SECONDS are
    closed as actor "system" (a resident who never rates, a coordinator who never closes
    would otherwise keep the phone number at the center for ever: it is erased a set time
    after closing). Called on every read of a queue, as `expire_dispatches`."""
    at = now_s() if now is None else now
    limit = AUTO_CLOSE_SECONDS if after_seconds is None else after_seconds
    where = ServiceRequest.state.in_(list(ACTIONS["close"][0])) & (ServiceRequest.updated_at < at - limit)
    with reading():
        due = list(ServiceRequest.select().where(where))
    closed = []
    for row in due:
        try:
            with writing():
                _move(row, "close", "system", {"closed_at": at}, f"closed after {limit // 86400} days",
                      ServiceRequest.updated_at < at - limit, at)
            closed.append(row.id)
        except ServiceError:
            continue            # rated or closed by someone meanwhile
    return closed


# --- the resident ---------------------------------------------------------------------------

def find(number: str, last4: str) -> ServiceRequest:
    """The request with this number whose phone ends in `last4` (not_found otherwise, the
    same answer either way; after the phone was erased, the number alone no longer finds it)."""
    number, last4 = (number or "").strip().upper(), (last4 or "").strip()
    if not number or len(number) > 40 or len(last4) != 4 or not last4.isdigit():
        raise not_found("request")
    with reading():
        row = ServiceRequest.get_or_none(ServiceRequest.number == number)
    if row is None or not row.phone or not row.phone.endswith(last4):
        raise not_found("request")
    return row


def status_for_resident(number: str, last4: str) -> dict:
    row = find(number, last4)
    with reading():
        team = Team.get_or_none(Team.id == row.team) if row.team else None
    return {"number": row.number, "service": row.service, "state": row.state, "team_name": team.name if team else "",
            "created_at": row.created_at, "updated_at": row.updated_at, "reason": row.reason or "",
            "rating": row.rating, "details": row.details or "", "phone": mask(row.phone)}


def rate(number: str, last4: str, rating: int, comments: list[str] | None = None, actor: str = "resident",
         now: int | None = None) -> dict:
    """The resident's rating (1-5, comments chosen from COMMENTS)."""
    row = find(number, last4)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ServiceError("bad_rating", "a rating is a whole number from 1 to 5")
    chosen = list(dict.fromkeys(comments or []))
    if any(c not in COMMENTS for c in chosen):
        raise ServiceError("bad_rating", f"comments are chosen from: {', '.join(COMMENTS)}")
    if row.state not in ACTIONS["rate"][0]:
        raise ServiceError("illegal_transition", f"cannot rate request {row.number}: it is {row.state}")
    with writing():
        return _move(row, "rate", actor, {"rating": rating, "comments": ",".join(chosen)}, str(rating), at=now)


def add_details(number: str, last4: str, details: str) -> dict:
    """The resident's own words, from their phone page (before the request is closed)."""
    row = find(number, last4)
    details = _text(details, "details")
    if row.state in FINAL:
        raise ServiceError("illegal_transition", f"request {row.number} is {row.state}")
    with writing():
        ServiceRequest.update(details=details).where(ServiceRequest.id == row.id).execute()
        audit.record("resident", "request.details", "service_request", row.id, site=row.station,
                     before={"details": row.details}, after={"details": details})
    return status_for_resident(number, last4)


# --- privacy ----------------------------------------------------------------------------------

def erase_phones(now: int | None = None, after_seconds: int | None = None) -> list[str]:
    """Delete the phone number of every request closed (or rejected) longer ago than
    `after_seconds` (PHONE_RETENTION_SECONDS); returns their ids. Called on every read of a
    queue (as `expire_dispatches`), so no timer is needed; it writes only when one is due."""
    at = now_s() if now is None else now
    keep = PHONE_RETENTION_SECONDS if after_seconds is None else after_seconds

    def due_ids() -> list[str]:
        return [r for (r,) in ServiceRequest.select(ServiceRequest.id).where(
            ServiceRequest.state.in_(list(FINAL)) & (ServiceRequest.closed_at < at - keep)
            & (ServiceRequest.phone != "")).tuples()]
    with reading():
        if not due_ids():
            return []
    with writing():
        due = due_ids()
        if due:
            ServiceRequest.update(phone="", phone_erased_at=at).where(ServiceRequest.id.in_(due)).execute()
            for rid in due:
                audit.record("system", "request.erase_phone", "service_request", rid,
                             site=ServiceRequest.get_by_id(rid).station, reason="retention")
    return due
