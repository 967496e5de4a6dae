"""Badges at the center's desk: issue, reissue (a new serial; the old one revoked), revoke
(every kiosk refuses the serial after its next pull: a "revocation" change), and a
printable sheet of badge cards (PDF, as `weiguang badge issue --out x.pdf` makes).

    >>> issue(scope, "14020200001", keys_dir, actor="li")        # {"vid", "serial", "token"}
    >>> reissue(scope, "14020200001", keys_dir, actor="li")      # old serial revoked
    >>> revoke(scope, "14020200001", actor="li", reason="丢失")    # {"vid", "serial", "revoked": True}
    >>> pdf = sheet_pdf(scope, keys_dir, site="WBY")             # bytes

Serials come after every serial known: the badges table, the revocations, and
KEYS/issued.csv (the CLI's log, which the center appends to as well), so the desk and the
command line never hand out one serial twice.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from peewee import fn

from sync.badges import issue as sign_badge, load_signing_key
from sync.roster import IssueLog
from sync.server.db import LOCK_CHANGES, advisory_lock, reading, writing
from sync.server.models import Badge, Revocation, Volunteer
from sync.server.services import ServiceError, audit, changes
from sync.server.services.scope import Scope, not_found
from sync.server.services.volunteers import teams_of

VALID_DAYS = 3 * 365
MAX_SHEET = 2000


def _volunteer(scope: Scope, vid: str) -> Volunteer:
    with reading():
        row = Volunteer.get_or_none(Volunteer.vid == vid)
    if row is None or not scope.contains(row.station):
        raise not_found("volunteer")
    return row


def _next_serial(keys_dir: Path) -> int:
    top = max(Badge.select(fn.MAX(Badge.serial)).scalar() or 0,
              Revocation.select(fn.MAX(Revocation.serial)).scalar() or 0)
    return max(top + 1, IssueLog(keys_dir).next_serial())


def _active(vid: str) -> Badge | None:
    return Badge.select().where((Badge.vid == vid) & Badge.revoked_at.is_null()).order_by(Badge.serial.desc()).first()


def _sign(keys_dir: Path, badge: Badge) -> str:
    return sign_badge(load_signing_key(keys_dir), badge.vid, badge.serial, badge.role,
                      date.fromisoformat(badge.expires))


def issue(scope: Scope, vid: str, keys_dir: Path, actor: str, reissue: bool = False, reason: str = "") -> dict:
    """A new badge for `vid`. Refuses has_badge (409) when one is active and this is not a
    reissue; a reissue revokes the active one in the same transaction."""
    scope.require("manage")
    volunteer = _volunteer(scope, vid)
    key = load_signing_key(keys_dir)      # fail before writing anything
    now = int(time.time())
    with writing():
        advisory_lock(LOCK_CHANGES)       # two desks issuing at once: one serial each
        old = _active(vid)
        if old is not None and not reissue:
            raise ServiceError("has_badge", f"{vid} has badge {old.serial} already; reissue it instead")
        if old is not None:
            Badge.update(revoked_at=now).where(Badge.serial == old.serial).execute()
            changes.revoke_badge(old.serial, vid=vid, now=now)
        expires = date.today() + timedelta(days=VALID_DAYS)
        badge = Badge.create(serial=_next_serial(keys_dir), vid=vid, role=volunteer.role,
                             expires=expires.isoformat(), issued_at=now)
        token = sign_badge(key, vid, badge.serial, badge.role, expires)
        IssueLog(keys_dir).append(badge.serial, vid, volunteer.name, badge.role, expires)
        audit.record(actor, "badge.reissue" if old is not None else "badge.issue", "badge", str(badge.serial),
                     site=volunteer.station, before={"serial": old.serial} if old is not None else None,
                     after={"serial": badge.serial, "vid": vid}, reason=reason)
    return {"vid": vid, "serial": badge.serial, "token": token, "revoked_serial": old.serial if old else None}


def revoke(scope: Scope, vid: str, actor: str, reason: str = "") -> dict:
    """Revoke the volunteer's newest badge (a lost badge). Idempotent: revoking a revoked
    badge answers the same and changes nothing. not_found when no badge was ever issued."""
    scope.require("manage")
    volunteer = _volunteer(scope, vid)
    now = int(time.time())
    with writing():
        badge = Badge.select().where(Badge.vid == vid).order_by(Badge.serial.desc()).first()
        if badge is None:
            raise not_found("badge")
        if badge.revoked_at is None:
            Badge.update(revoked_at=now).where(Badge.serial == badge.serial).execute()
            changes.revoke_badge(badge.serial, vid=vid, now=now)
            audit.record(actor, "badge.revoke", "badge", str(badge.serial), site=volunteer.station,
                         before={"revoked": False}, after={"revoked": True}, reason=reason)
    return {"vid": vid, "serial": badge.serial, "revoked": True}


def sheet_pdf(scope: Scope, keys_dir: Path, site: str | None = None, vids: list[str] | None = None) -> bytes:
    """A PDF sheet of the active badges of `site`'s subtree (or of `vids`), in number order.
    `manage`, not `read`: the sheet holds signed badges, each as good as the card itself."""
    scope.require("manage")
    codes = scope.sites_under(site)
    with reading():
        query = (Badge.select(Badge, Volunteer).join(Volunteer, on=(Badge.vid == Volunteer.vid))
                 .where(Badge.revoked_at.is_null()).order_by(Badge.vid).limit(MAX_SHEET))
        if codes is not None:
            query = query.where(Volunteer.station.in_(sorted(codes)))
        if vids:
            query = query.where(Badge.vid.in_(vids))
        rows = list(query)
    if not rows:
        raise not_found("badge")
    from sync import printing
    cards = [{"token": _sign(keys_dir, b), "name": b.volunteer.name, "team": "、".join(teams_of(b.volunteer.team)),
              "vid": b.vid, "role": b.role, "serial": b.serial} for b in rows]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "badges.pdf"
        printing.badge_sheet_pdf(cards, path)
        return path.read_bytes()
