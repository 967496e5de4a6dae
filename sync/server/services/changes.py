"""What the center publishes to kiosks, and the change log they pull it from.

Every write here updates its table **and** appends a row to the change log in one
transaction; `pull` pages through that log by version (the kiosk's cursor). A row with
station NULL goes to every kiosk, a row with a station only to that station's kiosks.
Kinds and data match what `kiosk.store._CHANGE_APPLIERS` applies (keep in sync):

    activity    key=id      data: kiosk Activity fields (rules as a dict,     station or global
                            closed: true once closed at a kiosk,
                            signup_url, signed_up: services.signups)
    volunteer   key=vid     data: name, team, role                            the roster's station
    revocation  key=serial  data: vid, revoked_at (None: revocation lifted)    global
    public_key  key=kid     data: {"public_key": base64 raw}                   global
    station     key=code    data: sync.protocol.StationInfo                    that station
    rules       key=scope   data: hours-rule overrides, already merged         global or station
    session     key=id      data: id, state, minutes (a review decision)       the session's station
    coordinator_pin key=vid data: {"hash": argon2, "set_at"} (None: cleared)  each station in the
                            coordinator's subtree (services.coordinator_pins)

Usage::

    >>> upsert_station("dgj", "东关街站", institute="东关街道所")   # tests; the desk: services.sites
    >>> import_roster(read_roster("roster.csv"), station="dgj")
    >>> revoke_badge(17, vid="14020200001")
    >>> page = pull("dgj", cursor=0, limit=500)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterable

from peewee import chunked

from sync import protocol
from sync.badges import load_public_keys, public_key_b64
from sync.hours import HoursRules
from sync.roster import RosterEntry
from sync.server.db import LOCK_CHANGES, advisory_lock, reading, writing
from sync.server.models import (Activity, ChangeRow, PublishedKey, Revocation, RuleSet, Site, Volunteer,
                                db)
from sync.server.services import ServiceError

GLOBAL_SCOPE = ""


def append_changes(rows: Iterable[tuple[str, str, dict | None, str | None]]) -> None:
    """Append (kind, key, data, station) rows to the change log; call inside `writing()`."""
    # On PostgreSQL, versions come from a sequence: two writers could commit versions 8 and
    # 7 in that order and a kiosk that already pulled 8 would never see 7. Holding a lock
    # until commit makes commit order = version order (admin writes are rare).
    advisory_lock(LOCK_CHANGES)
    now = int(time.time())
    values = [{"kind": kind, "key": str(key), "station": station, "created_at": now,
               "data": None if data is None else json.dumps(data, ensure_ascii=False)}
              for kind, key, data, station in rows]
    for batch in chunked(values, 500):
        ChangeRow.insert_many(batch).execute()


# --- stations (the network itself lives in services.sites) ------------------------------------

def station_info(code: str) -> dict:
    from sync.server.services import sites
    return sites.station_info(code)


def upsert_station(code: str, name: str, institute: str = "", center: str = "",
                   timezone: str = "Asia/Shanghai") -> Site:
    """Shortcut for tests and the bench: a station whose institute and center are given by
    name. Missing parents are made with code = name, the center under the root (a root
    center "中心" is made when the network is empty); a known station given no parents
    keeps its place. The center's desk uses
    `sites.import_sites` / `sites.upsert_site` instead."""
    from sync.server.services import sites
    with writing():
        existing = Site.get_or_none(Site.code == code)
        if existing is not None and not institute and not center:   # keep its place in the network
            return sites.upsert_site(code, name, "station", parent=existing.parent, timezone=timezone)
        top = sites.root() or sites.upsert_site("CENTER", "中心", "center")
        parent = top.code
        if center and center != top.name:
            known = Site.get_or_none(Site.code == center)
            parent = known.code if known else sites.upsert_site(center, center, "center", parent=parent).code
        if institute:
            known = Site.get_or_none(Site.code == institute)
            parent = known.code if known else sites.upsert_site(institute, institute, "institute",
                                                                 parent=parent).code
        return sites.upsert_site(code, name, "station", parent=parent, timezone=timezone)


# --- activities and the roster -----------------------------------------------------------------

ACTIVITY_FIELDS = ("title", "category", "starts_at", "ends_at", "place", "team", "capacity", "description")


def upsert_activity(id: str, title: str, starts_at: int, ends_at: int, station: str | None = None,
                    rules: dict | None = None, **fields) -> Activity:
    """An activity at `station` (None: every station). `fields`: category, place, team,
    capacity, description."""
    unknown = set(fields) - set(ACTIVITY_FIELDS)
    if unknown:
        raise ValueError(f"unknown activity fields: {', '.join(sorted(unknown))}")
    if ends_at <= starts_at:
        raise ServiceError("bad_activity", "an activity must end after it starts")
    if rules:
        _checked_rules(rules)
    values = dict(title=title, starts_at=int(starts_at), ends_at=int(ends_at), station=station,
                  rules=json.dumps(rules) if rules else None, **fields)
    with writing():
        old = Activity.get_or_none(Activity.id == id)
        if old is None:
            from sync.server.services.signups import new_token
            Activity.create(id=id, signup_token=new_token(), **values)
        else:
            Activity.update(**values).where(Activity.id == id).execute()
        row = Activity.get_by_id(id)
        moved = [("activity", id, None, old.station)] if old is not None and old.station != station else []
        append_changes(moved + [("activity", id, activity_data(row), station)])
        return row


def activity_data(row: Activity) -> dict:
    """An activity as kiosks pull it; `closed` once a coordinator closed it (a kiosk never
    reopens an activity closed at its station, see `kiosk.store`); `signup_url` (its public
    sign-up page; a path when the server has no public_url) and `signed_up` (how many)."""
    from sync.server.services import signups
    data = {name: getattr(row, name) for name in ACTIVITY_FIELDS}
    data["rules"] = json.loads(row.rules) if row.rules else None
    data["closed"] = row.closed_at is not None
    data["signup_url"] = signups.signup_url(row.signup_token)
    data["signed_up"] = signups.counts([row.id]).get(row.id, 0)
    return data


def import_roster(entries: list[RosterEntry], station: str | None = None) -> int:
    """Add or update volunteers (a parsed roster CSV) for `station`'s kiosks; returns how many."""
    with writing():
        for batch in chunked(entries, 500):
            previous = {v.vid: v.station for v in
                        Volunteer.select(Volunteer.vid, Volunteer.station)
                        .where(Volunteer.vid.in_([e.vid for e in batch]))}
            rows = [dict(vid=e.vid, name=e.name, team=e.team, role=e.role, phone=e.phone, station=station)
                    for e in batch]
            (Volunteer.insert_many(rows)
             .on_conflict(conflict_target=[Volunteer.vid],
                          preserve=[Volunteer.name, Volunteer.team, Volunteer.role, Volunteer.phone,
                                    Volunteer.station]).execute())
            # A volunteer who moved leaves the old station's kiosks. The phone number stays
            # on the server: a kiosk never needs it.
            append_changes(
                [("volunteer", e.vid, None, previous[e.vid]) for e in batch
                 if e.vid in previous and previous[e.vid] != station]
                + [("volunteer", e.vid, {"name": e.name, "team": e.team, "role": e.role}, station)
                   for e in batch])
            from sync.server.services.coordinator_pins import follow_moves
            follow_moves({e.vid: (previous[e.vid], station) for e in batch
                          if e.vid in previous and previous[e.vid] != station})
    return len(entries)


