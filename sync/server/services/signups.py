"""Sign-ups on an activity's public page, from residents' and volunteers' phones.

Every activity has an unguessable page, ``/signup/TOKEN`` (a random token, not the id), whose
QR the kiosk shows on the activity's detail. Anyone with the link signs up with a mainland
mobile number; no log-in.

    >>> view(token)                                 # the page's data: title, time, places left, state
    >>> sign_up(token, "13800138000", client="1.2.3.4")   # {"activity_id", "phone": "138****8000", ...}
    >>> for_activity(scope, activity_id)            # the desk: masked except for the site's coordinators
    >>> purge()                                     # phones of activities over for RETENTION_DAYS

Rules: one sign-up per phone per activity (already_signed_up), none when the activity is
full (activity_full), cancelled (activity_cancelled), closed at a kiosk or over
(activity_over); SIGNUPS_PER_CLIENT per minute per client address (rate_limited).

Privacy: the phone number is kept only to reach the person about this activity; it is
deleted (the row stays, without the phone, so the count stands) RETENTION_DAYS after the
activity ends (`purge`, run at most hourly by the sign-up path and by the desk's pages).
It is shown whole only to coordinators of the activity's own site, masked (138****8000)
everywhere else.

Each sign-up publishes the activity again (``signed_up``: the count), so a kiosk shows the
places left after its next pull.
"""

from __future__ import annotations

import re
import secrets
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from peewee import fn

from sync.server.db import LOCK_CHANGES, advisory_lock, in_list, reading, writing
from sync.server.models import Activity, ActivitySignup, Site
from sync.server.services import ServiceError
from sync.server.services.scope import Scope, not_found
from sync.server.services.volunteers import mask_phone

RETENTION_DAYS = 30
SIGNUPS_PER_CLIENT = 10
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
MAX_NAME = 20
PURGE_EVERY = 3600

_limiter = MovingWindowRateLimiter(MemoryStorage())
_PER_CLIENT = RateLimitItemPerMinute(SIGNUPS_PER_CLIENT)
_public_url = ""
_last_purge = 0.0


def configure(public_url: str | None) -> None:
    """The address phones reach the center at (settings.public_url), for absolute sign-up
    links; without it a link is a path, which a kiosk completes with its server's address."""
    global _public_url
    _public_url = (public_url or "").rstrip("/")


def reset_limits() -> None:
    _limiter.storage.reset()


def new_token() -> str:
    return secrets.token_urlsafe(12)


def signup_url(token: str | None) -> str:
    return f"{_public_url}/signup/{token}" if token else ""


