"""The network as data: sites in three tiers (center 中心 > institute 所 > station 站) and
the teams that belong to them.

    >>> upsert_site("PC", "平城区新时代文明实践中心", "center", parent="DT")
    >>> import_sites(open("sites.csv", "rb").read())    # checks every row first; all or nothing
    >>> station = resolve_station("文博苑社区")           # by code or exact name; else unknown_station
    >>> subtree("PC")                                    # PC and every site below it
    >>> station_info("WBY")                              # what a kiosk is told (sync.protocol.StationInfo)

One root: the site with no parent (a city's or county's center). A center's parent is
none or a center, an institute's a center, a station's an institute or a center. Time
zones are IANA names checked with zoneinfo (`Asia/Beijing` is not one).

A station's kiosks get a "station" change (StationInfo: its name, its institute's and
center's names, its time zone) whenever any of these change.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sync import protocol
from sync.server.db import reading, writing
from sync.server.models import Site, Team, db
from sync.server.services import ServiceError
from sync.server.services.csvfiles import ImportRefused, RowError, read_csv

TIERS = ("center", "institute", "station")
PARENT_TIERS = {"center": ("center",), "institute": ("center",), "station": ("institute", "center")}
DEFAULT_TIMEZONE = "Asia/Shanghai"
MAX_CODE = 32
TIER_NAMES = {"中心": "center", "所": "institute", "站": "station"}   # accepted in a CSV too


def valid_timezone(name: str) -> bool:
    if not name or name != name.strip() or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return name in _zones()


_ZONES: set[str] | None = None


def _zones() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones()
    return _ZONES


def _fold(text: str) -> str:
    """For matching what a person typed: full-width to half-width (站Ａ → 站A), case, spaces."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def _check_code(code: str) -> str | None:
    if not code:
        return "the code is empty"
    if len(code) > MAX_CODE:
        return f"the code is longer than {MAX_CODE} characters"
    if not all(ch.isalnum() or ch in "-_." for ch in code) or unicodedata.normalize("NFKC", code) != code:
        return f"the code {code!r} may hold only letters, digits, - _ . (no full-width characters)"
    return None


# --- reading the network ---------------------------------------------------------------------

@dataclass(frozen=True)
class SiteRow:
    """One site as `all_sites` gives it (read-only; the model is `models.Site`)."""
    code: str
    name: str
    tier: str
    parent: str | None
    timezone: str


@dataclass(frozen=True)
class _Network:
    rows: tuple                                    # what was read: the cache's key
    sites: Mapping[str, SiteRow]
    children: dict[str | None, list[str]]
    subtrees: dict[str, tuple[str, ...]] = field(default_factory=dict)


_network: _Network | None = None


def all_sites() -> Mapping[str, SiteRow]:
    """Every site by code, read-only. Read on every call (another process, `weiguang server
    sites import`, may have changed the network), as plain tuples: a city's 2,000 sites as
    model instances cost more than the page that needs them; what is derived from them
    (children, subtrees) is kept while the rows read are the same."""
    global _network
    with reading():
        rows = tuple(db.execute_sql('SELECT "code", "name", "tier", "parent", "timezone" FROM "sites" '
                                    'ORDER BY "code"').fetchall())
    network = _network
    if network is None or network.rows != rows:
        sites = {row[0]: SiteRow(*row) for row in rows}
        network = _network = _Network(rows, MappingProxyType(sites), _children(sites))
    return network.sites


def get_site(code: str) -> Site | None:
    with reading():
        return Site.get_or_none(Site.code == code)


def root() -> Site | None:
    with reading():
        return Site.select().where(Site.parent.is_null()).first()


def _children(sites) -> dict[str | None, list[str]]:
    children: dict[str | None, list[str]] = {}
    for site in sites.values():
        children.setdefault(site.parent, []).append(site.code)
    return children


def children_map(sites=None) -> dict[str | None, list[str]]:
    sites = all_sites() if sites is None else sites
    return _children(sites)


def subtree(code: str, sites=None) -> list[str]:
    """`code` and every site below it (breadth first); [] when `code` is not a site."""
    sites = all_sites() if sites is None else sites
    if code not in sites:
        return []
    network = _network
    cached = network is not None and sites is network.sites
    if cached and code in network.subtrees:
        return list(network.subtrees[code])
    children = network.children if cached else _children(sites)
    out, seen, queue = [], set(), deque([code])
    while queue:
        current = queue.popleft()
        if current in seen:         # a cycle would be a bug; never loop on one
            continue
        seen.add(current)
        out.append(current)
        queue.extend(sorted(children.get(current, [])))
    if cached:
        network.subtrees[code] = tuple(out)
    return out


