"""Ed25519 signature checks for the kiosk, through the OpenSSL the process has loaded already.

    key = verify_key_from_b64("…")           # the 32 raw public-key bytes, base64 (as pulled)
    key.is_valid(signature, message)         # True / False, never raises for a bad signature

A kiosk only verifies badges; it never signs. The `cryptography` package does both, and
loading it costs the kiosk about 9 MB (its Rust module carries its own OpenSSL), while
Python's `ssl` module (Kivy's clock imports asyncio, which imports ssl) has the system's
libcrypto mapped in every kiosk process already. So the check calls libcrypto's one-shot
EVP_DigestVerify (OpenSSL ≥ 1.1.1) through ctypes: nothing new is loaded, and a check takes
about as long as cryptography's (both are the same OpenSSL code). Where no such libcrypto
is found (an Android build without it), `cryptography` does the check, as before.
tests/sync/test_verify_key.py checks both paths agree on good, tampered and malformed input.
"""

from __future__ import annotations

import base64
import ctypes
import sys
import threading

__all__ = ["VerifyKey", "verify_key_from_b64", "backend"]

_EVP_PKEY_ED25519 = 1087        # NID_ED25519, the same in OpenSSL 1.1.1 and 3.x
_LIB_NAMES = ("libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so", "libcrypto1.1.so", "libcrypto.dylib")
_lock = threading.Lock()
_lib: ctypes.CDLL | None | bool = False      # False: not looked for yet; None: none usable


def _load() -> ctypes.CDLL | None:
    global _lib
    if _lib is not False:
        return _lib
    with _lock:
        if _lib is not False:
            return _lib
        found = None
        if not sys.platform.startswith("win"):
            try:
                import ssl  # noqa: F401 - the libcrypto Python itself uses: mapped already, nothing new loaded
            except ImportError:
                pass
            for name in _LIB_NAMES:
                try:
                    lib = ctypes.CDLL(name)
                    _declare(lib)
                except (OSError, AttributeError):
                    continue
                found = lib
                break
        _lib = found
        return found


def _declare(lib: ctypes.CDLL) -> None:
    p, c, s, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int
    lib.EVP_PKEY_new_raw_public_key.argtypes = [i, p, c, s]
    lib.EVP_PKEY_new_raw_public_key.restype = p
    lib.EVP_PKEY_free.argtypes = [p]
    lib.EVP_PKEY_free.restype = None
    lib.EVP_MD_CTX_new.argtypes = []
    lib.EVP_MD_CTX_new.restype = p
    lib.EVP_MD_CTX_free.argtypes = [p]
    lib.EVP_MD_CTX_free.restype = None
    lib.EVP_DigestVerifyInit.argtypes = [p, p, p, p, p]
    lib.EVP_DigestVerifyInit.restype = i
    lib.EVP_DigestVerify.argtypes = [p, c, s, c, s]
    lib.EVP_DigestVerify.restype = i
    lib.ERR_clear_error.argtypes = []
    lib.ERR_clear_error.restype = None


def backend() -> str:
    """'libcrypto' (the ctypes path) or 'cryptography' (the fallback)."""
    return "libcrypto" if _load() is not None else "cryptography"


class VerifyKey:
    """An Ed25519 public key that only verifies. `raw`: its 32 bytes."""

    __slots__ = ("raw", "_pkey", "_fallback", "__weakref__")

    def __init__(self, raw: bytes, use_libcrypto: bool = True):
        if not isinstance(raw, (bytes, bytearray)) or len(raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        self.raw = bytes(raw)
        self._pkey = None
        self._fallback = None
        lib = _load() if use_libcrypto else None
        if lib is not None:
            self._pkey = lib.EVP_PKEY_new_raw_public_key(_EVP_PKEY_ED25519, None, self.raw, 32)
            if not self._pkey:
                lib.ERR_clear_error()
                raise ValueError("not an Ed25519 public key")
        else:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
            self._fallback = Ed25519PublicKey.from_public_bytes(self.raw)

    def is_valid(self, signature: bytes, message: bytes) -> bool:
        if self._pkey is None:
            from cryptography.exceptions import InvalidSignature
            try:
                self._fallback.verify(bytes(signature), bytes(message))
                return True
            except InvalidSignature:
                return False
        if len(signature) != 64:
            return False
        lib = _load()
        ctx = lib.EVP_MD_CTX_new()
        if not ctx:
            raise MemoryError("EVP_MD_CTX_new")
        try:
            if lib.EVP_DigestVerifyInit(ctx, None, None, None, self._pkey) != 1:
                lib.ERR_clear_error()
                return False
            ok = lib.EVP_DigestVerify(ctx, bytes(signature), 64, bytes(message), len(message)) == 1
            if not ok:
                lib.ERR_clear_error()   # the thread's error queue stays clean for Python's own ssl
            return ok
        finally:
            lib.EVP_MD_CTX_free(ctx)

    def __del__(self):
        pkey, self._pkey = getattr(self, "_pkey", None), None
        if pkey and _lib:
            _lib.EVP_PKEY_free(pkey)

    def __eq__(self, other) -> bool:
        return isinstance(other, VerifyKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"VerifyKey({base64.b64encode(self.raw).decode('ascii')!r})"


def verify_key_from_b64(text: str, use_libcrypto: bool = True) -> VerifyKey:
    """A key as sent on the wire and kept in the kiosk store: base64 of the 32 raw bytes."""
    return VerifyKey(base64.b64decode(text, validate=True), use_libcrypto)
