"""A volunteer's own page on their phone: the signed, expiring link (one copy, for the
center that checks it and for whatever makes one: the dashboard, a kiosk holding its
station's key).

    >>> key = station_key("server secret", "WBY")          # the center derives each station's key
    >>> token = make(key, "14020200001", "WBY", expires=1_800_000_000)
    >>> check(key, token, now=1_799_999_000)
    '14020200001'

A token is ``<vid>.<station>.<expires>.<mac>``: the MAC (HMAC-SHA256, 128 bits, base64url)
covers the other three, so a link for another volunteer, another station or a later
expiry cannot be made from one seen. The center accepts a station's token only for the
volunteers on that station's roster.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

TOKEN = re.compile(r"^([A-Za-z0-9-]{3,32})\.([A-Za-z0-9_-]{1,32})\.(\d{9,11})\.([A-Za-z0-9_-]{22})$")
DEFAULT_SECONDS = 24 * 3600


class LinkError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def station_key(secret: str, station: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), b"weiguang volunteer page\x00" + station.encode("utf-8"),
                    hashlib.sha256).digest()


def _mac(key: bytes, vid: str, station: str, expires: int) -> str:
    digest = hmac.new(key, f"{vid}.{station}.{expires}".encode("utf-8"), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def make(key: bytes, vid: str, station: str, expires: int) -> str:
    token = f"{vid}.{station}.{int(expires)}.{_mac(key, vid, station, int(expires))}"
    if not TOKEN.match(token):
        raise ValueError("a volunteer number or station code that cannot be in a link")
    return token


def parse(token: str) -> tuple[str, str, int, str]:
    match = TOKEN.match(token or "")
    if not match:
        raise LinkError("link_invalid", "this link is not a volunteer's page link")
    return match.group(1), match.group(2), int(match.group(3)), match.group(4)


def check(key: bytes, token: str, now: float) -> str:
    """The volunteer number of a genuine, unexpired token (LinkError otherwise)."""
    vid, station, expires, mac = parse(token)
    if not hmac.compare_digest(_mac(key, vid, station, expires), mac):
        raise LinkError("link_invalid", "this link was altered")
    if now >= expires:
        raise LinkError("link_expired", "this link has expired; scan the QR code at the kiosk again")
    return vid