def ancestors(code: str, sites: dict[str, Site] | None = None) -> list[Site]:
    """The sites above `code`, nearest first."""
    sites = all_sites() if sites is None else sites
    out, seen = [], {code}
    current = sites.get(code)
    while current is not None and current.parent and current.parent not in seen:
        seen.add(current.parent)
        current = sites.get(current.parent)
        if current is not None:
            out.append(current)
    return out


def station_info(code: str, sites: dict[str, Site] | None = None) -> dict:
    """What a kiosk at station `code` is told about where it stands."""
    sites = all_sites() if sites is None else sites
    site = sites[code]
    above = ancestors(code, sites)
    institute = next((s.name for s in above if s.tier == "institute"), "")
    center = next((s.name for s in above if s.tier == "center"), "")
    return protocol.StationInfo(code=site.code, name=site.name, institute=institute, center=center,
                                timezone=site.timezone).model_dump()


def nearest(text: str, n: int = 3, tier: str | None = None) -> list[str]:
    """The names (and codes) of known sites nearest to what was typed, "name (code)"."""
    sites = [s for s in all_sites().values() if tier is None or s.tier == tier]
    keys = {}
    for s in sites:
        keys[_fold(s.code)] = s
        keys[_fold(s.name)] = s
    folded = _fold(text)
    found = [keys[k] for k in difflib.get_close_matches(folded, list(keys), n=n * 2, cutoff=0.4)]
    found += [s for s in sites if folded and (folded in _fold(s.name) or _fold(s.name) in folded)]
    out: list[str] = []
    for s in found:
        label = f"{s.name} ({s.code})"
        if label not in out:
            out.append(label)
    return out[:n]


def resolve_station(code_or_name: str) -> Site:
    """The station with this code, or else this exact name. Refuses unknown_station with the
    nearest names known: a typo (站Ａ for 站A) never makes a new station."""
    with reading():
        site = (Site.get_or_none(Site.code == code_or_name)
                or Site.select().where(Site.name == code_or_name).first())
    if site is None or site.tier != "station":
        near = nearest(code_or_name, tier="station")
        what = f"{code_or_name!r} is a {site.tier}, not a station" if site is not None else \
            f"no station {code_or_name!r} in the network"
        hint = f"; nearest: {', '.join(near)}" if near else \
            "; load the network with `weiguang server sites import`"
        raise ServiceError("unknown_station", what + hint)
    return site


# --- changing the network --------------------------------------------------------------------

def _check_row(code: str, name: str, tier: str, parent: str | None, timezone: str,
               sites: dict[str, Site]) -> list[str]:
    """What is wrong with one site as it would be, against `sites` (the network with every
    other row of the same file already in it)."""
    errors = []
    problem = _check_code(code)
    if problem:
        errors.append(problem)
    if not name:
        errors.append("the name is empty")
    elif len(name) > 100:
        errors.append("the name is longer than 100 characters")
    if tier not in TIERS:
        errors.append(f"tier must be one of {', '.join(TIERS)} (or 中心, 所, 站), not {tier!r}")
    if not valid_timezone(timezone):
        errors.append(f"{timezone!r} is not a time zone (IANA name such as Asia/Shanghai)")
    if parent:
        above = sites.get(parent)
        if above is None:
            errors.append(f"the parent {parent!r} is not a site (neither in the network nor in this file)")
        elif tier in PARENT_TIERS and above.tier not in PARENT_TIERS[tier]:
            errors.append(f"a {tier}'s parent must be a {' or '.join(PARENT_TIERS[tier])}, "
                          f"and {parent} is a {above.tier}")
        elif code in [parent] + [a.code for a in ancestors(parent, sites)]:
            errors.append(f"{code} would be its own ancestor")
    elif tier != "center":
        errors.append(f"a {tier} needs a parent")
    else:
        roots = [s.code for s in sites.values() if not s.parent and s.code != code]
        if roots:
            errors.append(f"the network has one root ({roots[0]}); give this center a parent")
    return errors


def _publish_stations(codes, sites: dict[str, Site]) -> None:
    from sync.server.services.changes import append_changes
    append_changes([("station", code, station_info(code, sites), code)
                    for code in codes if code in sites and sites[code].tier == "station"])


