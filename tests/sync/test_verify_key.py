"""The kiosk's verify-only Ed25519 keys (sync.verify_key) answer as cryptography does."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature

from sync import verify_key
from sync.badges import KeyRing, generate_key, issue, public_key_b64, verify
from sync.verify_key import VerifyKey, verify_key_from_b64

ROOT = Path(__file__).resolve().parents[2]


def reference(public, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
        return True
    except InvalidSignature:
        return False


@pytest.mark.parametrize("use_libcrypto", [True, False])
def test_good_tampered_and_malformed_signatures_agree_with_cryptography(use_libcrypto):
    if use_libcrypto and verify_key.backend() != "libcrypto":
        pytest.skip("no libcrypto with Ed25519 here")
    rng = __import__("random").Random(7)
    for _ in range(40):
        key = generate_key()
        light = verify_key_from_b64(public_key_b64(key.public_key), use_libcrypto=use_libcrypto)
        message = rng.randbytes(rng.randrange(0, 200))
        signature = key.private_key.sign(message)
        cases = [(signature, message), (signature, message + b"x"), (signature[:-1], message),
                 (signature + b"\0", message), (b"", message), (bytes(64), message),
                 (bytes([signature[0] ^ 1]) + signature[1:], message),
                 (signature[:32] + bytes([signature[32] ^ 0x80]) + signature[33:], message),
                 (generate_key().private_key.sign(message), message)]
        for sig, msg in cases:
            assert light.is_valid(sig, msg) == reference(key.public_key, sig, msg), (sig.hex(), msg.hex())
        assert light.is_valid(signature, message)


def test_a_key_is_32_bytes():
    for raw in (b"", bytes(31), bytes(33)):
        with pytest.raises(ValueError):
            VerifyKey(raw)
    with pytest.raises(ValueError):
        verify_key_from_b64("not base64!")


def test_badges_verify_the_same_with_either_kind_of_key():
    key = generate_key()
    light = KeyRing({key.kid: verify_key_from_b64(public_key_b64(key.public_key))}, {9})
    heavy = KeyRing({key.kid: key.public_key}, {9})
    today = date(2026, 12, 1)
    good = issue(key, "14020200001", 1, "volunteer", date(2027, 1, 1))
    revoked = issue(key, "14020200002", 9, "coordinator", date(2027, 1, 1))
    expired = issue(key, "14020200003", 3, "volunteer", date(2026, 1, 1))
    forged = issue(generate_key(), "14020200001", 1, "volunteer", date(2027, 1, 1))
    forged = forged[:4] + issue(key, "14020200001", 1, "volunteer", date(2027, 1, 1))[4:12] + forged[12:]
    for text in (good, revoked, expired, forged, good[:-3] + "AAA", "WG1:", "https://example.org"):
        assert verify(text, light, today=today) == verify(text, heavy, today=today), text


def test_a_kiosk_deciding_a_scan_does_not_load_cryptography(tmp_path):
    """The kiosk process verifies badges without importing cryptography (about 9 MB)."""
    from kiosk.ui.sample import make_kiosk
    _, tokens = make_kiosk(tmp_path / "k")
    script = ("import sys, json\n"
              "from kiosk.store import open_store\n"
              "from kiosk.attendance import Attendance\n"
              f"store = open_store({str(tmp_path / 'k' / 'kiosk.db')!r})\n"
              f"d = Attendance(store).scan({tokens['14020200001']!r})\n"
              "print(json.dumps({'result': d.result, 'loaded': 'cryptography' in sys.modules}))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith('{"result": "checked_in", "loaded": false}'), out.stdout
