"""Kiosk devices: one-time enrolment codes, bearer tokens, revocation.

    >>> code = make_enroll_code("dgj", hours=24)           # printed by `weiguang server code`
    >>> answer = enroll(code, device_id="f3c1…")           # the kiosk trades it once
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
import uuid
from dataclasses import dataclass

from sync.server.db import reading, writing
from sync.server.models import Device, EnrollCode
from sync.server.services import ServiceError
from sync.server.services.changes import public_keys, station_info
from sync.server.services.sites import resolve_station

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


def enroll(code: str, device_id: str | None = None, device_name: str = "kiosk",
           now: float | None = None) -> Enrolment:
    """Trade a one-time code for a device token. Refuses: code_unknown, code_used,
    code_expired, device_revoked (a revoked kiosk id stays revoked)."""
    now = int(time.time() if now is None else now)
    token = secrets.token_urlsafe(32)
    if device_id is not None and not device_id.isprintable():
        raise ServiceError("bad_device_id", "a device id is printable text")
    device_name = "".join(ch for ch in device_name if ch.isprintable()) or "kiosk"
    with writing():
        # Claim the code with one conditional UPDATE: of two kiosks racing with the same
        # code exactly one changes the row.
        code_hash = _sha256(normalise_code(code))
        row = EnrollCode.get_or_none(EnrollCode.code_hash == code_hash)
        if row is None:
            raise ServiceError("code_unknown", "this enrolment code is not known")
        if row.used_at is not None:
            raise ServiceError("code_used", "this enrolment code was used already")
        if row.expires_at <= now:
            raise ServiceError("code_expired", "this enrolment code has expired; ask for a new one")
        device_id = device_id or str(uuid.uuid4())
        existing = Device.get_or_none(Device.id == device_id)
        if existing is not None and existing.revoked_at is not None:
            raise ServiceError("device_revoked", "this kiosk was revoked; reinitialise it")
        claimed = (EnrollCode.update(used_at=now, device_id=device_id)
                   .where((EnrollCode.code_hash == code_hash) & EnrollCode.used_at.is_null()).execute())
        if not claimed:
            raise ServiceError("code_used", "this enrolment code was used already")
        # A kiosk enrolled again (new code) keeps its id and gets a fresh token.
        fields = dict(station=row.station, name=device_name, token_hash=_sha256(token), enrolled_at=now)
        if existing is None:
            Device.create(id=device_id, **fields)
        else:
            Device.update(**fields).where(Device.id == device_id).execute()
            forget_tokens()  # the old token must stop working now
        return Enrolment(device_id, token, station_info(row.station), public_keys())


# token hash -> (device, when cached). Every request authenticates; a database round trip
# for each one is most of a pull's cost. Revocation in this process clears the cache at
# once; from another process (the CLI) it takes effect within TOKEN_CACHE_SECONDS for
# pulls, and at once for pushes (the group writer re-reads revoked_at in its transaction).
TOKEN_CACHE_SECONDS = 5.0
_token_cache: dict[str, tuple[Device, float]] = {}


def authenticate(token: str | None) -> Device:
    """The device holding `token`. Refuses: unauthorized (none or unknown), device_revoked."""
    if not token:
        raise ServiceError("unauthorized", "a device token is required (Authorization: Bearer …)")
    token_hash, now = _sha256(token), time.monotonic()
    cached = _token_cache.get(token_hash)
    if cached is not None and now - cached[1] < TOKEN_CACHE_SECONDS:
        device = cached[0]
    else:
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


def forget_tokens() -> None:
    """Drop the token cache (after a revocation or re-enrolment, and between test databases)."""
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



