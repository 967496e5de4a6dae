"""Signed badge tokens: issued by the center, verified offline by every kiosk.

A badge QR holds one short text::

    WG1:<base32 of: header | volunteer number | Ed25519 signature>

The fixed prefix lets a kiosk turn away a payment code or a URL without any
parsing; the body is base32 upper case so the whole text stays in the QR
"alphanumeric" mode and the code is version 7 or lower at error correction M.

Usage::

    >>> keys = generate_key()                       # center side, once
    >>> token = issue(keys, vid="14020200001", serial=1, role="volunteer",
    ...               expires=date(2027, 12, 31))
    >>> ring = KeyRing({keys.kid: keys.public_key}) # kiosk side: public keys only
    >>> check = verify(token, ring, today=date(2026, 12, 1))
    >>> check.valid, check.code, check.vid
    (True, 'ok', '14020200001')

`verify` never raises on bad input: it answers a `BadgeCheck` whose `code` is one
of REASON_CODES, so a screen can say the right sentence.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:   # imported where a key is made, signed with or read from PEM: a kiosk only verifies
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "WG1:"
VERSION = 1
ROLES = ("volunteer", "coordinator")
REASON_CODES = ("ok", "foreign", "malformed", "bad_signature", "unknown_key", "expired", "revoked")

# Unified volunteer numbers (志愿者统一编号) are short ASCII identifiers; an ID-card
# number must never be put on a badge, which the 18-digit check below refuses.
VID_PATTERN = re.compile(r"^[A-Za-z0-9-]{3,24}$")
ID_CARD_PATTERN = re.compile(r"^\d{17}[\dXx]$")

# header: version (B), role (B), key id (4s), serial (I), expiry day number (H), vid length (B)
_HEADER = struct.Struct(">BB4sIHB")
_SIG_LEN = 64
_EPOCH = date(2000, 1, 1)
# Longest well-formed token; anything longer is refused before decoding (a 3,000-char
# input costs nothing).
MAX_TOKEN_CHARS = len(PREFIX) + ((_HEADER.size + 24 + _SIG_LEN) * 8 + 4) // 5


@dataclass(frozen=True)
class SigningKey:
    kid: str  # 8 hex chars: the first 4 bytes of SHA-256 of the raw public key
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


@dataclass(frozen=True)
class BadgeCheck:
    valid: bool
    code: str
    vid: str | None = None
    serial: int | None = None
    role: str | None = None
    expires: date | None = None
    kid: str | None = None

    def as_dict(self) -> dict:
        return {
            "valid": self.valid,
            "code": self.code,
            "vid": self.vid,
            "serial": self.serial,
            "role": self.role,
            "expires": self.expires.isoformat() if self.expires else None,
            "kid": self.kid,
        }


class KeyRing:
    """The public keys a kiosk trusts, by key id, and the revoked badge serials."""

    def __init__(self, public_keys: dict[str, Ed25519PublicKey] | None = None,
                 revoked_serials: set[int] | None = None):
        self.public_keys = dict(public_keys or {})
        self.revoked_serials = set(revoked_serials or ())

    @classmethod
    def from_raw(cls, raw_keys: dict[str, str], revoked_serials=()) -> "KeyRing":
        """Keys as sent on the wire: kid -> base64 of the 32 raw public-key bytes."""
        return cls({kid: public_key_from_b64(b64) for kid, b64 in raw_keys.items()}, set(revoked_serials))


def key_id(public_key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_key_raw(public_key)).hexdigest()[:8]


def public_key_raw(public_key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64(public_key: Ed25519PublicKey) -> str:
    return base64.b64encode(public_key_raw(public_key)).decode("ascii")


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))


def generate_key() -> SigningKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    private = Ed25519PrivateKey.generate()
    return SigningKey(key_id(private.public_key()), private)


# --- key files -------------------------------------------------------------------
# KEYS/<kid>.private.pem, KEYS/<kid>.public.pem, and KEYS/current naming the key that
# signs new badges. Older keys stay so that badges they signed keep verifying.

def init_keys(directory: Path) -> SigningKey:
    """Make a new signing key in `directory` and make it the current one."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    from cryptography.hazmat.primitives import serialization
    key = generate_key()
    private_pem = key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public_pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    private_path = directory / f"{key.kid}.private.pem"
    private_path.write_bytes(private_pem)
    private_path.chmod(0o600)
    (directory / f"{key.kid}.public.pem").write_bytes(public_pem)
    (directory / "current").write_text(key.kid + "\n")
    return key


