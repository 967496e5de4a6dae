"""The roster at the center's desk: list and search per site and team, one volunteer's
page, the all-or-nothing CSV import and the CSV export. Every function takes the
caller's Scope first (`services.scope`); a volunteer outside it does not exist.

    >>> page = roster(scope, site="WBY", q="林")          # {"items": [...], "total": n}
    >>> import_csv(scope, "WBY", data, actor="li")         # n, or ImportRefused naming rows
    >>> text = export_csv(scope, site="WBY")               # formula-safe CSV

Phone numbers are shown whole only to coordinators of the volunteer's own site
(`Scope.phone_visible`), masked (139****5678) to everyone else, exports included.
"""

from __future__ import annotations

import re

from peewee import fn

from sync.badges import ID_CARD_PATTERN, ROLES, VID_PATTERN
from sync.roster import RosterEntry
from sync.server.db import reading, writing
from sync.server.models import Badge, HoursSession, Site, Team, Volunteer
from sync.server.services import ServiceError, audit, changes, review
from sync.server.services.csvfiles import ImportRefused, RowError, read_csv, write_csv
from sync.server.services.scope import Scope, not_found, site_in

STATUSES = ("active", "inactive")
TEAM_SEPARATORS = re.compile(r"[;；、|]")
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")
IMPORT_COLUMNS = ("vid", "name")
IMPORT_OPTIONAL = ("team", "teams", "role", "phone", "status")
MAX_PAGE = 500


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def teams_of(team_text: str) -> list[str]:
    return [t.strip() for t in TEAM_SEPARATORS.split(team_text or "") if t.strip()]


def _site_names() -> dict[str, str]:
    from sync.server.services import sites
    return {code: site.name for code, site in sites.all_sites().items()}


def _item(row: Volunteer, scope: Scope, names: dict[str, str], badge: Badge | None = None) -> dict:
    return {"vid": row.vid, "name": row.name, "site": row.station, "site_name": names.get(row.station, ""),
            "teams": teams_of(row.team), "role": row.role, "status": row.status,
            "phone": row.phone if scope.phone_visible(row.station) else mask_phone(row.phone),
            "badge": None if badge is None else {"serial": badge.serial, "revoked": badge.revoked_at is not None}}


def _query(scope: Scope, site: str | None, q: str | None, team: str | None):
    codes = scope.sites_under(site)
    query = Volunteer.select()
    if codes is not None and scope.whole_network(codes):
        # Every site: "has a site" (an IN list of a city's 2,000 codes checked row by row
        # cost more than the search itself)
        query = query.where(Volunteer.station.is_null(False))
    elif codes is not None:
        query = query.where(site_in(Volunteer.station, codes))
    if q:
        q = q.strip()[:50]
        query = query.where(Volunteer.name.contains(q) | Volunteer.vid.startswith(q))
    if team:
        query = query.where(Volunteer.team.contains(team.strip()[:100]))
    return query


def _latest_badges(vids: list[str]) -> dict[str, Badge]:
    latest: dict[str, Badge] = {}
    if vids:
        for badge in Badge.select().where(Badge.vid.in_(vids)).order_by(Badge.serial):
            latest[badge.vid] = badge
    return latest


def roster(scope: Scope, site: str | None = None, q: str | None = None, team: str | None = None,
           limit: int = 100, offset: int = 0) -> dict:
    """Volunteers of `site`'s subtree (default: the whole scope), by number."""
    scope.require("read")
    limit = max(1, min(int(limit), MAX_PAGE))
    with reading():
        query = _query(scope, site, q, team)
        total = query.count()
        rows = list(query.order_by(Volunteer.vid).limit(limit).offset(max(0, int(offset))))
        names, badges = _site_names(), _latest_badges([r.vid for r in rows])
    items = [_item(r, scope, names, badges.get(r.vid)) for r in rows]
    _add_stars(items)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def _add_stars(items: list[dict]) -> None:
    """Each volunteer's star level (cumulative confirmed hours, network-wide: `sync.stars`)."""
    from sync import stars
    from sync.server.services import reports
    totals, hours = reports.cumulative_minutes(i["vid"] for i in items), reports.star_hours()
    for item in items:
        item["stars"] = stars.level(totals.get(item["vid"], 0), hours)


