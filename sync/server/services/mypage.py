"""A volunteer's own page (no log-in): opened from a signed, expiring link (`sync.mylink`)
that a kiosk shows as a QR code, or the dashboard gives. It shows that volunteer's hours,
sessions, star level and certificates, and nothing about anyone else.

    >>> token = link_token(scope, "14020200001", secret)      # the dashboard, for a volunteer in scope
    >>> page(token, secret)                                    # {"vid", "name", "figures", "sessions", ...}
    >>> certificate_pdf(token, number, secret, base_url)       # one of their own certificates
"""

from __future__ import annotations

import time
from datetime import datetime

from sync import mylink, stars
from sync.hours import COUNTED_STATES
from sync.server.db import reading
from sync.server.models import Activity, Certificate, HoursSession, Site, Volunteer
from sync.server.services import ServiceError, certificates, reports, totals
from sync.server.services.scope import Scope, not_found

MAX_SESSIONS = 100


def link_token(scope: Scope, vid: str, secret: str, now: float | None = None,
               seconds: int = mylink.DEFAULT_SECONDS) -> str:
    """A link for a volunteer of the scope, made by the center (the dashboard)."""
    scope.require("read")
    with reading():
        v = Volunteer.get_or_none(Volunteer.vid == vid)
    if v is None or not scope.contains(v.station) or not v.station:
        raise not_found("volunteer")
    now = time.time() if now is None else now
    return mylink.make(mylink.station_key(secret, v.station), vid, v.station, int(now) + seconds)


def _volunteer(token: str, secret: str, now: float | None) -> Volunteer:
    try:
        vid, station, _, _ = mylink.parse(token)
        mylink.check(mylink.station_key(secret, station), token, time.time() if now is None else now)
    except mylink.LinkError as exc:
        raise ServiceError(exc.code, str(exc)) from None
    with reading():
        v = Volunteer.get_or_none(Volunteer.vid == vid)
    if v is None or v.station != station:       # a station's key makes links for its own roster only
        raise ServiceError("link_invalid", "this link is not valid any more")
    return v


def page(token: str, secret: str, now: float | None = None) -> dict:
    v = _volunteer(token, secret, now)
    with reading():
        numbers = totals.figures([v.vid], now)[v.vid]
        rows = list(HoursSession.select().where(HoursSession.vid == v.vid)
                    .order_by(HoursSession.check_in_at.desc()).limit(MAX_SESSIONS))
        ids = list({r.activity_id for r in rows if r.activity_id})
        titles = dict(Activity.select(Activity.id, Activity.title).where(Activity.id.in_(ids)).tuples()) if ids else {}
        names = dict(Site.select(Site.code, Site.name).tuples())
        certs = list(Certificate.select().where(Certificate.vid == v.vid).order_by(Certificate.issued_at.desc()))
    level = stars.level(numbers["total_minutes"], reports.star_hours())
    return {"vid": v.vid, "name": v.name, "station": names.get(v.station, v.station or ""), **numbers,
            "stars": level, "next_star_hours": stars.next_threshold(numbers["total_minutes"], reports.star_hours()),
            "sessions": [{"date": datetime.fromtimestamp(r.check_in_at, reports.TZ).strftime("%Y-%m-%d %H:%M"),
                          "activity": titles.get(r.activity_id, "") if r.activity_id else "",
                          "place": names.get(r.station, r.station), "minutes": r.minutes, "state": r.state,
                          "counted": r.state in COUNTED_STATES} for r in rows],
            "certificates": [{"number": c.number, "from": c.start, "to": c.end, "minutes": c.minutes,
                              "issued_on": datetime.fromtimestamp(c.issued_at, reports.TZ).date().isoformat()}
                             for c in certs]}


def certificate_pdf(token: str, number: str, secret: str, base_url: str, now: float | None = None) -> bytes:
    v = _volunteer(token, secret, now)
    with reading():
        c = Certificate.get_or_none(Certificate.number == certificates.normalise(number))
    if c is None or c.vid != v.vid:
        raise not_found("certificate")
    return certificates.pdf([certificates._as_dict(c)], base_url)
