"""Group commit: one writer thread stores many pushes in one transaction (one fsync).

    >>> writer = GroupWriter(settings)                        # one per app (create_app makes it)
    >>> future = writer.submit(device, events, checked, received_at)
    >>> results = future.result()                             # per event: stored / duplicate / refused
    >>> writer.close()                                        # drains what is queued, then stops

Why: a push is a few small statements and one commit; the commit (fsync on SQLite
``synchronous=FULL``, on PostgreSQL the WAL flush) costs far more than the statements.
The writer takes whatever is queued (up to `max_events` events), runs `events.store` for
each batch in order inside one `writing()` transaction, commits, then answers every
future. A batch answers only after the commit that holds it, so "stored" stays durable.

Exactness is that of `events.store`: batches in one transaction run one after another,
so an id pushed twice in one group is inserted by the first and answered ``duplicate``
to the second; across groups (or server processes) the unique key decides as before.
If a group fails, it is rolled back and each batch retried alone, so one bad batch only
fails its own request.

The queue is unbounded here on purpose: the HTTP layer admits at most
`settings.push_concurrency` pushes (`app.PushGate`), which bounds it.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from sync import protocol
from sync.server import db
from sync.server.logs import log
from sync.server.models import Device
from sync.server.services import ServiceError, events
from sync.server.services.sessions import Accepted
from sync.server.settings import ServerSettings


TRANSIENT_ATTEMPTS = 5   # a group that deadlocks with another process is tried this often


@dataclass
class _Pending:
    device: Device
    events: list[protocol.Event]
    checked: list[Accepted | str]
    received_at: int
    future: Future = field(default_factory=Future)


class GroupWriter:
    def __init__(self, settings: ServerSettings, max_events: int = 5000):
        self.settings, self.max_events = settings, max_events
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, device: Device, events_: list[protocol.Event], checked: list[Accepted | str],
               received_at: int) -> Future:
        """Queue one validated batch; the future gets its `EventResult`s after the commit."""
        with self._lock:  # started on first use: an app that never takes a push has no thread
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-writer", daemon=True)
                self._thread.start()
        pending = _Pending(device, events_, checked, received_at)
        self._queue.put(pending)
        return pending.future

    def close(self, timeout: float = 30) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group, size = [first], len(first.events)
            while size < self.max_events:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this group
                    break
                group.append(item)
                size += len(item.events)
            self._commit(group)

    def _commit(self, group: list[_Pending], attempt: int = 1) -> None:
        # Batches in device order: with `lock_devices`, every process takes locks in one order.
        group = sorted(group, key=lambda p: p.device.id)
        try:
            with db.writing():
                events.lock_devices([p.device.id for p in group])
                gone = events.revoked([p.device.id for p in group])
                answers = [ServiceError("device_revoked", "this kiosk was revoked by the center")
                           if p.device.id in gone else
                           events.store(p.device, p.events, p.checked, p.received_at, self.settings)
                           for p in group]
                events.touch_devices([p.device.id for p in group if p.device.id not in gone],
                                     max(p.received_at for p in group))
        except Exception as exc:  # noqa: BLE001 - handed to the waiting request(s)
            if events.is_transient(exc) and attempt < TRANSIENT_ATTEMPTS:
                # Another server process held what this group needed (PostgreSQL broke a
                # deadlock, or a serialization conflict): the same group again, shortly.
                log.warning("group commit conflicted with another process; retrying",
                            extra={"fields": {"batches": len(group), "attempt": attempt, "error": str(exc)}})
                time.sleep(random.uniform(0.005, 0.05) * attempt)
                return self._commit(group, attempt + 1)
            if len(group) > 1:
                log.warning("group commit failed; retrying its batches one by one",
                            extra={"fields": {"batches": len(group), "error": str(exc)}})
                for pending in group:
                    self._commit([pending])
            else:
                group[0].future.set_exception(exc)
            return
        for pending, answer in zip(group, answers):
            if isinstance(answer, Exception):
                pending.future.set_exception(answer)
            else:
                pending.future.set_result(answer)