def get(scope: Scope, vid: str) -> dict:
    """One volunteer: the roster row, every badge, sessions and confirmed hours."""
    scope.require("read")
    with reading():
        row = Volunteer.get_or_none(Volunteer.vid == vid)
        if row is None or not scope.contains(row.station):
            raise not_found("volunteer")
        badges = list(Badge.select().where(Badge.vid == vid).order_by(Badge.serial.desc()))
        sessions = list(HoursSession.select().where((HoursSession.vid == vid) & scope.where(HoursSession.station))
                        .order_by(HoursSession.check_in_at.desc()).limit(50))
        minutes = (HoursSession.select(fn.COALESCE(fn.SUM(HoursSession.minutes), 0))
                   .where((HoursSession.vid == vid) & HoursSession.state.in_(review.COUNTED)).scalar())
        item = _item(row, scope, _site_names(), badges[0] if badges else None)
    item["badges"] = [{"serial": b.serial, "issued_at": b.issued_at, "expires": b.expires,
                       "revoked": b.revoked_at is not None, "revoked_at": b.revoked_at} for b in badges]
    item["sessions"] = [{"session_id": s.id, "station": s.station, "check_in_at": s.check_in_at,
                         "check_out_at": s.check_out_at, "minutes": s.minutes, "state": s.state,
                         "flags": [f for f in s.flags.split(",") if f]} for s in sessions]
    item["minutes"] = int(minutes or 0)
    _add_stars([item])
    return item


def _station_for_import(scope: Scope, site: str) -> Site:
    scope.require("manage")
    scope.require_site(site, "site")
    with reading():
        row = Site.get_or_none(Site.code == site)
    if row is None:
        raise not_found("site")
    if row.tier != "station":
        raise ServiceError("bad_site", f"volunteers are registered at a station, and {site} is a {row.tier}")
    return row


def check_rows(scope: Scope, site: str, rows: list[tuple[int, dict]]) -> tuple[list[dict], list[RowError]]:
    """Each row as a volunteer, or what is wrong with it (every row is looked at)."""
    parsed, errors, seen = [], [], {}
    vids = [cells.get("vid", "") for _, cells in rows]
    with reading():
        known = list(Volunteer.select(Volunteer.vid, Volunteer.station, Volunteer.role)
                     .where(Volunteer.vid.in_(vids)).tuples()) if vids else []
    where = {v: s for v, s, _ in known}
    roles = {v: r for v, _, r in known}
    for line, cells in rows:
        if "__error__" in cells:
            errors.append(RowError(line, cells["__error__"], "cells"))
            continue
        vid, name = cells.get("vid", ""), cells.get("name", "")
        team = cells.get("teams") or cells.get("team") or ""
        role = cells.get("role") or "volunteer"
        phone, status = cells.get("phone", ""), (cells.get("status") or "active").lower()
        problems: list[tuple[str, str, dict]] = []     # (English, code, params)
        if ID_CARD_PATTERN.match(vid):
            problems.append(("this looks like an ID-card number; use the unified volunteer number (统一编号)",
                             "id_card", {}))
        elif not VID_PATTERN.match(vid):
            problems.append((f"{vid!r} is not a volunteer number (3-24 letters, digits or -)", "bad_vid", {"vid": vid}))
        if not name:
            problems.append(("the name is empty", "name_empty", {}))
        elif len(name) > 50:
            problems.append(("the name is longer than 50 characters", "name_long", {}))
        if role not in ROLES:
            problems.append((f"role must be one of {', '.join(ROLES)}, not {role!r}", "bad_role", {"role": role}))
        elif role == "coordinator" and roles.get(vid) != "coordinator" and not scope.can("admin"):
            # A coordinator badge opens coordinator mode at kiosks: only the center names one.
            problems.append(("only the center's administrators make someone a coordinator", "coordinator_by_admin",
                             {"vid": vid}))
        if phone and not PHONE.match(phone):
            problems.append((f"{phone!r} is not a phone number", "bad_phone", {"phone": phone}))
        if status not in STATUSES:
            problems.append((f"status must be active or inactive, not {status!r}", "bad_status", {"status": status}))
        if len(team) > 200:
            problems.append(("the teams are longer than 200 characters", "teams_long", {}))
        if vid in seen:
            problems.append((f"the number {vid} is on line {seen[vid]} already", "duplicate",
                             {"vid": vid, "first": seen[vid]}))
        elif vid in where and where[vid] != site and not scope.contains(where[vid]):
            problems.append((f"the number {vid} is registered at another site; ask the center to move it",
                             "other_site", {"vid": vid}))
        seen.setdefault(vid, line)
        if problems:
            errors.extend(RowError(line, text, code, params) for text, code, params in problems)
        else:
            parsed.append(dict(vid=vid, name=name, teams=teams_of(team), role=role, phone=phone, status=status))
    return parsed, errors


