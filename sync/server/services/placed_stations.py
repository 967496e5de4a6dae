"""What a station inherits from the sites above it, sent when it is placed in the network.

A service menu or a coordinator's PIN set at a center is published, when it is set, to the
stations below the center *then*. A station added to the network later, or moved under
another institute or center, would never hear of it: its kiosks would show the default
menu and refuse the coordinator. So whenever sites are saved (`sites._save`, inside its
`writing()`), each station newly placed (new, or its parent changed, or below such a site)
gets, as changes of its own:

- ``service_menu``: the nearest menu at or above it now (for a station that moved, the
  default, site None, if none: a new one has the default already);
- ``coordinator_pin``: the hash of every coordinator whose site is above it now and was
  not before, and None for those it had only through its old place (coordinators are
  registered at stations today, so this is for a coordinator of a whole area).

    >>> publish(placed, before, after)      # station codes; the network before and after
"""

from __future__ import annotations

import json
from typing import Mapping

from sync import service_menu
from sync.server.models import CoordinatorPin, ServiceMenu, Volunteer
from sync.server.services.changes import append_changes


def _up(code: str, sites: Mapping) -> list[str]:
    """`code` and the sites above it, nearest first."""
    out, seen = [], set()
    while code and code in sites and code not in seen:
        seen.add(code)
        out.append(code)
        code = sites[code].parent
    return out


def publish(placed: list[str], before: Mapping, after: Mapping) -> int:
    """Changes for the stations in `placed` (see the module's doc); returns how many."""
    stations = [c for c in dict.fromkeys(placed) if c in after and after[c].tier == "station"]
    if not stations:
        return 0
    menus = {m.site: json.loads(m.items) for m in ServiceMenu.select()}
    pins = list(CoordinatorPin.select())
    homes = dict(Volunteer.select(Volunteer.vid, Volunteer.station)
                 .where(Volunteer.vid.in_([p.vid for p in pins] or [""])).tuples())
    rows = []
    for code in stations:
        up = _up(code, after)
        old_up = set(_up(code, before)) if code in before else set()
        site = next((c for c in up if c in menus), None)
        if site is not None or old_up:          # a new station with no menu above: the default, as is
            rows.append(("service_menu", "menu", {"items": menus[site] if site else service_menu.DEFAULT_MENU,
                                                  "site": site}, code))
        for pin in pins:
            home = homes.get(pin.vid)
            if home in up and home not in old_up:
                rows.append(("coordinator_pin", pin.vid, {"hash": pin.pin_hash, "set_at": pin.set_at}, code))
            elif home in old_up and home not in up:
                rows.append(("coordinator_pin", pin.vid, None, code))
    append_changes(rows)
    return len(rows)