def load_signing_key(directory: Path) -> SigningKey:
    directory = Path(directory)
    current = directory / "current"
    if not current.exists():
        raise FileNotFoundError(f"no signing key in {directory}: run `weiguang keys init --dir {directory}`")
    kid = current.read_text().strip()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    private = serialization.load_pem_private_key((directory / f"{kid}.private.pem").read_bytes(), None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError(f"{kid}.private.pem is not an Ed25519 key")
    return SigningKey(kid, private)


def load_public_keys(directory: Path) -> dict[str, Ed25519PublicKey]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    keys = {}
    for path in sorted(Path(directory).glob("*.public.pem")):
        public = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(public, Ed25519PublicKey):
            keys[key_id(public)] = public
    if not keys:
        raise FileNotFoundError(f"no public keys in {directory}")
    return keys


# --- tokens ------------------------------------------------------------------------

def issue(key: SigningKey, vid: str, serial: int, role: str = "volunteer",
          expires: date | None = None) -> str:
    """A signed badge token. `expires` defaults to three years from today."""
    if not VID_PATTERN.match(vid) or ID_CARD_PATTERN.match(vid):
        raise ValueError(f"volunteer number {vid!r} must be 3-24 letters, digits or '-', and not an ID-card number")
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")
    if not 0 < serial < 2**32:
        raise ValueError("serial must be a positive 32-bit number")
    expires = expires or date.today() + timedelta(days=3 * 365)
    days = (expires - _EPOCH).days
    if not 0 <= days < 2**16:
        raise ValueError(f"expiry {expires} out of range")
    vid_bytes = vid.encode("ascii")
    body = _HEADER.pack(VERSION, ROLES.index(role), bytes.fromhex(key.kid), serial, days, len(vid_bytes)) + vid_bytes
    signature = key.private_key.sign(PREFIX.encode("ascii") + body)
    return PREFIX + base64.b32encode(body + signature).decode("ascii").rstrip("=")


def looks_like_badge(text: str) -> bool:
    """The microsecond test: could this text be one of our badges at all?"""
    return isinstance(text, str) and text.startswith(PREFIX)


def verify(text: str, keys: KeyRing, today: date | None = None) -> BadgeCheck:
    """Check a scanned text. Never raises; see REASON_CODES for the answers. White space
    around the text (a USB scanner's suffix, a pasted line) is not part of a badge."""
    if isinstance(text, str):
        text = text.strip()
    if not looks_like_badge(text):
        return BadgeCheck(False, "foreign")
    encoded = text[len(PREFIX):]
    if len(text) > MAX_TOKEN_CHARS or not encoded:
        return BadgeCheck(False, "malformed")
    try:
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except (binascii.Error, ValueError):
        return BadgeCheck(False, "malformed")
    if len(raw) < _HEADER.size + _SIG_LEN:
        return BadgeCheck(False, "malformed")
    body, signature = raw[:-_SIG_LEN], raw[-_SIG_LEN:]
    version, role_index, kid_bytes, serial, days, vid_len = _HEADER.unpack_from(body)
    vid_bytes = body[_HEADER.size:]
    if version != VERSION or role_index >= len(ROLES) or len(vid_bytes) != vid_len:
        return BadgeCheck(False, "malformed")
    try:
        vid = vid_bytes.decode("ascii")
    except UnicodeDecodeError:
        return BadgeCheck(False, "malformed")
    kid = kid_bytes.hex()
    public = keys.public_keys.get(kid)
    if public is None:
        return BadgeCheck(False, "unknown_key", vid=vid, serial=serial, kid=kid)
    if not _signed(public, signature, PREFIX.encode("ascii") + body):
        return BadgeCheck(False, "bad_signature", kid=kid)
    # Only now, with the signature good, are the fields trusted.
    expires = _EPOCH + timedelta(days=days)
    fields = dict(vid=vid, serial=serial, role=ROLES[role_index], expires=expires, kid=kid)
    if serial in keys.revoked_serials:
        return BadgeCheck(False, "revoked", **fields)
    if expires < (today or date.today()):
        return BadgeCheck(False, "expired", **fields)
    return BadgeCheck(True, "ok", **fields)


def _signed(public, signature: bytes, message: bytes) -> bool:
    """A kiosk's keys are sync.verify_key.VerifyKey (no cryptography loaded); the center's
    and the CLI's are cryptography's Ed25519PublicKey."""
    is_valid = getattr(public, "is_valid", None)
    if is_valid is not None:
        return is_valid(signature, message)
    from cryptography.exceptions import InvalidSignature
    try:
        public.verify(signature, message)
        return True
    except InvalidSignature:
        return False