def _save(rows: list[dict]) -> list[str]:
    """Insert or update `rows` (checked) and tell the stations below them; call in writing()."""
    changed = []
    before = {s.code: s for s in Site.select()}
    for row in rows:
        fields = {k: row[k] for k in ("name", "tier", "parent", "timezone")}
        if not Site.update(**fields).where(Site.code == row["code"]).execute():
            Site.create(code=row["code"], **fields)
        changed.append(row["code"])
    sites = {s.code: s for s in Site.select()}
    affected: list[str] = []
    for code in changed:      # a renamed institute changes its stations' StationInfo
        for below in subtree(code, sites):
            if below not in affected:
                affected.append(below)
    _publish_stations(affected, sites)
    # New or moved sites: their stations get the menu and PINs of the sites now above them.
    from sync.server.services import placed_stations
    moved = [r["code"] for r in rows if r["code"] not in before or before[r["code"]].parent != r["parent"]]
    placed_stations.publish([below for code in moved for below in subtree(code, sites)], before, sites)
    from sync.server.services.sessions import forget_network
    forget_network()   # the push path's cache of which sites are above a station
    return changed


def upsert_site(code: str, name: str, tier: str, parent: str | None = None,
                timezone: str = DEFAULT_TIMEZONE) -> Site:
    """Add or change one site; refuses bad_site with every reason."""
    code, name, parent = code.strip(), name.strip(), (parent or "").strip() or None
    with writing():
        sites = {s.code: s for s in Site.select()}
        sites.pop(code, None)
        candidate = Site(code=code, name=name, tier=tier, parent=parent, timezone=timezone)
        errors = _check_row(code, name, tier, parent, timezone, {**sites, code: candidate})
        if errors:
            raise ServiceError("bad_site", "; ".join(errors))
        _save([dict(code=code, name=name, tier=tier, parent=parent, timezone=timezone)])
        return Site.get_by_id(code)


SITE_COLUMNS = ("code", "name", "tier", "parent")


def import_sites(data: bytes | str) -> int:
    """Load or update the network from CSV (header code,name,tier,parent[,timezone]; UTF-8
    ± BOM or GBK). Every row is checked against the network as the whole file would leave
    it; any wrong row refuses the file (ImportRefused names each). Returns the rows loaded."""
    rows = read_csv(data, required=SITE_COLUMNS, optional=("timezone",))
    with writing():
        current = {s.code: s for s in Site.select()}
        proposed = dict(current)
        parsed, errors, seen = [], [], {}
        for line, cells in rows:
            if "__error__" in cells:
                errors.append(RowError(line, cells["__error__"]))
                continue
            tier = TIER_NAMES.get(cells["tier"], cells["tier"].lower())
            row = dict(code=cells["code"], name=cells["name"], tier=tier, parent=cells["parent"] or None,
                       timezone=cells.get("timezone") or (current[cells["code"]].timezone
                                                          if cells["code"] in current else DEFAULT_TIMEZONE),
                       line=line)
            if row["code"] in seen:
                errors.append(RowError(line, f"the code {row['code']} is on line {seen[row['code']]} already"))
                continue
            seen[row["code"]] = line
            parsed.append(row)
            proposed[row["code"]] = Site(**{k: row[k] for k in ("code", "name", "tier", "parent", "timezone")})
        for row in parsed:
            for problem in _check_row(row["code"], row["name"], row["tier"], row["parent"], row["timezone"],
                                      {k: v for k, v in proposed.items()}):
                errors.append(RowError(row["line"], problem))
        # A site already in the network whose tier changes must still fit its children
        # (children in this file are checked on their own line).
        children = children_map(proposed)
        for row in parsed:
            for child in children.get(row["code"], []):
                if child in seen:
                    continue
                if proposed[child].tier in PARENT_TIERS and row["tier"] not in PARENT_TIERS[proposed[child].tier]:
                    errors.append(RowError(row["line"], f"{child} ({proposed[child].tier}) below it cannot "
                                                        f"have a {row['tier']} as parent"))
        if errors:
            raise ImportRefused(sorted(errors, key=lambda e: e.line))
        _save(parsed)
    return len(parsed)


def add_team(site: str, name: str) -> Team:
    name = name.strip()
    if not name or len(name) > 100:
        raise ServiceError("bad_team", "a team name is 1 to 100 characters")
    with writing():
        if get_site(site) is None:
            raise ServiceError("not_found", f"no site {site}")
        team = Team.get_or_none((Team.site == site) & (Team.name == name))
        return team or Team.create(site=site, name=name)


def teams_of(site_codes: list[str] | None) -> list[Team]:
    """Teams of these sites (None: every site), by site then name."""
    with reading():
        query = Team.select().order_by(Team.site, Team.name)
        if site_codes is not None:
            query = query.where(Team.site.in_(site_codes))
        return list(query)


def team_names(site_codes: list[str] | None) -> list[str]:
    """The distinct names of the teams of these sites (None: every site), sorted: what a
    team filter offers (a city has thousands of teams and a handful of names)."""
    from sync.server.services.scope import site_in
    with reading():
        query = Team.select(Team.name).distinct()
        if site_codes is not None:
            query = query.where(site_in(Team.site, site_codes))
        return sorted(name for (name,) in query.tuples())
