"""The kiosk's sync agent: push the outbox, pull changes, back off.

One round (libpretixsync's order): upload first, then download::

    >>> agent = SyncAgent(store)          # store: any sync.protocol.SyncStore (kiosk.store.KioskStore)
    >>> agent.sync_once()                 # push pending events oldest first, then pull pages
    {'ok': True, 'pushed': 3, 'duplicates': 0, 'refused': 0, 'pulled': 12, 'pending': 0, ...}

    >>> agent.start()                     # rounds every `interval` s on its own daemon thread
    >>> agent.trigger()                   # a round now (a coordinator pressed "sync")
    >>> agent.status()                    # a copy, for the screen; never blocks
    >>> agent.stop()

Enrolment exchanges a one-time code for a device token::

    >>> enroll(store, "https://center.example", "K7Q2-9XPM")

Failures, as the design says: a 5xx, a 429, a timeout or a network error is retried with
exponential backoff and full jitter (a sleep drawn uniformly from 0 to the exponential
bound, so 2,000 kiosks coming back after an outage do not knock in step); any other 4xx
is not retried blindly: it is reported. A 401/403 (revoked token) stops the agent until
someone re-enrols or triggers a round. Every push is safe to repeat: the event id is the
idempotency key, so an answer lost after the server committed costs only a re-send
answered ``duplicate``. All state (outbox, cursor, token, clock offset) lives in the
store, so a kiosk killed mid-round resumes where the store says.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from typing import TYPE_CHECKING

from tenacity import Retrying, retry_if_exception, stop_after_attempt

# The answers are read without pydantic (sync.wire: the same fields as sync.protocol's models,
# which the center validates with): about 10 MB less in the kiosk process.
from sync.http_lite import Session   # requests' Session on http.client: about 9 MB less in a kiosk
from sync.wire import (API_PREFIX, DEVICE_EXISTS, MAX_BATCH, PAGE_SIZE, Change, EnrollResponse, PullResponse,
                       PushResponse, WireError)

if TYPE_CHECKING:
    from sync.protocol import SyncStore

log = logging.getLogger(__name__)

TIMEOUT = (5.0, 30.0)        # connect, read (seconds)
RETRIES = 4                  # attempts per request within one round
BACKOFF = 0.5                # first backoff bound (s); doubles per attempt
MAX_BACKOFF = 300.0          # between failed rounds the bound grows up to five minutes
AUTH_CODES = (401, 403)      # the token is revoked or wrong: stop until re-enrolled


class SyncError(Exception):
    """One request failed. `code` is stable (the server's error code, or ours:
    ``network``, ``timeout``, ``http_503``…); `retryable` says whether to try again."""

    def __init__(self, code: str, message: str = "", status: int | None = None, retryable: bool = False,
                 retry_after: float | None = None):
        super().__init__(message or code)
        self.code, self.status, self.retryable = code, status, retryable
        self.retry_after = retry_after        # the server's Retry-After (s), a floor for the backoff

    def __str__(self) -> str:
        prefix = f"{self.status} {self.code}" if self.status else self.code
        return f"{prefix}: {self.args[0]}"


class EnrollError(Exception):
    """The center refused the code, or could not be reached."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def full_jitter(attempt: int, base: float, cap: float) -> float:
    """A sleep before retry number `attempt` (1, 2, …): uniform in [0, min(cap, base·2^(attempt-1))]."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def utc_iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat()


# --- the wire: one small client over http.client (sync.http_lite) ------------------------------------------

class Api:
    """The sync API as calls. Raises `SyncError`; retries the retryable ones itself.

    Each successful answer also yields an offset sample: server time minus the local
    midpoint of the request (the round trip is assumed symmetric), in milliseconds.
    """

    def __init__(self, base_url: str, token: str | None = None, http: Any = None,
                 clock: Callable[[], float] = time.time, timeout=TIMEOUT, retries: int = RETRIES,
                 backoff: float = BACKOFF):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.http = http or Session()
        self.clock = clock
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.offset_ms: int | None = None     # from the answer with the shortest round trip
        self._best_rtt = float("inf")
        self.reached = False                  # an HTTP answer came back (any status)
        self.failures = 0                     # failed attempts, retried ones included

    def enroll(self, code: str, device_id: str | None, device_name: str) -> EnrollResponse:
        body = {"code": code, "device_id": device_id, "device_name": device_name}
        # A coordinator is waiting at the screen: "too many attempts" is said at once, not
        # retried for minutes behind "enrolling…".
        return EnrollResponse.parse(self._call("POST", "/devices/enroll", json=body,
                                                        retry_rate_limited=False))

    def push(self, events: list[dict]) -> PushResponse:
        return PushResponse.parse(self._call("POST", "/events", json={"events": events}))

    def pull(self, cursor: int, limit: int = PAGE_SIZE, report: dict | None = None) -> PullResponse:
        """`report`: what the kiosk tells the center's fleet page (pending, refused,
        clock_offset_ms, app_version), sent with the first page of a round."""
        params = {"cursor": cursor, "limit": limit, **{k: v for k, v in (report or {}).items() if v is not None}}
        return PullResponse.parse(self._call("GET", "/changes", params=params))

    def _call(self, method: str, path: str, retry_rate_limited: bool = True, **kwargs) -> dict:
        def retryable(exc) -> bool:
            return (isinstance(exc, SyncError) and exc.retryable
                    and (retry_rate_limited or exc.code != "rate_limited"))
        retrying = Retrying(
            retry=retry_if_exception(retryable),
            wait=self._wait,
            stop=stop_after_attempt(self.retries), reraise=True)
        return retrying(self._once, method, path, **kwargs)

    def _wait(self, state) -> float:
        """Full jitter, but never sooner than the server asked (Retry-After on a 503/429)."""
        floor = getattr(state.outcome.exception(), "retry_after", None) or 0
        return max(min(floor, MAX_BACKOFF), full_jitter(state.attempt_number, self.backoff, MAX_BACKOFF))

    def _once(self, method: str, path: str, **kwargs) -> dict:
        try:
            return self._attempt(method, path, **kwargs)
        except SyncError:
            self.failures += 1
            raise

    def _attempt(self, method: str, path: str, **kwargs) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        started = self.clock()
        try:
            answer = self.http.request(method, self.base_url + API_PREFIX + path, headers=headers,
                                       timeout=self.timeout, **kwargs)
        except OSError as exc:   # refused, reset, DNS, a dropped answer (requests' errors are OSErrors too)
            if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
                raise SyncError("timeout", str(exc), retryable=True) from exc
            raise SyncError("network", str(exc), retryable=True) from exc
        finished = self.clock()
        self.reached = True
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if answer.status_code >= 400:
            raise _error(answer.status_code, body, answer.text, answer.headers.get("Retry-After"))
        if "server_time" in body:
            self._sample_offset(body["server_time"], started, finished)
        return body

    def _sample_offset(self, server_time: str, started: float, finished: float) -> None:
        rtt = finished - started
        if rtt <= self._best_rtt:
            self._best_rtt = rtt
            server = datetime.fromisoformat(server_time.replace("Z", "+00:00")).timestamp()
            self.offset_ms = round((server - (started + finished) / 2) * 1000)


def _error(status: int, body: Any, text: str, retry_after: str | None = None) -> SyncError:
    """An HTTP error answer as a SyncError: the server's code when it sent one (ErrorBody,
    or FastAPI's {"detail": {...}}), else ``http_<status>``."""
    code, message = f"http_{status}", text[:200]
    if isinstance(body, dict):
        detail = body.get("detail")
        found = body if "code" in body else detail if isinstance(detail, dict) else {}
        code, message = found.get("code", code), found.get("message", detail if isinstance(detail, str) else message)
    retryable = status >= 500 or status in (408, 429)
    after = float(retry_after) if retry_after and retry_after.isdigit() else None
    return SyncError(str(code), str(message), status=status, retryable=retryable, retry_after=after)


