"""The fleet at the center's desk: enrolment codes (shown as a QR code), every kiosk with
its station, last seen, app version, pending and refused events and clock offset (what
it reported with its last pull), and revoking a kiosk.

    >>> make_code(scope, "WBY", actor="li")      # {"code": "ABCD-EFGH-JKMN", "station", "qr_svg", ...}
    >>> kiosks(scope)                            # [{"id", "station", "last_seen_at", "pending", ...}]
    >>> revoke(scope, device_id, actor="li")     # its next request: 403 device_revoked
"""

from __future__ import annotations

import io
import time

from sync.server.db import reading, writing
from sync.server.models import Device, Site
from sync.server.services import audit, devices
from sync.server.services.scope import Scope, not_found
from sync.server.services.sites import resolve_station


def record_report(device: Device, pending, refused, clock_offset_ms, app_version) -> None:
    """Keep what a kiosk reported; written only when it changed (every kiosk pulls often)."""
    values = {"pending": pending, "refused": refused, "clock_offset_ms": clock_offset_ms, "app_version": app_version}
    values = {k: v for k, v in values.items() if v is not None and getattr(device, k, None) != v}
    if not values:
        return
    with writing():
        Device.update(**values).where(Device.id == device.id).execute()
    for k, v in values.items():        # the cached instance (services.devices) too
        setattr(device, k, v)


def qr_svg(text: str) -> str:
    import qrcode
    import qrcode.image.svg
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue().decode("utf-8")


def make_code(scope: Scope, station: str, actor: str, hours: float = 24) -> dict:
    """A one-time enrolment code for a kiosk at `station` (in scope), with its QR code."""
    scope.require("manage")
    site = resolve_station(station) if scope.contains(station) else None
    if site is None or not scope.contains(site.code):
        raise not_found("station")
    code = devices.make_enroll_code(site.code, hours=hours)
    with writing():
        audit.record(actor, "device.code", "site", site.code, site=site.code, after={"hours": hours})
    return {"code": code, "station": site.code, "station_name": site.name, "hours": hours,
            "expires_at": int(time.time() + hours * 3600), "qr_svg": qr_svg(code)}


def _item(d: Device, names: dict) -> dict:
    return {"id": d.id, "name": d.name, "station": d.station, "station_name": names.get(d.station, ""),
            "enrolled_at": d.enrolled_at, "last_seen_at": d.last_seen_at, "revoked": d.revoked_at is not None,
            "revoked_at": d.revoked_at, "pending": d.pending, "refused": d.refused,
            "clock_offset_ms": d.clock_offset_ms, "app_version": d.app_version}


def kiosks(scope: Scope, site: str | None = None) -> list[dict]:
    """Every kiosk of `site`'s subtree (default: the scope), the last seen first."""
    scope.require("read")
    codes = scope.sites_under(site)
    with reading():
        query = Device.select().order_by(Device.revoked_at.is_null(False), Device.last_seen_at.desc(nulls="LAST"),
                                         Device.id)
        if codes is not None:
            query = query.where(Device.station.in_(sorted(codes)))
        names = dict(Site.select(Site.code, Site.name).tuples())
        return [_item(d, names) for d in query]


def revoke(scope: Scope, device_id: str, actor: str, reason: str = "") -> dict:
    """Revoke a kiosk (stolen, replaced): its next request is answered 403 device_revoked."""
    scope.require("manage")
    with reading():
        device = Device.get_or_none(Device.id == device_id)
    if device is None or not scope.contains(device.station):
        raise not_found("kiosk")
    if device.revoked_at is None:
        devices.revoke_device(device_id)
        with writing():
            audit.record(actor, "device.revoke", "device", device_id, site=device.station,
                         before={"revoked": False}, after={"revoked": True}, reason=reason)
    with reading():
        names = dict(Site.select(Site.code, Site.name).tuples())
        return _item(Device.get_by_id(device_id), names)
