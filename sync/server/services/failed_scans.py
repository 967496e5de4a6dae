"""Scans the kiosks refused (issue 11), as the center keeps and shows them.

    >>> store_failed_scans(applied, device, received_at)   # in the push transaction (services.events)
    >>> recent(scope, since=now - 86400)           # [{"at", "code", "vid", "serial", "station", ...}]
    >>> counts_by_device(scope, since)             # {device_id: n}, for the fleet table
    >>> prune(now)                                 # older than KEEP_SECONDS: deleted (the push does it hourly)

A kiosk records each refusal once (the same badge read again within seconds is one row,
kiosk.failed_scans) and pushes it as a ``failed_scan`` event; a foreign code's text never
leaves the kiosk, only its code.
"""

from __future__ import annotations

import time

from peewee import fn

from sync import protocol
from sync.server.db import insert_ignoring_duplicates, reading
from sync.server.logs import log
from sync.server.models import Device, FailedScan, Site
from sync.server.services.scope import Scope
from sync.server.services.sessions import Accepted, server_time

EVENT_TYPE = "failed_scan"
RECENT_SECONDS = 24 * 3600   # the fleet page lists the last day's
# At most this many kept per kiosk per day (by the server's clock of receipt): a kiosk
# (or a stolen token) pushing 500 a batch without end would fill the table. Beyond it the
# events are still stored and answered "stored" (the kiosk must not resend them), only
# not listed again; the fleet page shows the count at the cap, enough to go and look.
MAX_PER_DEVICE_DAY = 1000
# Kept this long after arrival, then deleted: a failed scan is for seeing what goes wrong at a
# station this season, not a record (the badge's number is in it). Pruned from the push
# itself, at most once an hour per server process, so no scheduler is needed.
KEEP_SECONDS = 90 * 24 * 3600
PRUNE_EVERY_SECONDS = 3600
_last_pruned = {"at": 0}


def store_failed_scans(items: list[Accepted], device: Device, received_at: int | None = None) -> int:
    """Keep the failed scans among the events stored now (`items`), received at
    `received_at` (the server's clock; now if None); returns how many, at most what is
    left of the device's MAX_PER_DEVICE_DAY."""
    received_at = int(time.time()) if received_at is None else received_at
    rows = []
    for item in items:
        if item.event.type != EVENT_TYPE:
            continue
        p: protocol.FailedScanPayload = item.payload
        rows.append(dict(id=str(p.id), device_id=device.id, station=device.station,
                         at=server_time(item.event, p.at), code=p.code, vid=p.vid, serial=p.serial,
                         received_at=received_at))
    if rows:
        kept = (FailedScan.select().where((FailedScan.device_id == device.id)
                                          & (FailedScan.received_at > received_at - RECENT_SECONDS)).count())
        if kept + len(rows) > MAX_PER_DEVICE_DAY:
            log.warning("failed scans over the daily cap, not kept", extra={"fields": {
                "device": device.id, "kept": kept, "dropped": len(rows) - max(0, MAX_PER_DEVICE_DAY - kept)}})
            rows = rows[:max(0, MAX_PER_DEVICE_DAY - kept)]
    if rows:
        insert_ignoring_duplicates(FailedScan, rows)
    if received_at - _last_pruned["at"] >= PRUNE_EVERY_SECONDS:
        prune(received_at)
    return len(rows)


def prune(now: int) -> int:
    """Delete the failed scans that arrived more than KEEP_SECONDS before `now`; how many."""
    _last_pruned["at"] = now
    gone = FailedScan.delete().where(FailedScan.received_at < now - KEEP_SECONDS).execute()
    if gone:
        log.info("old failed scans deleted", extra={"fields": {"deleted": gone, "kept_days": KEEP_SECONDS // 86400}})
    return gone


def _in_scope(query, scope: Scope, site: str | None):
    codes = scope.sites_under(site)
    return query.where(FailedScan.station.in_(sorted(codes))) if codes is not None else query


def recent(scope: Scope, since: int, site: str | None = None, limit: int = 200) -> list[dict]:
    """The failed scans of the scope's (or `site`'s) kiosks since `since`, newest first."""
    scope.require("read")
    with reading():
        # By when the server got them: `at` is the kiosk's word (any time a calendar can
        # show), and a scan dated 2099 would head the list, and stay on it, for ever.
        query = _in_scope(FailedScan.select().where(FailedScan.received_at >= since), scope, site)
        names = dict(Site.select(Site.code, Site.name).tuples())
        devices = dict(Device.select(Device.id, Device.name).tuples())
        return [{"id": r.id, "at": r.at, "code": r.code, "vid": r.vid, "serial": r.serial,
                 "station": r.station, "station_name": names.get(r.station, ""), "device_id": r.device_id,
                 "device_name": devices.get(r.device_id, "")}
                for r in query.order_by(FailedScan.received_at.desc(), FailedScan.at.desc(), FailedScan.id).limit(limit)]


def counts_by_device(scope: Scope, since: int, site: str | None = None) -> dict[str, int]:
    scope.require("read")
    with reading():
        query = _in_scope(FailedScan.select(FailedScan.device_id, fn.COUNT(FailedScan.id))
                          .where(FailedScan.received_at >= since), scope, site)
        return dict(query.group_by(FailedScan.device_id).tuples())