# --- enrolment ---------------------------------------------------------------------------

def enroll(store: SyncStore, server_url: str, code: str, device_name: str = "kiosk",
           http: Any = None, clock: Callable[[], float] | None = None) -> EnrollResponse:
    """Exchange a one-time code for a device token and keep what the center answers."""
    clock = clock or getattr(store, "clock", time.time)
    api = Api(server_url, http=http, clock=clock)
    try:
        try:
            answer = api.enroll(code, store.sync_state().get("device_id"), device_name)
        except SyncError as exc:
            if exc.code != DEVICE_EXISTS:
                raise
            # This kiosk's id is enrolled already (a coordinator reset the kiosk, or the
            # answer to an earlier enrolment was lost). The center takes no id twice, so
            # that no one can take a kiosk over with its id: enrol under a fresh one (the
            # code was not used); events not sent yet go out under it.
            answer = api.enroll(code, str(uuid.uuid4()), device_name)
    except SyncError as exc:
        raise EnrollError(exc.code, str(exc)) from exc
    except WireError as exc:
        raise EnrollError("bad_answer", f"the server's answer does not match the protocol: {exc}") from exc
    # The device id first (events made before enrolment carry the kiosk's own), then the
    # keys as pulled changes, with cursor 0 so the first pull brings everything else. The
    # kiosk number is this center's (None from a center without them): order numbers use it.
    store.set_sync_state(server_url=server_url.rstrip("/"), token=answer.token, device_id=answer.device_id,
                         station=answer.station.model_dump(), clock_offset_ms=api.offset_ms or 0,
                         kiosk_number=answer.kiosk_number)
    keys = [Change(kind="public_key", key=kid, data={"public_key": public}, version=0)
            for kid, public in answer.public_keys.items()]
    store.apply_changes(keys, 0)
    return answer