# --- badges and keys ---------------------------------------------------------------------------

def revoke_badge(serial: int, vid: str = "", now: float | None = None) -> None:
    """Every kiosk refuses this badge serial after its next pull."""
    at = int(time.time() if now is None else now)
    with writing():
        Revocation.delete().where(Revocation.serial == serial).execute()
        Revocation.create(serial=serial, vid=vid, revoked_at=at)
        append_changes([("revocation", str(serial), {"vid": vid, "revoked_at": at}, None)])


def lift_revocation(serial: int) -> None:
    """A lost badge was found: kiosks accept it again."""
    with writing():
        Revocation.delete().where(Revocation.serial == serial).execute()
        append_changes([("revocation", str(serial), None, None)])


def publish_public_keys(keys_dir: Path) -> list[str]:
    """Publish the public keys in `keys_dir` not yet published; return their kids."""
    keys = load_public_keys(keys_dir)
    with writing():
        known = {k.kid for k in PublishedKey.select(PublishedKey.kid)}
        new = {kid: public_key_b64(key) for kid, key in keys.items() if kid not in known}
        for kid, b64 in new.items():
            PublishedKey.create(kid=kid, public_key=b64)
        append_changes([("public_key", kid, {"public_key": b64}, None) for kid, b64 in new.items()])
    return sorted(new)


