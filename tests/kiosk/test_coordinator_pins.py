"""The kiosk's coordinator PINs (kiosk.coordinator): hashes from the center only, checked
per coordinator, and a lockout that is that coordinator's alone."""

from __future__ import annotations

from argon2 import PasswordHasher

from kiosk.coordinator import LOCK_SECONDS, CoordinatorPins, receive_pin_hash
from sync import protocol

A, B = "14020200009", "14020200008"


def test_each_coordinator_has_their_own_pin_and_lockout(store):
    t = [1_800_000_000.0]
    store.clock = lambda: t[0]
    receive_pin_hash(store, A, PasswordHasher().hash("2580"))
    receive_pin_hash(store, B, PasswordHasher().hash("3691"))
    pins = CoordinatorPins(store)
    assert pins.check(A, "3691")["ok"] is False             # B's PIN does not open A's badge
    assert pins.check(A, "2580")["ok"] is True
    for left in (4, 3, 2, 1):
        assert pins.check(A, "0000") == {"ok": False, "locked_for": 0, "left": left, "no_pin": False}
    assert pins.check(A, "0000")["locked_for"] == LOCK_SECONDS
    assert pins.check(A, "2580")["ok"] is False              # locked: even the right PIN
    # B is not locked out by A's wrong PINs (the old kiosk had one counter for all)
    assert pins.state(B) == {"has_pin": True, "locked_for": 0, "failures": 0}
    assert pins.check(B, "3691")["ok"] is True
    t[0] += LOCK_SECONDS + 1
    assert pins.check(A, "2580")["ok"] is True


def test_no_pin_from_the_center_means_no_coordinator_mode(store):
    pins = CoordinatorPins(store)
    store.settings.set(coordinator_pins={A: PasswordHasher().hash("2580")})   # chosen at an old kiosk
    assert pins.state(A)["has_pin"] is False
    assert pins.check(A, "2580") == {"ok": False, "locked_for": 0, "left": 5, "no_pin": True}
    assert not hasattr(pins, "set") and not hasattr(pins, "set_pin")


def test_a_new_pin_from_the_center_lifts_the_lockout_and_bad_hashes_are_ignored(store):
    receive_pin_hash(store, A, PasswordHasher().hash("2580"))
    pins = CoordinatorPins(store)
    for _ in range(5):
        pins.check(A, "0000")
    assert pins.state(A)["locked_for"] > 0
    store.apply_changes([protocol.Change(kind="coordinator_pin", key=A, version=7,
                                         data={"hash": PasswordHasher().hash("4826")})], cursor=7)
    assert pins.state(A)["locked_for"] == 0 and pins.check(A, "4826")["ok"] is True
    assert store.settings.get("cursor") == 7
    store.apply_changes([protocol.Change(kind="coordinator_pin", key=A, version=8, data={"hash": "4826"})], 8)
    assert pins.state(A)["has_pin"] is False                 # not an argon2 hash: never a plain PIN


def test_a_kind_this_kiosk_does_not_know_is_skipped_not_a_failed_pull(store):
    page = protocol.PullResponse.model_validate({"changes": [
        {"kind": "something_newer", "key": "x", "data": {"a": 1}, "version": 1},
        {"kind": "coordinator_pin", "key": A, "data": {"hash": PasswordHasher().hash("2580")}, "version": 2}],
        "cursor": 2, "more": False, "server_time": "2026-11-30T08:00:00+00:00"})
    store.apply_changes(page.changes, page.cursor)
    assert CoordinatorPins(store).check(A, "2580")["ok"] is True and store.settings.get("cursor") == 2
