"""Scans the kiosks refused (issue 11), as the center keeps and shows them.

    >>> store_failed_scans(applied, device)        # in the push transaction (services.events)
    >>> recent(scope, since=now - 86400)           # [{"at", "code", "vid", "serial", "station", ...}]
    >>> counts_by_device(scope, since)             # {device_id: n}, for the fleet table

A kiosk records each refusal once (the same badge read again within seconds is one row,
kiosk.failed_scans) and pushes it as a ``failed_scan`` event; a foreign code's text never
leaves the kiosk, only its code.
"""

from __future__ import annotations

from peewee import fn

from sync import protocol
from sync.server.db import insert_ignoring_duplicates, reading
from sync.server.models import Device, FailedScan, Site
from sync.server.services.scope import Scope
from sync.server.services.sessions import Accepted, server_time

EVENT_TYPE = "failed_scan"
RECENT_SECONDS = 24 * 3600   # the fleet page lists the last day's


def store_failed_scans(items: list[Accepted], device: Device) -> int:
    """Keep the failed scans among the events stored now (`items`); returns how many."""
    rows = []
    for item in items:
        if item.event.type != EVENT_TYPE:
            continue
        p: protocol.FailedScanPayload = item.payload
        rows.append(dict(id=str(p.id), device_id=device.id, station=device.station,
                         at=server_time(item.event, p.at), code=p.code, vid=p.vid, serial=p.serial,
                         received_at=int(item.event.device_time.timestamp())))
    if rows:
        insert_ignoring_duplicates(FailedScan, rows)
    return len(rows)


def _in_scope(query, scope: Scope, site: str | None):
    codes = scope.sites_under(site)
    return query.where(FailedScan.station.in_(sorted(codes))) if codes is not None else query


def recent(scope: Scope, since: int, site: str | None = None, limit: int = 200) -> list[dict]:
    """The failed scans of the scope's (or `site`'s) kiosks since `since`, newest first."""
    scope.require("read")
    with reading():
        query = _in_scope(FailedScan.select().where(FailedScan.at >= since), scope, site)
        names = dict(Site.select(Site.code, Site.name).tuples())
        devices = dict(Device.select(Device.id, Device.name).tuples())
        return [{"id": r.id, "at": r.at, "code": r.code, "vid": r.vid, "serial": r.serial,
                 "station": r.station, "station_name": names.get(r.station, ""), "device_id": r.device_id,
                 "device_name": devices.get(r.device_id, "")}
                for r in query.order_by(FailedScan.at.desc(), FailedScan.id).limit(limit)]


def counts_by_device(scope: Scope, since: int, site: str | None = None) -> dict[str, int]:
    scope.require("read")
    with reading():
        query = _in_scope(FailedScan.select(FailedScan.device_id, fn.COUNT(FailedScan.id))
                          .where(FailedScan.at >= since), scope, site)
        return dict(query.group_by(FailedScan.device_id).tuples())
