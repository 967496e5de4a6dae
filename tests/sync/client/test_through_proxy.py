"""The agent through the fault proxy (tests/sync/e2e/faultproxy.py), against the fake center:
each fault ends with every event on the center exactly once."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sync.client import SyncAgent
from tests.sync.client.conftest import record_checkins
from tests.sync.e2e.faultproxy import FaultProxy


@pytest.fixture
def proxy(center):
    with FaultProxy(urlsplit(center.url).port) as proxy:
        yield proxy


@pytest.fixture
def kiosk(enrolled, proxy):
    enrolled.set_sync_state(server_url=proxy.url)
    return enrolled


def sync(store, **kwargs) -> dict:
    return SyncAgent(store, backoff=0.01, retries=4, batch_size=50, **kwargs).sync_once()


def test_pass_through(kiosk, center, proxy):
    ids = record_checkins(kiosk, 120)
    assert sync(kiosk)["ok"] and list(center.events) == ids
    assert proxy.requests == 4 and proxy.faults == 0          # 3 pushes + 1 pull


def test_answer_lost_after_commit_is_resent_and_acknowledged_as_duplicate(kiosk, center, proxy):
    ids = record_checkins(kiosk, 120)
    proxy.set("drop", every=2)                                 # the 2nd, 4th… answers are lost
    status = sync(kiosk)
    assert status["ok"] and status["duplicates"] > 0 and status["pending"] == 0
    assert list(center.events) == ids and proxy.faults >= 2


def test_intermittent_503(kiosk, center, proxy):
    ids = record_checkins(kiosk, 120)
    proxy.set("error", every=2, status=503)
    assert sync(kiosk)["ok"] and list(center.events) == ids


def test_slow_answers_time_out_and_are_resent(kiosk, center, proxy):
    ids = record_checkins(kiosk, 60)
    proxy.set("delay", delay=1.0, limit=1)
    status = sync(kiosk, timeout=(1, 0.3))
    assert status["ok"] and status["duplicates"] == 50 and list(center.events) == ids


def test_refused_connections_then_recovery(kiosk, center, proxy):
    ids = record_checkins(kiosk, 10)
    proxy.set("refuse")
    status = sync(kiosk, timeout=(0.5, 1))
    assert not status["ok"] and not status["online"] and status["error_code"] == "network"
    proxy.set("pass")
    assert sync(kiosk)["ok"] and list(center.events) == ids