# --- the agent ---------------------------------------------------------------------------

class SyncAgent:
    """Pushes the outbox and pulls changes, once (`sync_once`) or on its own thread (`start`).

    `status()` (a copy; the screen polls it): ok (the last round), pushed (acknowledged in
    that round: stored + duplicate), duplicates, refused, pulled, pending (in the outbox),
    last_success / last_failure (ISO, UTC; kept in the store across restarts), last_error
    ("403 device_revoked: …") and error_code, online (the center answered), running,
    progress (0..1 within a round), enrolled, halted (a refused token: no retry until
    `trigger()` after re-enrolment).
    """

    def __init__(self, store: SyncStore, http: Any = None,
                 clock: Callable[[], float] | None = None, batch_size: int = 200, interval: float = 30,
                 timeout=TIMEOUT, retries: int = RETRIES, backoff: float = BACKOFF):
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}, not {batch_size}")
        self.store = store
        self.http = http or Session()
        self.clock = clock or getattr(store, "clock", time.time)  # the clock the events are stamped by
        self.batch_size, self.interval = batch_size, interval
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self._lock = threading.Lock()         # guards _status
        self._round = threading.Lock()        # one round at a time
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._status: dict[str, Any] = {
            "ok": False, "pushed": 0, "duplicates": 0, "refused": 0, "pulled": 0, "pending": 0,
            "last_success": None, "last_failure": None, "last_error": None, "error_code": None,
            "online": False, "running": False, "progress": 0.0, "enrolled": False, "halted": False}
        state = store.sync_state()            # what the last run of the agent recorded
        self._status.update({key: state.get(key) for key in ("last_success", "last_failure", "last_error")})
        self._status["enrolled"] = bool(state.get("server_url") and state.get("token"))

    # --- for the screen ------------------------------------------------------------------

    def status(self) -> dict:
        with self._lock:
            return dict(self._status)

    def _set(self, **values) -> None:
        with self._lock:
            self._status.update(values)

    # --- one round -------------------------------------------------------------------------

    def sync_once(self) -> dict:
        """Push, then pull. Never raises for a sync failure: the status says what happened."""
        with self._round:
            self._set(running=True, progress=0.0, pushed=0, duplicates=0, refused=0, pulled=0)
            api = None
            try:
                state = self.store.sync_state()
                if not (state.get("server_url") and state.get("token")):
                    raise SyncError("not_enrolled", "this kiosk is not enrolled with a center yet")
                self._set(enrolled=True)
                api = Api(state["server_url"], state["token"], self.http, self.clock,
                          self.timeout, self.retries, self.backoff)
                try:
                    self._push(api)                               # 1. upload the outbox
                    self._pull(api, state.get("cursor") or 0)     # 2. download the changes
                finally:
                    if api.offset_ms is not None:                 # 3. keep the best clock sample
                        self.store.set_sync_state(clock_offset_ms=api.offset_ms)
            except Exception as exc:  # noqa: BLE001 - the thread must survive anything; the status tells
                self._failed(exc, api)
            else:
                self._set(ok=True, last_success=utc_iso(time.time()), last_error=None, error_code=None,
                          online=True, halted=False, progress=1.0)
            finally:
                self._set(running=False, pending=self._count_pending())
                self._remember()
            return self.status()

    def _remember(self) -> None:
        """Keep last success / failure / error in the store, so the screen has them after a restart."""
        status = self.status()
        try:
            self.store.set_sync_state(**{k: status[k] for k in ("last_success", "last_failure", "last_error")})
        except Exception:  # noqa: BLE001 - a locked database must not fail the round
            log.warning("could not record the sync status", exc_info=True)

    def _push(self, api: Api) -> None:
        total = max(1, self.store.count_pending())
        batch, done = self.batch_size, 0
        while events := self.store.pending_events(batch):
            try:
                answer = api.push(events)
            except SyncError as exc:
                if exc.status == 413 and len(events) > 1:   # body too large: halve and carry on
                    batch = len(events) // 2
                    continue
                raise
            self.store.record_push_results(answer.results)
            answered = {str(r.id) for r in answer.results}
            missing = [e["id"] for e in events if e["id"] not in answered]
            if missing:   # would loop forever on the same events: report instead
                raise SyncError("incomplete_answer", f"{len(missing)} events unanswered, first {missing[0]}",
                                retryable=True)
            done += len(events)
            counts = {s: sum(r.status == s for r in answer.results) for s in ("stored", "duplicate", "refused")}
            pending = self._count_pending()
            with self._lock:
                s = self._status
                s["pushed"] += counts["stored"] + counts["duplicate"]
                s["duplicates"] += counts["duplicate"]
                s["refused"] += counts["refused"]
                s["progress"] = min(0.9, 0.9 * done / total)
                s["pending"] = pending
                s["online"] = True

    def _report(self) -> dict:
        """The kiosk's own state for the center's fleet page."""
        from sync import __version__
        refused = getattr(self.store, "count_refused", None)
        try:
            return {"pending": self._count_pending(), "refused": refused() if refused else None,
                    "clock_offset_ms": self.store.sync_state().get("clock_offset_ms"), "app_version": __version__}
        except Exception:  # noqa: BLE001 - a report must never fail the round
            return {}

    def _pull(self, api: Api, cursor: int) -> None:
        report = self._report()
        while True:
            page = api.pull(cursor, report=report)
            report = None
            self.store.apply_changes(page.changes, page.cursor)   # one transaction per page
            if page.page_key and page.page_key != self.store.sync_state().get("page_key"):
                self.store.set_sync_state(page_key=page.page_key)   # volunteers' own page links
            if page.event_types is not None and page.event_types != self.store.sync_state().get("event_types"):
                self.store.set_sync_state(event_types=page.event_types)   # what this center accepts
            with self._lock:
                self._status["pulled"] += len(page.changes)
            if not page.more:
                return
            if page.cursor <= cursor:
                raise SyncError("cursor_stuck", f"the server says more but the cursor stays at {cursor}")
            cursor = page.cursor

    def _failed(self, exc: Exception, api: Api | None) -> None:
        if isinstance(exc, SyncError):
            code, message = exc.code, str(exc)
        else:
            log.exception("sync round failed")
            code, message = "internal", f"{type(exc).__name__}: {exc}"
        self._set(ok=False, last_failure=utc_iso(time.time()), last_error=message, error_code=code,
                  online=bool(api and api.reached), enrolled=code != "not_enrolled",
                  halted=self._halts(exc))

    @staticmethod
    def _halts(exc: Exception) -> bool:
        """The token was refused: retrying will not help until someone re-enrols."""
        return isinstance(exc, SyncError) and exc.status in AUTH_CODES

    def _count_pending(self) -> int:
        try:
            return self.store.count_pending()
        except Exception:  # noqa: BLE001 - a locked database must not break the status
            return self._status["pending"]

    # --- on its own thread -------------------------------------------------------------

    def start(self) -> None:
        """Run rounds on a daemon thread (its own SQLite connection: peewee's are per thread)."""
        if self._thread and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="weiguang-sync", daemon=True)
        self._thread.start()

    def trigger(self) -> None:
        """Ask for a round now (also wakes an agent halted by a refused token)."""
        self._wake.set()

    def stop(self, timeout: float | None = 10) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self._wake.clear()
            status = self.sync_once()
            if status["ok"] or not status["enrolled"]:    # not enrolled: a round costs no network
                failures, wait = 0, self.interval
            elif status["halted"]:
                failures, wait = 0, None        # until trigger() (after re-enrolment) or stop()
            else:
                failures += 1
                wait = full_jitter(failures, self.interval, MAX_BACKOFF)
            self._wake.wait(wait)
