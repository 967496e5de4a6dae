"""Activities at the center's desk: create, edit and cancel per site; published to the
kiosks of that site and every station below it (a global activity, site None, to every
kiosk; only the root's users make those).

    >>> a = create(scope, "WBY", {"title": "义诊", "starts_at": t0, "ends_at": t1}, actor="li")
    >>> update(scope, a["id"], {"place": "二楼"}, actor="li")
    >>> cancel(scope, a["id"], reason="下雨", actor="li")     # gone from the kiosks at their next pull
    >>> listing(scope, site="PC")

The kiosk's copy is the change log's "activity" row (data: sync.server.services.changes
ACTIVITY_FIELDS + rules), one row per station of the subtree (kiosks pull by station).
"""

from __future__ import annotations

import json
import secrets
import time

from sync.server.db import reading, writing
from sync.server.models import Activity, Site
from sync.server.services import ServiceError, audit, sites
from sync.server.services.changes import _checked_rules, activity_data, append_changes
from sync.server.services.scope import Scope, not_found

EDITABLE = ("title", "category", "starts_at", "ends_at", "place", "team", "capacity", "description")
MAX_SPAN = 31 * 86400
LIMITS = {"title": 100, "category": 50, "place": 200, "team": 100, "description": 2000}


def stations_of(site: str | None) -> list[str | None]:
    """Where a change row for an activity at `site` goes: each station below it (None: all)."""
    if site is None:
        return [None]
    network = sites.all_sites()
    return [c for c in sites.subtree(site, network) if network[c].tier == "station"]


YEARS_AROUND = 2 * 366 * 86400   # further off is a typing slip (year 9999), not a plan


def _check(values: dict) -> dict:
    problems = []
    for name, limit in LIMITS.items():
        if name in values:
            values[name] = ("" if values[name] is None else str(values[name])).strip()
            if len(values[name]) > limit:
                problems.append(f"{name} is longer than {limit} characters")
    if not values.get("title"):
        problems.append("the title is empty")
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if not isinstance(starts, int) or not isinstance(ends, int):
        problems.append("starts_at and ends_at are times")
    elif ends <= starts:
        problems.append("an activity must end after it starts")
    elif ends - starts > MAX_SPAN:
        problems.append("an activity lasts at most 31 days")
    elif not time.time() - YEARS_AROUND <= starts <= time.time() + YEARS_AROUND:
        problems.append("an activity starts within two years of today")
    capacity = values.get("capacity")
    if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int) or not 0 < capacity <= 100000):
        problems.append("capacity is a whole number from 1 to 100000")
    if problems:
        raise ServiceError("bad_activity", "; ".join(problems))
    values["category"] = values.get("category") or "志愿服务"
    return values


def as_dict(row: Activity, names: dict | None = None, signed_up: int | None = None) -> dict:
    """An activity for the desk: `closed_at`/`closed_by` when a coordinator ended it at a
    kiosk (Unix seconds; the coordinator's volunteer number); `signed_up` on its public page."""
    from sync.server.services import signups
    names = names if names is not None else {}
    if signed_up is None:
        signed_up = signups.counts([row.id]).get(row.id, 0)
    return {"id": row.id, "site": row.station, "site_name": names.get(row.station, ""),
            **{f: getattr(row, f) for f in EDITABLE},
            "rules": json.loads(row.rules) if row.rules else None, "cancelled": row.cancelled_at is not None,
            "closed_at": row.closed_at, "closed_by": row.closed_by,
            "signed_up": signed_up, "signup_url": signups.signup_url(row.signup_token)}


def _publish(row: Activity, old_site: str | None, old_exists: bool) -> None:
    data = activity_data(row)
    now_at = set(stations_of(row.station)) if row.cancelled_at is None else set()
    before = set(stations_of(old_site)) if old_exists else set()
    append_changes([("activity", row.id, None, s) for s in sorted(before - now_at, key=str)]
                   + [("activity", row.id, data, s) for s in sorted(now_at, key=str)])


def _owned(scope: Scope, activity_id: str) -> Activity:
    row = Activity.get_or_none(Activity.id == activity_id)
    if row is None or not scope.contains(row.station):
        raise not_found("activity")
    return row


def _site_in_scope(scope: Scope, site: str | None) -> str | None:
    site = site or None
    if site is None:
        if not scope.is_root:
            raise not_found("site")
        return None
    if not scope.contains(site) or sites.get_site(site) is None:
        raise not_found("site")
    return site


def listing(scope: Scope, site: str | None = None, include_past: bool = False, now: float | None = None) -> dict:
    scope.require("read")
    codes = scope.sites_under(site)
    now = int(time.time() if now is None else now)
    with reading():
        query = Activity.select().order_by(Activity.starts_at, Activity.id)
        if codes is not None:
            query = query.where(Activity.station.in_(sorted(codes)))
        if not include_past:
            query = query.where(Activity.ends_at >= now - 86400)
        names = dict(Site.select(Site.code, Site.name).tuples())
        rows = list(query.limit(500))
        from sync.server.services import signups
        signed = signups.counts([r.id for r in rows])
        return {"items": [as_dict(r, names, signed.get(r.id, 0)) for r in rows]}


def get(scope: Scope, activity_id: str) -> dict:
    scope.require("read")
    with reading():
        return as_dict(_owned(scope, activity_id), dict(Site.select(Site.code, Site.name).tuples()))


def create(scope: Scope, site: str | None, values: dict, actor: str, rules: dict | None = None) -> dict:
    scope.require("manage")
    site = _site_in_scope(scope, site)
    values = _check({k: values.get(k) for k in EDITABLE})
    if rules:
        _checked_rules(rules)
    with writing():
        from sync.server.services.signups import new_token
        row = Activity.create(id="act-" + secrets.token_hex(6), station=site, signup_token=new_token(),
                              rules=json.dumps(rules) if rules else None, **values)
        _publish(row, None, False)
        audit.record(actor, "activity.create", "activity", row.id, site=site, after=as_dict(row))
    return get(scope, row.id)


def update(scope: Scope, activity_id: str, values: dict, actor: str, site: str | None = "") -> dict:
    """Change some fields (and, with `site`, where it is held)."""
    scope.require("manage")
    with writing():
        row = _owned(scope, activity_id)
        if row.cancelled_at is not None:
            raise ServiceError("activity_cancelled", "this activity was cancelled")
        before, old_site = as_dict(row), row.station
        merged = _check({**{k: getattr(row, k) for k in EDITABLE}, **{k: v for k, v in values.items() if k in EDITABLE}})
        new_site = old_site if site == "" else _site_in_scope(scope, site)
        Activity.update(station=new_site, **merged).where(Activity.id == activity_id).execute()
        row = Activity.get_by_id(activity_id)
        _publish(row, old_site, True)
        audit.record(actor, "activity.update", "activity", activity_id, site=new_site, before=before,
                     after=as_dict(row))
    return get(scope, activity_id)


def cancel(scope: Scope, activity_id: str, actor: str, reason: str = "") -> dict:
    """Cancel: kept here (marked), removed from every kiosk at its next pull. Idempotent."""
    scope.require("manage")
    with writing():
        row = _owned(scope, activity_id)
        if row.cancelled_at is None:
            Activity.update(cancelled_at=int(time.time())).where(Activity.id == activity_id).execute()
            row = Activity.get_by_id(activity_id)
            _publish(row, row.station, True)
            audit.record(actor, "activity.cancel", "activity", activity_id, site=row.station,
                         before={"cancelled": False}, after={"cancelled": True}, reason=reason)
    return get(scope, activity_id)
