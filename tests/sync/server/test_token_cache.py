"""The device-token cache (services.devices): a token is looked up in the database at most
once per TOKEN_CACHE_SECONDS per server process, and a kiosk revoked by ANOTHER process
(the CLI, another worker behind the load balancer) is refused by this one within that
bound: pulls once its cached entry is older than the bound, pushes at once (the group
writer re-reads revoked_at inside its transaction). The cache's clock is moved by hand
(no sleeping, no timed assertion)."""

from __future__ import annotations

import pytest

from sync.server import db
from sync.server.models import Device
from sync.server.services import devices

T0 = 1_760_000_000


@pytest.fixture
def clock(monkeypatch):
    """The cache's monotonic clock, moved by the test."""
    now = [1000.0]
    monkeypatch.setattr(devices.time, "monotonic", lambda: now[0])
    return now


def revoke_elsewhere(device_id: str) -> None:
    """As another process would: the row changes, this process's cache is not told."""
    with db.writing():
        Device.update(revoked_at=T0).where(Device.id == device_id).execute()


def test_a_cached_token_answers_without_the_database(kiosk, clock, monkeypatch):
    assert kiosk.pull().status_code == 200            # looked up once, cached
    calls = []
    real = Device.get_or_none
    monkeypatch.setattr(Device, "get_or_none", classmethod(lambda cls, *a: calls.append(a) or real(*a)))
    for _ in range(3):
        clock[0] += 1
        assert kiosk.pull().status_code == 200
    assert calls == []
    clock[0] += devices.TOKEN_CACHE_SECONDS             # stale: asked again
    assert kiosk.pull().status_code == 200
    assert len(calls) == 1


def test_a_token_revoked_by_another_process_stops_working_within_the_bound(kiosk, clock):
    assert kiosk.pull().status_code == 200            # cached now
    revoke_elsewhere(kiosk.device_id)
    clock[0] += devices.TOKEN_CACHE_SECONDS - 0.5       # inside the bound: the stale entry may still answer
    assert kiosk.pull().status_code == 200
    # a push is refused at once all the same: the writer reads revoked_at in its transaction
    answer = kiosk.push([kiosk.checkin("V0001", T0)])
    assert (answer.status_code, answer.json()["code"]) == (403, "device_revoked")
    clock[0] += 0.5                                     # the bound reached: refused everywhere
    answer = kiosk.pull()
    assert (answer.status_code, answer.json()["code"]) == (403, "device_revoked")
    answer = kiosk.push([kiosk.checkin("V0002", T0)])
    assert (answer.status_code, answer.json()["code"]) == (403, "device_revoked")


def test_a_revocation_in_this_process_is_at_once(kiosk, clock):
    assert kiosk.pull().status_code == 200
    devices.revoke_device(kiosk.device_id)
    answer = kiosk.pull()
    assert (answer.status_code, answer.json()["code"]) == (403, "device_revoked")


def test_an_unknown_token_is_never_cached_as_good(kiosk, clock):
    for _ in range(2):
        answer = kiosk.api.get("/api/v1/changes", headers={"Authorization": "Bearer not-a-token"})
        assert (answer.status_code, answer.json()["code"]) == (401, "unauthorized")
