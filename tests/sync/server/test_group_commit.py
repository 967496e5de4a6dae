"""Group commit and admission control: many pushes share one transaction and answers stay
exact per event; over the push limit a push is answered 503 busy with Retry-After."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import Future

import pytest
from fastapi.testclient import TestClient

from sync import protocol
from sync.badges import init_keys
from sync.server import db
from sync.server.app import create_app
from sync.server.models import Device, StoredEvent
from sync.server.services import events as events_service
from sync.server.services.writer import GroupWriter, _Pending
from tests.sync.server.conftest import enrol
from tests.sync.server.helpers import T0


def stored_ids() -> list[str]:
    with db.reading():
        return [r.id for r in StoredEvent.select(StoredEvent.id)]


@pytest.fixture
def server_settings(server_settings):
    """One kiosk pushing 8 batches at once here (a real kiosk sends one at a time; the server
    caps a device at `push_per_device` in flight, which this test is not about)."""
    server_settings.push_per_device = 8
    return server_settings


def test_concurrent_overlapping_pushes_store_each_event_once(kiosk):
    # 8 threads push overlapping slices of one set of events, each in its own order, so the
    # same ids meet within one group and across groups.
    shared = [kiosk.checkin(f"V{i:04d}", T0 + i) for i in range(120)]
    start, answers, failures = threading.Barrier(8), [], []

    def pusher(n: int) -> None:
        rng = random.Random(n)
        mine = rng.sample(shared, 60)
        start.wait()
        for part in (mine[:20], mine[20:40], mine[40:]):
            answer = kiosk.push(part)
            if answer.status_code != 200:
                failures.append(answer.text)
            else:
                answers.extend((r["id"], r["status"]) for r in answer.json()["results"])
    threads = [threading.Thread(target=pusher, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures
    sent = {e["id"] for e in shared} & {i for i, _ in answers}
    stored = stored_ids()
    assert len(stored) == len(set(stored)) and set(stored) == sent
    # Exactly one "stored" answer per stored event; every other answer is "duplicate".
    for event_id in sent:
        statuses = [s for i, s in answers if i == event_id]
        assert statuses.count("stored") == 1 and set(statuses) <= {"stored", "duplicate"}


def test_the_same_events_twice_in_one_group_are_stored_once(kiosk, server_settings):
    batch = [protocol.Event.model_validate(kiosk.checkin(f"V{i:04d}", T0 + i)) for i in range(30)]
    with db.reading():
        device = Device.get_by_id(kiosk.device_id)
    writer = GroupWriter(server_settings)
    checked = events_service.check(device, batch)
    first, second = (_Pending(device, batch, list(checked), T0) for _ in range(2))
    other = _Pending(device, batch[:10] + batch[:10], events_service.check(device, batch[:10] * 2), T0)
    writer._commit([first, second, other])        # one transaction, in this order
    assert [r.status for r in first.future.result()] == ["stored"] * 30
    assert [r.status for r in second.future.result()] == ["duplicate"] * 30
    assert [r.status for r in other.future.result()] == ["duplicate"] * 20
    assert sorted(stored_ids()) == sorted(str(e.id) for e in batch)


def test_a_failing_batch_fails_alone(kiosk, server_settings, monkeypatch):
    good = [protocol.Event.model_validate(kiosk.checkin("V0001", T0))]
    bad = [protocol.Event.model_validate(kiosk.checkin("V0002", T0))]
    with db.reading():
        device = Device.get_by_id(kiosk.device_id)
    real = events_service.store

    def store(device, events, *args):
        if events is bad:
            raise RuntimeError("boom")
        return real(device, events, *args)
    monkeypatch.setattr(events_service, "store", store)
    writer = GroupWriter(server_settings)
    ok, broken = (_Pending(device, b, events_service.check(device, b), T0) for b in (good, bad))
    writer._commit([ok, broken])
    assert [r.status for r in ok.future.result()] == ["stored"]
    with pytest.raises(RuntimeError):
        broken.future.result()
    assert stored_ids() == [str(good[0].id)]


def test_a_revoked_device_is_refused_by_the_writer_despite_the_token_cache(kiosk):
    assert kiosk.statuses([kiosk.checkin("V0001", T0)]) == [("stored", None)]   # token now cached
    with db.writing():   # as another process (the CLI) would: this process's cache is not told
        Device.update(revoked_at=T0).where(Device.id == kiosk.device_id).execute()
    answer = kiosk.push([kiosk.checkin("V0002", T0)])
    assert (answer.status_code, answer.json()["code"]) == (403, "device_revoked")
    assert len(stored_ids()) == 1


def test_over_the_limit_a_push_is_answered_503_busy_with_retry_after(server_settings):
    init_keys(server_settings.keys_dir)
    settings = server_settings.model_copy(update={"push_concurrency": 1, "push_queue": 0})
    app = create_app(settings)
    writer = app.state.writer
    held, entered, real_submit = Future(), threading.Event(), writer.submit

    def submit(*args):   # the first push waits in the writer until released
        entered.set()
        return held
    with TestClient(app) as api:
        kiosk = enrol(api)
        writer.submit = submit
        first = kiosk.checkin("V0001", T0)
        answers = {}
        blocked = threading.Thread(target=lambda: answers.setdefault("first", kiosk.push([first])))
        blocked.start()
        assert entered.wait(10)
        started = time.monotonic()
        busy = kiosk.push([kiosk.checkin("V0002", T0)])
        assert time.monotonic() - started < 5          # answered at once, not queued
        assert busy.status_code == 503 and busy.json()["code"] == "busy" and busy.json()["server_time"]
        assert busy.headers["Retry-After"].isdigit() and int(busy.headers["Retry-After"]) >= 1
        writer.submit = real_submit
        held.set_result(real_submit(*_args_of(kiosk, first)).result(10))
        blocked.join(10)
        assert answers["first"].status_code == 200
        assert kiosk.statuses([kiosk.checkin("V0003", T0)]) == [("stored", None)]   # the slot is free again


def _args_of(kiosk, event: dict) -> tuple:
    with db.reading():
        device = Device.get_by_id(kiosk.device_id)
    batch = [protocol.Event.model_validate(event)]
    return device, batch, events_service.check(device, batch), T0