def normalise_phone(text: str) -> str:
    """'138 0013 8000', '+86 138-0013-8000' -> '13800138000'; bad_phone unless a mainland mobile."""
    digits = re.sub(r"[\s\-()（）]", "", text or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not MOBILE.match(digits):
        raise ServiceError("bad_phone", "not a mainland China mobile number (11 digits starting with 13-19)")
    return digits


def counts(activity_ids) -> dict[str, int]:
    ids = list(activity_ids)
    if not ids:
        return {}
    rows = (ActivitySignup.select(ActivitySignup.activity_id, fn.COUNT(ActivitySignup.id))
            .where(in_list(ActivitySignup.activity_id, ids)).group_by(ActivitySignup.activity_id).tuples())
    return dict(rows)


def _activity(token: str) -> Activity:
    if not TOKEN.match(token or ""):
        raise not_found("activity")
    row = Activity.get_or_none(Activity.signup_token == token)
    if row is None:
        raise not_found("activity")
    return row


def _state(row: Activity, signed_up: int, now: int) -> str:
    if row.cancelled_at is not None:
        return "cancelled"
    if row.closed_at is not None or row.ends_at <= now:
        return "over"
    if row.capacity is not None and signed_up >= row.capacity:
        return "full"
    return "open"


def view(token: str, now: float | None = None) -> dict:
    """What the public page shows (nothing about who signed up)."""
    now = int(time.time() if now is None else now)
    with reading():
        row = _activity(token)
        signed_up = counts([row.id]).get(row.id, 0)
        site = Site.get_or_none(Site.code == row.station) if row.station else None
    return {"title": row.title, "category": row.category, "starts_at": row.starts_at, "ends_at": row.ends_at,
            "place": row.place, "team": row.team, "description": row.description,
            "site_name": site.name if site else "", "timezone": site.timezone if site else "Asia/Shanghai",
            "capacity": row.capacity, "signed_up": signed_up,
            "places_left": None if row.capacity is None else max(0, row.capacity - signed_up),
            "state": _state(row, signed_up, now)}


def check_rate(client: str) -> None:
    if not _limiter.hit(_PER_CLIENT, "signup", client or "unknown"):
        raise ServiceError("rate_limited", "too many sign-ups from this address; wait a minute")


def sign_up(token: str, phone: str, client: str, name: str = "", now: float | None = None) -> dict:
    check_rate(client)
    with reading():
        _activity(token)                     # an unknown link is not_found, whatever the phone
    phone = normalise_phone(phone)
    name = (name or "").strip()[:MAX_NAME]
    now = int(time.time() if now is None else now)
    from sync.server.services.changes import activity_data, append_changes
    from sync.server.services.activities import stations_of
    with writing():
        advisory_lock(LOCK_CHANGES)          # two phones at once on PostgreSQL: one count at a time
        row = _activity(token)
        signed_up = counts([row.id]).get(row.id, 0)
        state = _state(row, signed_up, now)
        if state == "cancelled":
            raise ServiceError("activity_cancelled", "this activity was cancelled")
        if state == "over":
            raise ServiceError("activity_over", "this activity is over")
        if ActivitySignup.select().where((ActivitySignup.activity_id == row.id)
                                         & (ActivitySignup.phone == phone)).exists():
            raise ServiceError("already_signed_up", "this phone number has signed up for this activity already")
        if state == "full":
            raise ServiceError("activity_full", "no places left")
        ActivitySignup.create(activity_id=row.id, phone=phone, name=name, created_at=now)
        data = activity_data(row)
        append_changes([("activity", row.id, data, s) for s in stations_of(row.station)])
    maybe_purge()
    return {"activity_id": row.id, "title": row.title, "phone": mask_phone(phone), "signed_up": data["signed_up"],
            "places_left": None if row.capacity is None else max(0, row.capacity - data["signed_up"])}


def for_activity(scope: Scope, activity_id: str) -> dict:
    """The desk's list: phones whole only for coordinators of the activity's own site."""
    scope.require("read")
    with reading():
        row = Activity.get_or_none(Activity.id == activity_id)
        if row is None or not scope.contains(row.station):
            raise not_found("activity")
        rows = list(ActivitySignup.select().where(ActivitySignup.activity_id == activity_id)
                    .order_by(ActivitySignup.created_at, ActivitySignup.id))
    whole = scope.phone_visible(row.station)
    items = [{"name": r.name, "created_at": r.created_at,
              "phone": "" if r.phone is None else (r.phone if whole else mask_phone(r.phone))} for r in rows]
    return {"activity_id": activity_id, "signup_url": signup_url(row.signup_token), "signed_up": len(items),
            "capacity": row.capacity, "phones_whole": whole, "items": items}


def purge(now: float | None = None) -> int:
    """Delete the phone numbers of sign-ups to activities that ended RETENTION_DAYS ago or
    more (or were cancelled that long ago); returns how many were deleted."""
    now = int(time.time() if now is None else now)
    cutoff = now - RETENTION_DAYS * 86400
    with writing():
        done = (Activity.select(Activity.id)
                .where((Activity.ends_at <= cutoff) | (Activity.cancelled_at <= cutoff)))
        return (ActivitySignup.update(phone=None)
                .where(ActivitySignup.phone.is_null(False) & ActivitySignup.activity_id.in_(done)).execute())


def maybe_purge() -> None:
    global _last_purge
    if time.monotonic() - _last_purge > PURGE_EVERY:
        _last_purge = time.monotonic()
        purge()