def public_keys() -> dict[str, str]:
    with reading():
        return {k.kid: k.public_key for k in PublishedKey.select()}


# --- hours rules -----------------------------------------------------------------------------

def _checked_rules(overrides: dict) -> dict:
    """Overrides the center may set: known rule names, whole numbers within RULE_MAXIMUMS."""
    unknown = set(overrides) - {f.name for f in fields(HoursRules)}
    if unknown:
        raise ServiceError("bad_rules", f"unknown rules: {', '.join(sorted(unknown))}")
    if any(isinstance(v, bool) or not isinstance(v, int) for v in overrides.values()):
        raise ServiceError("bad_rules", "rules are whole numbers")
    try:
        HoursRules().merged(overrides)
    except (ValueError, TypeError) as exc:
        raise ServiceError("bad_rules", str(exc)) from None
    return dict(overrides)


def rule_overrides(station: str | None = None) -> dict:
    """The center's overrides, with the station's on top when `station` is given."""
    with reading():
        rows = {r.scope: json.loads(r.overrides) for r in
                RuleSet.select().where(RuleSet.scope.in_([GLOBAL_SCOPE, station or GLOBAL_SCOPE]))}
    return {**rows.get(GLOBAL_SCOPE, {}), **(rows.get(station, {}) if station else {})}


def set_rules(overrides: dict, station: str | None = None) -> None:
    """Set the center's hours rules (station None) or one station's overrides.

    A kiosk keeps one rules object, so each station gets the center's rules merged with
    its own; a change to the center's rules is re-sent, merged, to stations that override.
    """
    overrides = _checked_rules(overrides)
    with writing():
        scope = station or GLOBAL_SCOPE
        RuleSet.delete().where(RuleSet.scope == scope).execute()
        RuleSet.create(scope=scope, overrides=json.dumps(overrides))
        stations = [station] if station else [r.scope for r in RuleSet.select().where(RuleSet.scope != GLOBAL_SCOPE)]
        rows = [] if station else [("rules", GLOBAL_SCOPE, overrides, None)]
        rows += [("rules", code, rule_overrides(code), code) for code in stations]
        append_changes(rows)


def rules_for(station: str | None, activity_rules: str | dict | None = None) -> HoursRules:
    """The rules a session at `station` (and activity) is credited by."""
    if isinstance(activity_rules, str):
        activity_rules = json.loads(activity_rules)
    return HoursRules().merged(rule_overrides(station)).merged(activity_rules)


# --- pull -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    changes: list[protocol.Change]
    cursor: int
    more: bool


def pull(station: str, cursor: int = 0, limit: int = protocol.PAGE_SIZE) -> Page:
    """Changes after `cursor` for a kiosk at `station`, oldest first, at most `limit`."""
    # Hand-built: every kiosk pulls after every push, and mostly finds nothing; peewee's
    # query building would cost more than the query.
    p = db.obj.param
    sql = (f'SELECT "kind", "key", "version", "data" FROM "{ChangeRow._meta.table_name}" WHERE "version" > {p} '
           f'AND ("station" IS NULL OR "station" = {p}) ORDER BY "version" LIMIT {p}')
    with reading():
        rows = db.execute_sql(sql, (cursor, station, limit + 1)).fetchall()
    page = rows[:limit]
    changes = [protocol.Change(kind=kind, key=key, version=version, data=None if data is None else json.loads(data))
               for kind, key, version, data in page]
    return Page(changes, page[-1][2] if page else cursor, len(rows) > limit)