def import_csv(scope: Scope, site: str, data: bytes | str, actor: str) -> int:
    """Add or update the volunteers of a roster CSV at station `site`: all or nothing
    (ImportRefused names every wrong row). Kiosks of the station get the rows at their
    next pull; a volunteer moved from another station of the scope leaves its kiosks."""
    _station_for_import(scope, site)
    parsed, errors = check_rows(scope, site, read_csv(data, IMPORT_COLUMNS, IMPORT_OPTIONAL))
    if errors:
        raise ImportRefused(errors)
    if not parsed:
        raise ImportRefused([RowError(2, "the file has no volunteers", "no_rows")])
    with writing():
        changes.import_roster([RosterEntry(p["vid"], p["name"], "、".join(p["teams"]), p["role"], p["phone"])
                               for p in parsed], station=site)
        for status in STATUSES:
            vids = [p["vid"] for p in parsed if p["status"] == status]
            for start in range(0, len(vids), 500):
                Volunteer.update(status=status).where(Volunteer.vid.in_(vids[start:start + 500])).execute()
        known = {name for (name,) in Team.select(Team.name).where(Team.site == site).tuples()}
        new_teams = sorted({t for p in parsed for t in p["teams"]} - known)
        if new_teams:
            Team.insert_many([{"site": site, "name": t} for t in new_teams]).execute()
        audit.record(actor, "volunteer.import", "site", site, site=site,
                     after={"count": len(parsed), "vids": [p["vid"] for p in parsed[:20]]})
    return len(parsed)


EXPORT_HEADER = ["vid", "name", "team", "role", "phone", "status", "site"]


def export_csv(scope: Scope, site: str | None = None, q: str | None = None, team: str | None = None) -> str:
    """The roster of `site`'s subtree as CSV (the same columns the import reads, plus site);
    every cell that a spreadsheet would run as a formula is neutralised."""
    scope.require("read")
    with reading():
        rows = list(_query(scope, site, q, team).order_by(Volunteer.vid))
    return write_csv(EXPORT_HEADER, [
        [r.vid, r.name, r.team, r.role, r.phone if scope.phone_visible(r.station) else mask_phone(r.phone),
         r.status, r.station] for r in rows])


def stations_in_scope(scope: Scope) -> list[dict]:
    """The sites a coordinator may pick in a filter (their subtree), tree order."""
    from sync.server.services import sites
    network = sites.all_sites()
    top = [scope.site] if scope.site and scope.site in network else \
        [c for c, s in network.items() if s.parent is None]
    out = []
    for code in top:
        for below in sites.subtree(code, network):
            if scope.contains(below):
                s = network[below]
                out.append({"code": s.code, "name": s.name, "tier": s.tier})
    return out
