"""The home page's figures for a user's part of the network (`overview`)."""

from __future__ import annotations

import time

from peewee import fn

from sync.server.db import reading
from sync.server.models import Activity, Device, HoursSession, Site, Volunteer
from sync.server.services import review, sites
from sync.server.services.scope import Scope


def overview(scope: Scope, now: float | None = None) -> dict:
    now = int(time.time() if now is None else now)
    network = sites.all_sites()
    own = network.get(scope.site) if scope.site else None
    with reading():
        stations = Site.select().where(scope.where(Site.code) & (Site.tier == "station")).count()
        volunteers = Volunteer.select().where(scope.where(Volunteer.station)).count()
        waiting = HoursSession.select().where(scope.where(HoursSession.station)
                                             & (HoursSession.state.in_(review.WAITING))).count()
        minutes = (HoursSession.select(fn.COALESCE(fn.SUM(HoursSession.minutes), 0))
                   .where(scope.where(HoursSession.station) & HoursSession.state.in_(review.COUNTED)).scalar())
        activities = Activity.select().where(scope.where(Activity.station)
                                             & (Activity.ends_at >= now)).count()
        kiosks = Device.select().where(scope.where(Device.station) & Device.revoked_at.is_null()).count()
    top = [scope.site] if scope.site else [c for c, s in network.items() if s.parent is None]
    children = sites.children_map(network)
    tree = []

    def walk(code, depth):
        site = network.get(code)
        if site is None or depth > 3:
            return
        tree.append({"code": code, "name": site.name, "tier": site.tier, "depth": depth})
        for child in sorted(children.get(code, []), key=lambda c: (network[c].tier, network[c].name)):
            walk(child, depth + 1)
    for code in top:
        walk(code, 0)
    return {"site": {"code": own.code, "name": own.name, "tier": own.tier} if own else None,
            "stations": stations, "volunteers": volunteers, "review": waiting,
            "hours": round((minutes or 0) / 60, 1), "activities": activities, "kiosks": kiosks,
            "network": tree[:200]}
