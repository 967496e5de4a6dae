"""Coordinators' kiosk PINs, set at the center's desk and published to the kiosks of the
coordinator's subtree as argon2 hashes (a kiosk never lets a badge holder choose one).

    >>> set_pin(scope, "14020200009", "2468", actor="li")     # {"vid", "pin_set": True, "stations": [...]}
    >>> clear_pin(scope, "14020200009", actor="li")            # kiosks forget it: no coordinator mode
    >>> pin_state(scope, "14020200009")                        # {"vid", "pin_set", "set_at", "set_by"}

The PIN itself is never stored or logged: the table, the change log and the audit log hold
its argon2 hash or nothing. Published as change kind "coordinator_pin" (key: the vid;
data: {"hash", "set_at"}; None: cleared), one row per station in the subtree of the
coordinator's site, so only those kiosks learn it (`kiosk.coordinator` applies it).
"""

from __future__ import annotations

import time

from argon2 import PasswordHasher

from sync.server.db import reading, writing
from sync.server.models import CoordinatorPin, Volunteer
from sync.server.services import ServiceError, audit, changes
from sync.server.services.scope import Scope, not_found

PIN_MIN, PIN_MAX = 4, 8
WEAK = {"0000", "1111", "1234", "123456", "12345678", "4321", "654321"}


def check_pin_text(pin: str) -> str:
    pin = (pin or "").strip()
    if not (pin.isascii() and pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX):
        raise ServiceError("bad_pin", f"a PIN is {PIN_MIN} to {PIN_MAX} digits")
    if pin in WEAK or len(set(pin)) == 1:
        raise ServiceError("weak_pin", "this PIN is too easy to guess; choose another")
    return pin


def _coordinator(scope: Scope, vid: str) -> Volunteer:
    scope.require("read")
    with reading():
        row = Volunteer.get_or_none(Volunteer.vid == vid)
    if row is None or not scope.contains(row.station):
        raise not_found("volunteer")
    if row.role != "coordinator":
        raise ServiceError("not_coordinator", f"{vid} is not a coordinator; only coordinators have a kiosk PIN")
    return row


def stations_of(site: str | None) -> list[str]:
    """The stations whose kiosks get a coordinator's PIN: every station in the subtree of
    the coordinator's site (volunteers are registered at a station: usually that one)."""
    from sync.server.services import sites
    if site is None:
        return []
    network = sites.all_sites()
    return sorted(code for code in sites.subtree(site, network) if network[code].tier == "station")


def pin_state(scope: Scope, vid: str) -> dict:
    volunteer = _coordinator(scope, vid)
    with reading():
        row = CoordinatorPin.get_or_none(CoordinatorPin.vid == vid)
    from sync.server.services import sites
    stations = stations_of(volunteer.station)
    names = {code: site.name for code, site in sites.all_sites().items()}
    return {"vid": vid, "pin_set": row is not None, "set_at": row.set_at if row else None,
            "set_by": row.set_by if row else None, "stations": stations,
            "station_names": [names.get(code, code) for code in stations]}


def set_pin(scope: Scope, vid: str, pin: str, actor: str, reason: str = "") -> dict:
    scope.require("manage")
    volunteer = _coordinator(scope, vid)
    pin = check_pin_text(pin)
    pin_hash = PasswordHasher().hash(pin)
    now = int(time.time())
    stations = stations_of(volunteer.station)
    with writing():
        old = CoordinatorPin.get_or_none(CoordinatorPin.vid == vid)
        CoordinatorPin.delete().where(CoordinatorPin.vid == vid).execute()
        CoordinatorPin.create(vid=vid, pin_hash=pin_hash, set_at=now, set_by=actor)
        changes.append_changes([("coordinator_pin", vid, {"hash": pin_hash, "set_at": now}, code)
                                for code in stations])
        audit.record(actor, "coordinator.pin_set", "volunteer", vid, site=volunteer.station,
                     before={"pin_set": old is not None}, after={"pin_set": True}, reason=reason)
    return {"vid": vid, "pin_set": True, "set_at": now, "stations": stations}


def clear_pin(scope: Scope, vid: str, actor: str, reason: str = "") -> dict:
    """The kiosks forget the coordinator's PIN (a coordinator who left): no coordinator mode."""
    scope.require("manage")
    volunteer = _coordinator(scope, vid)
    stations = stations_of(volunteer.station)
    with writing():
        deleted = CoordinatorPin.delete().where(CoordinatorPin.vid == vid).execute()
        if deleted:
            changes.append_changes([("coordinator_pin", vid, None, code) for code in stations])
            audit.record(actor, "coordinator.pin_clear", "volunteer", vid, site=volunteer.station,
                         before={"pin_set": True}, after={"pin_set": False}, reason=reason)
    return {"vid": vid, "pin_set": False, "set_at": None, "stations": stations}


def follow_moves(moved: dict[str, tuple[str | None, str | None]]) -> None:
    """Volunteers moved between stations ({vid: (old, new)}, inside the import's `writing()`):
    a coordinator's PIN leaves the old stations' kiosks and reaches the new ones."""
    if not moved:
        return
    rows = {p.vid: p for p in CoordinatorPin.select().where(CoordinatorPin.vid.in_(list(moved)))}
    out = []
    for vid, pin in rows.items():
        old, new = moved[vid]
        before, after = set(stations_of(old)), set(stations_of(new))
        out += [("coordinator_pin", vid, None, code) for code in sorted(before - after)]
        out += [("coordinator_pin", vid, {"hash": pin.pin_hash, "set_at": pin.set_at}, code)
                for code in sorted(after - before)]
    if out:
        changes.append_changes(out)


__all__ = ["set_pin", "clear_pin", "pin_state", "check_pin_text", "stations_of", "follow_moves"]
