"""Coordinator mode's door: the PIN a coordinator types after showing the badge.

PINs are set at the center only (`sync.server.services.coordinator_pins`) and arrive in the
pull as argon2 hashes (change kind "coordinator_pin", key = the coordinator's vid); a kiosk
never lets a badge holder choose one. A PIN is checked against the hash of the coordinator
whose badge was shown, and wrong PINs count per coordinator: five wrong PINs lock that
coordinator out for five minutes (kept in the store, so restarting the app does not reset
it); another coordinator is not affected.

    >>> pins = CoordinatorPins(store)
    >>> pins.state("14020200009")        # {"has_pin": True, "locked_for": 0, "failures": 0}
    >>> pins.check("14020200009", "2468")  # {"ok": True, "locked_for": 0, "left": 5}

Plain Python (no Kivy): the screens call it through `kiosk.ui.services` on the DB worker.
"""

from __future__ import annotations

from typing import Any

HASHES_KEY = "center_pins"      # {vid: argon2 hash}, as the center published them
LOCKS_KEY = "pin_locks"         # {vid: {"failures": n, "until": unix seconds}}
MAX_FAILURES = 5
LOCK_SECONDS = 5 * 60
MAX_PIN_DIGITS = 8


class CoordinatorPins:
    def __init__(self, store):
        self.store = store

    def _hashes(self) -> dict[str, str]:
        return dict(self.store.settings.get(HASHES_KEY) or {})

    def _locks(self) -> dict[str, dict[str, int]]:
        return dict(self.store.settings.get(LOCKS_KEY) or {})

    def state(self, vid: str) -> dict[str, Any]:
        """has_pin: the center sent a PIN for this coordinator; locked_for: seconds left."""
        lock = self._locks().get(vid) or {}
        now = self.store.clock()
        return {"has_pin": vid in self._hashes(), "locked_for": max(0, int(lock.get("until", 0) - now)),
                "failures": int(lock.get("failures", 0))}

    def check(self, vid: str, pin: str) -> dict[str, Any]:
        """{'ok', 'locked_for' (seconds), 'left' (tries), 'no_pin'}; wrong PINs count for `vid` only."""
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError
        state = self.state(vid)
        if state["locked_for"] > 0:
            return {"ok": False, "locked_for": state["locked_for"], "left": 0, "no_pin": False}
        pin_hash = self._hashes().get(vid)
        if pin_hash is None:
            return {"ok": False, "locked_for": 0, "left": MAX_FAILURES - state["failures"], "no_pin": True}
        try:
            ok = len(pin) <= MAX_PIN_DIGITS and PasswordHasher().verify(pin_hash, pin)
        except (VerificationError, InvalidHashError):
            ok = False
        with self.store.writing():
            locks = self._locks()
            if ok:
                locks.pop(vid, None)
                self.store.settings.set(**{LOCKS_KEY: locks})
                return {"ok": True, "locked_for": 0, "left": MAX_FAILURES, "no_pin": False}
            failures = int((locks.get(vid) or {}).get("failures", 0)) + 1
            until = 0
            if failures >= MAX_FAILURES:
                until, failures = int(self.store.clock()) + LOCK_SECONDS, 0
            locks[vid] = {"failures": failures, "until": until}
            self.store.settings.set(**{LOCKS_KEY: locks})
        return {"ok": False, "locked_for": LOCK_SECONDS if until else 0,
                "left": 0 if until else MAX_FAILURES - failures, "no_pin": False}


def apply_pin_change(store, vid: str, data: dict | None) -> None:
    """The "coordinator_pin" applier (`kiosk.store._CHANGE_APPLIERS`): keep the center's hash
    for `vid`, or forget it (data None). A new PIN clears that coordinator's lockout."""
    hashes = dict(store.settings.get(HASHES_KEY) or {})
    locks = dict(store.settings.get(LOCKS_KEY) or {})
    if data is None or not str(data.get("hash", "")).startswith("$argon2"):
        hashes.pop(vid, None)
    else:
        hashes[vid] = data["hash"]
    locks.pop(vid, None)
    store.settings.set(**{HASHES_KEY: hashes, LOCKS_KEY: locks})


def receive_pin_hash(store, vid: str, pin_hash: str | None) -> None:
    """What a pulled "coordinator_pin" change does, for a kiosk without a center (the demo,
    tests, screenshots): the hash goes through the same applier, the cursor stays."""
    from sync.wire import Change
    store.apply_changes([Change(kind="coordinator_pin", key=vid, version=0,
                                data=None if pin_hash is None else {"hash": pin_hash})],
                        cursor=store.settings.get("cursor") or 0)


def hash_pin(pin: str) -> str:
    """An argon2 hash as the center makes it (demo and tests only: the kiosk never sets PINs)."""
    from argon2 import PasswordHasher
    return PasswordHasher().hash(pin)
