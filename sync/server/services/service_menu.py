"""Service menus per site: what residents order from at the kiosks below it.

    >>> set_menu(scope, "PC", [{"service": "理发", "presets": ["行动不便，请上门"]}], actor="li")
    >>> menu_for("WBY")          # the nearest menu at or above the station, else the default

Setting a menu publishes, to every station of the site's subtree whose nearest menu it is,
a change of kind ``service_menu`` (key "menu", data {"items": [...], "site": CODE}).
"""

from __future__ import annotations

import json
import time

from sync import service_menu
from sync.server.db import reading, writing
from sync.server.models import ServiceMenu
from sync.server.services import ServiceError, audit, sites
from sync.server.services.changes import append_changes
from sync.server.services.scope import Scope, not_found


def _menus() -> dict[str, list[dict]]:
    with reading():
        return {m.site: json.loads(m.items) for m in ServiceMenu.select()}


def menu_for(station: str, menus: dict | None = None) -> dict:
    """{"items", "site"}: the menu of the station or the nearest site above with one
    (site None: the default)."""
    menus = _menus() if menus is None else menus
    for code in [station, *(s.code for s in sites.ancestors(station))]:
        if code in menus:
            return {"items": menus[code], "site": code}
    return {"items": service_menu.DEFAULT_MENU, "site": None}


def _require_site(scope: Scope, code: str) -> None:
    """A site in the scope that exists (the root's scope holds every code, known or not:
    a menu for "NOPE" or "" was stored, and read back as the default)."""
    scope.require_site(code, "site")
    if not code or sites.get_site(code) is None:
        raise not_found("site")


def get_menu(scope: Scope, site: str | None = None) -> dict:
    scope.require("read")
    code = site or scope.site
    if code is None:
        return {"items": service_menu.DEFAULT_MENU, "site": None}
    _require_site(scope, code)
    return menu_for(code)


def set_menu(scope: Scope, site: str, items, actor: str = "") -> dict:
    """Set `site`'s menu (a center administrator of the site or above: the menu is what the
    center's teams offer, not a station's choice); refuses forbidden, bad_menu."""
    scope.require("admin")
    _require_site(scope, site)
    try:
        items = service_menu.clean_menu(items)
    except ValueError as exc:
        raise ServiceError("bad_menu", str(exc)) from None
    with writing():
        before = ServiceMenu.get_or_none(ServiceMenu.site == site)
        ServiceMenu.delete().where(ServiceMenu.site == site).execute()
        ServiceMenu.create(site=site, items=json.dumps(items, ensure_ascii=False), updated_at=int(time.time()))
        network = sites.all_sites()
        menus = {m.site: json.loads(m.items) for m in ServiceMenu.select()}
        stations = [c for c in sites.subtree(site, network) if network[c].tier == "station"]
        rows = []
        for code in stations:
            chosen = menu_for(code, menus)
            if chosen["site"] == site:
                rows.append(("service_menu", "menu", chosen, code))
        append_changes(rows)
        audit.record(actor or scope.username, "menu.set", "service_menu", site, site=site,
                     before=json.loads(before.items) if before else None, after=items)
    return {"items": items, "site": site, "stations": len(rows)}
