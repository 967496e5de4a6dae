"""Several real kiosk stores against one real center: the server app (`create_app`, SQLite
and PostgreSQL) served by uvicorn on 127.0.0.1 in this process, the kiosks syncing with the
real `SyncAgent` over HTTP. What one kiosk does reaches the others of its station.

The kiosk store is one SQLite database per process (`kiosk.store.db`), so the kiosks take
turns: `Kiosk.store()` points the kiosk models at that kiosk's file before it acts.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import uvicorn

from kiosk.attendance import Attendance
from kiosk.orders import take_order
from kiosk.store import Activity, OutboxEvent, db, open_store
from sync.client import SyncAgent, enroll
from sync.order_numbers import enrolled_kiosk_part
from sync.server import db as server_db
from sync.server.app import create_app
from sync.server.models import Activity as ServerActivity
from sync.server.models import ServiceRequest
from sync.server.services import changes, devices

NOW = 1_796_040_000   # 2026-11-30 20:00 +08:00: every kiosk clock reads this same second


@pytest.fixture
def center(server_settings, tmp_path):
    """The real server app on a free port; its URL."""
    from sync.badges import init_keys
    init_keys(server_settings.keys_dir)
    app = create_app(server_settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        assert thread.is_alive() and time.time() < deadline, "the center did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    thread.join(10)


class Kiosk:
    def __init__(self, path, device_id: str | None = None):
        self.path = path
        store = self.store()
        if device_id:
            store.settings.set(device_id=device_id)

    def store(self):
        return open_store(self.path, clock=lambda: NOW)

    def enroll(self, url: str, station: str) -> None:
        enroll(self.store(), url, devices.make_enroll_code(station))

    def sync(self) -> dict:
        status = SyncAgent(self.store(), retries=1, backoff=0.01).sync_once()
        assert status["ok"], status
        return status

    def outbox(self) -> list[tuple[str, str, str | None]]:
        self.store()
        return [(e.type, e.status, e.code) for e in OutboxEvent.select().order_by(OutboxEvent.seq)]


@pytest.fixture
def kiosks(tmp_path):
    made = []

    def make(name: str, device_id: str | None = None) -> Kiosk:
        made.append(Kiosk(tmp_path / f"{name}.db", device_id))
        return made[-1]
    yield make
    db.close()


def server_activity(activity_id: str) -> ServerActivity:
    with server_db.reading():
        return ServerActivity.get_by_id(activity_id)


def test_a_closure_at_one_kiosk_reaches_the_other_and_no_pull_reopens_it(center, kiosks):
    changes.upsert_station("s1", "文博苑社区")
    changes.upsert_activity("a1", "城市垃圾捡拾", NOW - 3600, NOW + 3 * 3600, station="s1", place="广场")
    first, second = kiosks("first"), kiosks("second")
    for kiosk in (first, second):
        kiosk.enroll(center, "s1")
        kiosk.sync()
        assert [a.id for a in Attendance(kiosk.store()).open_activities(NOW)] == ["a1"]

    # The coordinator closes it at the first kiosk, which syncs; then the center edits it.
    Attendance(first.store()).close_activity("a1", by_vid="C0001")
    first.sync()
    assert first.outbox()[-1] == ("activity_closed", "stored", None)
    offset_ms = OutboxEvent.select().order_by(OutboxEvent.seq.desc()).get().clock_offset_ms
    closed = server_activity("a1")   # at the kiosk's time, put on the server's clock
    assert (closed.closed_at, closed.closed_by) == (NOW + round(offset_ms / 1000), "C0001")
    changes.upsert_activity("a1", "城市垃圾捡拾", NOW - 3600, NOW + 3 * 3600, station="s1", place="广场东侧")

    first.sync()    # pulls the edited activity: still closed here
    assert Activity.get_by_id("a1").place == "广场东侧" and Activity.get_by_id("a1").closed
    assert Attendance(first.store()).open_activities(NOW) == []
    second.sync()   # the station's other kiosk learns of the closure at its next pull
    assert Activity.get_by_id("a1").closed and Attendance(second.store()).open_activities(NOW) == []


def test_a_kiosk_cannot_close_another_stations_activity(center, kiosks):
    changes.upsert_station("s1", "文博苑社区")
    changes.upsert_station("s2", "东关街站")
    changes.upsert_activity("a2", "义诊", NOW - 3600, NOW + 3600, station="s2")
    kiosk = kiosks("tampered")
    kiosk.enroll(center, "s1")
    kiosk.sync()
    # A kiosk that holds another station's activity anyway (a tampered database).
    Activity.create(id="a2", title="义诊", starts_at=NOW - 3600, ends_at=NOW + 3600)
    Attendance(kiosk.store()).close_activity("a2", by_vid="C0001")
    kiosk.sync()
    assert kiosk.outbox()[-1] == ("activity_closed", "refused", "activity_not_here")
    assert server_activity("a2").closed_at is None


def test_kiosks_whose_ids_share_a_prefix_number_their_orders_apart(center, kiosks):
    changes.upsert_station("s1", "文博苑社区")
    one, two, late = (kiosks(name, device_id=f"abcd{n}-" + str(uuid.uuid4())[9:])
                      for name, n in (("one", 1234), ("two", 5678), ("late", 9999)))
    standalone = take_order(late.store(), "理发", "13912345678").number   # taken before enrolment
    for kiosk in (one, two):
        kiosk.enroll(center, "s1")
    numbers = [take_order(kiosk.store(), "理发", "13912345678").number for kiosk in (one, two)]
    assert numbers[0] != numbers[1]
    assert all(n.startswith("261130-") and n.endswith("-001") for n in numbers), numbers
    assert enrolled_kiosk_part(standalone) is None    # the standalone form is never an enrolled kiosk's
    late.enroll(center, "s1")
    for kiosk in (one, two, late):
        kiosk.sync()
        assert {status for _, status, _ in kiosk.outbox()} == {"stored"}
    with server_db.reading():
        stored = sorted(r.number for r in ServiceRequest.select())
    assert stored == sorted([standalone, *numbers])
