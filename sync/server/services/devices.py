"""Kiosk devices: one-time enrolment codes, bearer tokens, revocation.

    >>> code = make_enroll_code("dgj", hours=24)           # printed by `weiguang server code`
    >>> answer = enroll(code, device_id="f3c1…")           # the kiosk trades it once (a new id)
    >>> authenticate(answer.token).station                 # on every request
    'dgj'
    >>> revoke_device(answer.device_id)                    # a stolen kiosk: 403 device_revoked

Codes and tokens are stored only as sha256 hashes: both are random enough that a slow
hash buys nothing, and a copied database yields nothing usable.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import re
import uuid
from dataclasses import dataclass

from sync.protocol import CODE_INVALID, DEVICE_EXISTS
from sync.server.db import reading, writing
from sync.server.models import Device, EnrollCode
from sync.server.services import ServiceError, kiosk_numbers
from sync.server.services.changes import public_keys, station_info
from sync.server.services.sites import resolve_station

DEVICE_ID = re.compile(r"[A-Za-z0-9-]{1,64}")

# No 0/O, 1/I/L: the code is read off a screen and typed on a kiosk.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE_LENGTH = 12


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def make_enroll_code(station: str, hours: float = 24, now: float | None = None) -> str:
    """A one-time code for a kiosk at `station` (a code or an exact name). Refuses
    unknown_station (with the nearest names) for a station not in the network."""
    now = int(time.time() if now is None else now)
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    with writing():
        row = resolve_station(station)
        EnrollCode.create(code_hash=_sha256(raw), station=row.code, created_at=now,
                          expires_at=now + int(hours * 3600))
    return "-".join(raw[i:i + 4] for i in range(0, _CODE_LENGTH, 4))


@dataclass(frozen=True)
class Enrolment:
    device_id: str
    token: str
    station: dict
    public_keys: dict[str, str]
    kiosk_number: int | None = None


def enroll(code: str, device_id: str | None = None, device_name: str = "kiosk",
           now: float | None = None) -> Enrolment:
    """Trade a one-time code for a device token for a NEW device. Refuses: code_invalid
    (unknown, used or expired: one answer, so it tells no one which codes exist),
    device_revoked (a revoked kiosk id stays revoked), device_exists (an enrolled id: a
    code plus another kiosk's id must not take that kiosk over; a kiosk enrolled again
    comes with a fresh id). A refused enrolment leaves the code unused."""
    now = int(time.time() if now is None else now)
    token = secrets.token_urlsafe(32)
    # Letters, digits and "-" only: a device id is put into page addresses (the fleet's
    # revoke button), and "../fleet/<another id>/revoke?" aimed it at another kiosk.
    if device_id is not None and not DEVICE_ID.fullmatch(device_id):
        raise ServiceError("bad_device_id", "a device id is 1-64 letters, digits or '-'")
    device_name = "".join(ch for ch in device_name if ch.isprintable()) or "kiosk"
    with writing():
        code_hash = _sha256(normalise_code(code))
        row = EnrollCode.get_or_none(EnrollCode.code_hash == code_hash)
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise _code_invalid()
        device_id = device_id or str(uuid.uuid4())
        existing = Device.get_or_none(Device.id == device_id)
        if existing is not None and existing.revoked_at is not None:
            raise ServiceError("device_revoked", "this kiosk was revoked; reinitialise it")
        if existing is not None:
            raise _device_exists()
        # Claim the code with one conditional UPDATE: of two kiosks racing with the same
        # code exactly one changes the row.
        claimed = (EnrollCode.update(used_at=now, device_id=device_id)
                   .where((EnrollCode.code_hash == code_hash) & EnrollCode.used_at.is_null()).execute())
        if not claimed:
            raise _code_invalid()
        # ON CONFLICT DO NOTHING: of two enrolments racing with one new id, the second is
        # refused (and its claim of the code rolled back with the transaction).
        inserted = (Device.insert(id=device_id, station=row.station, name=device_name,
                                  token_hash=_sha256(token), enrolled_at=now)
                    .on_conflict_ignore().as_rowcount().execute())
        if not inserted:
            raise _device_exists()
        return Enrolment(device_id, token, station_info(row.station), public_keys(), kiosk_numbers.assign(device_id))


def _code_invalid() -> ServiceError:
    return ServiceError(CODE_INVALID, "this enrolment code is not valid (unknown, used or expired); ask for a new one")


def _device_exists() -> ServiceError:
    return ServiceError(DEVICE_EXISTS, "a kiosk with this device id is enrolled already; enrol with a new id")


# token hash -> (device, when cached). Every request authenticates; a database round trip
# for each one is most of a pull's cost. Revocation in this process clears the cache at
# once; from another process (the CLI) it takes effect within TOKEN_CACHE_SECONDS for
# pulls, and at once for pushes (the group writer re-reads revoked_at in its transaction).
TOKEN_CACHE_SECONDS = 5.0
_token_cache: dict[str, tuple[Device, float]] = {}


def authenticate(token: str | None) -> Device:
    """The device holding `token`. Refuses: unauthorized (none or unknown), device_revoked."""
    device = authenticate_from_cache(token)
    if device is None:
        token_hash, now = _sha256(token), time.monotonic()
        with reading():
            device = Device.get_or_none(Device.token_hash == token_hash)
        if device is None:
            raise ServiceError("unauthorized", "unknown device token")
        if len(_token_cache) > 10_000:  # bounded: forget everything rather than grow
            _token_cache.clear()
        _token_cache[token_hash] = (device, now)
    if device.revoked_at is not None:
        raise ServiceError("device_revoked", "this kiosk was revoked by the center")
    return device


def authenticate_from_cache(token: str | None) -> Device | None:
    """`authenticate` as far as it goes without the database, for the event loop: the
    device when its token is cached; None when only the database can tell (then call
    `authenticate` on a thread). Refuses what needs no lookup: no token, a revoked device."""
    if not token:
        raise ServiceError("unauthorized", "a device token is required (Authorization: Bearer …)")
    cached = _token_cache.get(_sha256(token))
    if cached is None or time.monotonic() - cached[1] >= TOKEN_CACHE_SECONDS:
        return None
    if cached[0].revoked_at is not None:
        raise ServiceError("device_revoked", "this kiosk was revoked by the center")
    return cached[0]


def forget_tokens() -> None:
    """Drop the token cache (after a revocation, and between test databases)."""
    _token_cache.clear()


def revoke_device(device_id: str, now: float | None = None) -> bool:
    """Revoke a kiosk's token; its next request is answered 403 device_revoked."""
    with writing():
        done = bool(Device.update(revoked_at=int(time.time() if now is None else now))
                    .where(Device.id == device_id).execute())
    forget_tokens()
    return done


def count_devices() -> int:
    with reading():
        return Device.select().where(Device.revoked_at.is_null()).count()



