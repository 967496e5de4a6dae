"""What the screens call: every store, attendance and sync call runs off the UI thread.

    services = KioskServices(store)
    services.run(fn, *args, then=callback)       # fn on the DB worker, callback(result) on the UI thread
    services.submit_scan(text)                   # de-duplicated; the decision comes back via on_decision

One single-thread executor owns the screens' database work, so scans are decided in the
order they were read and the UI thread never waits on SQLite. Results hop back to the UI
thread with ``Clock.schedule_once``. This module holds no Kivy widgets; it is the glue
between the screens and kiosk.attendance / kiosk.orders / sync.client.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from kiosk.attendance import Attendance, Decision
from kiosk.coordinator import CoordinatorPins
from kiosk.my_hours import MyHoursDesk
from peewee import DatabaseError

from kiosk.store import Activity, KioskStore, OutboxEvent, Session, StoreError, Volunteer, diagnose, is_storage_problem

log = logging.getLogger(__name__)

DEDUPE_SECONDS = 2.0          # the same text seen again this soon (sliding) is the same badge, still held
CLOSE_OVERDUE_EVERY = 60.0


def _ui(callback: Callable | None, *args) -> None:
    if callback is None:
        return
    from kivy.clock import Clock
    Clock.schedule_once(lambda dt: callback(*args), 0)


@dataclass
class CoordinatorBadge:
    """A valid coordinator badge was shown: the screen offers check-in/out or coordinator mode."""
    text: str
    vid: str
    name: str
    full_name: str = ""      # unmasked: shown only once the PIN opened coordinator mode


class KioskServices:
    def __init__(self, store: KioskStore, sync_agent: Any = None):
        self.store = store
        self.attendance = Attendance(store)
        self.pins = CoordinatorPins(store)
        self.my_hours = MyHoursDesk(self.attendance)   # 我的时长: armed by the home screen's button
        set_station_tz(self.attendance.timezone())
        self.sync_agent = sync_agent
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="weiguang-db")
        self._seen: dict[str, float] = {}
        self._seen_lock = threading.Lock()
        self.on_decision: Callable[[Any], None] | None = None   # set by the app (UI thread)
        self.on_store_error: Callable[[StoreError], None] | None = None   # likewise
        self.scans_submitted = 0
        self.scans_ignored = 0
        self.scans_decided = 0

    # --- plumbing ----------------------------------------------------------------------

    def run(self, fn: Callable, *args, then: Callable | None = None, error: Callable | None = None, **kwargs):
        """Run fn(*args, **kwargs) on the DB worker; `then(result)` / `error(exc)` on the UI thread."""
        def job():
            try:
                result = fn(*args, **kwargs)
            except (StoreError, DatabaseError) as exc:   # a full, read-only or failing disk
                if not is_storage_problem(exc):
                    log.exception("background call %s failed", getattr(fn, "__name__", fn))
                    _ui(error, exc)
                    return None
                problem = diagnose(self.store.path, exc)
                log.error("the kiosk database cannot be written: %s", problem)
                _ui(self.on_store_error, problem)      # a full-screen notice for the coordinator
                _ui(error, problem)
                return None
            except Exception as exc:  # noqa: BLE001 - reported to the screen, logged here
                log.exception("background call %s failed", getattr(fn, "__name__", fn))
                _ui(error, exc)
                return None
            _ui(then, result)
            return result
        return self._db.submit(job)

    def store_writable(self) -> bool:
        """A small real write (worker thread): can the database record again?"""
        try:
            self.store.settings.set(store_checked_at=int(time.time()))
            return True
        except (StoreError, DatabaseError):
            return False

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until all work submitted so far has run (tests, shutdown)."""
        self._db.submit(lambda: None).result(timeout)

    def shutdown(self) -> None:
        if self.sync_agent is not None:
            try:
                self.sync_agent.stop(timeout=3)
            except Exception:  # noqa: BLE001
                log.exception("stopping the sync agent failed")
        self._db.shutdown(wait=True)   # scans already queued are decided and recorded first

    # --- scans ---------------------------------------------------------------------------

    def seen_recently(self, text: str, now: float | None = None) -> bool:
        """True when `text` was seen less than DEDUPE_SECONDS ago; records this sighting either way.

        Sliding: a badge held in front of the camera for 20 s is seen every frame, so it stays
        'recent' for as long as it is held and yields one decision."""
        now = time.monotonic() if now is None else now
        with self._seen_lock:
            last = self._seen.get(text)
            self._seen[text] = now
            if len(self._seen) > 256:   # forget old sightings; the map never grows
                for key, t in list(self._seen.items()):
                    if now - t > DEDUPE_SECONDS:
                        del self._seen[key]
            return last is not None and now - last < DEDUPE_SECONDS

    def submit_scan(self, text: str, activity_id: str | None = None, dedupe: bool = True,
                    as_coordinator_check: bool = True) -> bool:
        """Any thread. Decide `text` on the DB worker; the result goes to on_decision. False if ignored."""
        self.scans_submitted += 1
        if dedupe and self.seen_recently(text):
            self.scans_ignored += 1
            return False
        self.run(self._decide, text, activity_id, as_coordinator_check, then=self._deliver)
        return True

    def _deliver(self, result) -> None:
        if self.on_decision is not None:
            self.on_decision(result)

    def arm_my_hours(self, seconds: float) -> None:
        """UI thread: the next badge (within `seconds`) shows its holder's hours, records nothing."""
        self.my_hours.arm(time.monotonic(), seconds)

    def _decide(self, text: str, activity_id: str | None, as_coordinator_check: bool):
        self.scans_decided += 1
        if activity_id is None and self.my_hours.take(time.monotonic()):
            answer = self.my_hours.answer(text)
            if answer.page_url:
                answer.page_qr = self._qr(answer.page_url)     # drawn here, like the check-out's
            return answer
        if as_coordinator_check and activity_id is None:
            badge = self.coordinator_badge(text)
            if badge is not None:
                return badge
        decision = self.attendance.scan(text, activity_id=activity_id)
        decision.scanned_text = text   # kept for re-deciding with the activity the volunteer picks
        if decision.result == "checked_out" and getattr(decision, "page_url", None):
            decision.page_qr = self._qr(decision.page_url)   # drawn here: the UI thread only uploads it
        if self.sync_agent is not None and decision.result in ("checked_in", "checked_out"):
            self.sync_agent.trigger()  # push it now when online; offline, the status says so at once
        return decision

    @staticmethod
    def _qr(url: str):
        from kiosk.qrpixels import qr_rgb
        try:
            return qr_rgb(url)
        except Exception:  # noqa: BLE001 - a QR that cannot be drawn must not cost the check-out
            log.exception("the volunteer's page QR could not be drawn")
            return None

    def coordinator_badge(self, text: str) -> CoordinatorBadge | None:
        """A valid, unrevoked coordinator badge: the screen asks what the coordinator wants."""
        from sync.badges import verify
        from kiosk.attendance import display_name
        att = self.attendance
        check = verify(text, att.keyring(), today=att.local_date(int(self.store.clock())))
        if not check.valid or check.role != "coordinator" or self.store.is_revoked(check.serial):
            return None
        full = self.store.volunteer_name(check.vid)
        return CoordinatorBadge(text, check.vid, display_name(full, check.vid), full or check.vid)

    def close_overdue(self) -> None:
        self.run(self.attendance.close_overdue)

    # --- reading for the screens (worker thread) -------------------------------------------

    def station(self) -> dict:
        station = self.store.settings.get("station") or {}
        return {"name": station.get("name") or "", "code": station.get("code") or ""}

    def activities(self, days: int = 7) -> list[dict]:
        """Activities not yet over, starting within `days`: the screens' list."""
        now = int(self.store.clock())
        rows = (Activity.select().where((Activity.ends_at > now) & (Activity.starts_at < now + days * 86400)
                                        & (Activity.closed == False))  # noqa: E712
                .order_by(Activity.starts_at))
        return [activity_dict(a) for a in rows]

    def now_and_next(self) -> dict:
        now = int(self.store.clock())
        items = self.activities(days=2)
        current = [a for a in items if a["starts_at"] <= now]
        upcoming = [a for a in items if a["starts_at"] > now][:3]
        return {"now": current, "next": upcoming}

    def here_now(self) -> list[dict]:
        out = []
        titles = {a.id: a.title for a in Activity.select(Activity.id, Activity.title)}
        names = {}
        for s in self.store.open_sessions():
            if s.vid not in names:
                v = Volunteer.get_or_none(Volunteer.vid == s.vid)
                from kiosk.attendance import display_name
                names[s.vid] = (display_name(v.name if v else None, s.vid), (v.name if v else None) or s.vid)
            out.append({"session_id": s.id, "vid": s.vid, "name": names[s.vid][0], "full_name": names[s.vid][1],
                        "activity": titles.get(s.activity_id), "check_in_at": s.check_in_at})
        return out

    def recent_sessions(self, limit: int = 30) -> list[dict]:
        from kiosk.attendance import display_name
        out = []
        for s in Session.select().order_by(Session.check_in_at.desc()).limit(limit):
            full = self.store.volunteer_name(s.vid)
            out.append({"session_id": s.id, "vid": s.vid, "name": display_name(full, s.vid), "full_name": full or s.vid,
                        "check_in_at": s.check_in_at, "check_out_at": s.check_out_at, "minutes": s.minutes,
                        "flags": s.flags})
        return out

    def outbox_summary(self) -> dict:
        refused = [{"seq": e.seq, "type": e.type, "code": e.code or ""} for e in self.store.refused_events()[-50:]]
        failed = [{"at": f.at, "code": f.code, "vid": f.vid, "serial": f.serial, "reads": f.reads}
                  for f in self.attendance.failed_scans.today(self.attendance.timezone())]
        return {"pending": self.store.count_pending(), "refused_count": len(refused), "refused": refused,
                "stored": OutboxEvent.select().where(OutboxEvent.status == "stored").count(),
                "failed_today": failed}

    # --- coordinator PIN (kiosk.coordinator; worker thread) -------------------------------

    def pin_state(self, vid: str) -> dict:
        return self.pins.state(vid)

    def check_pin(self, vid: str, pin: str) -> dict:
        return self.pins.check(vid, pin)

    # --- sync ----------------------------------------------------------------------------

    def sync_status(self) -> dict:
        if self.sync_agent is None:
            return {"ok": False, "online": False, "running": False, "progress": 0.0, "pending": None,
                    "enrolled": False, "last_success": None, "last_failure": None, "last_error": None}
        return self.sync_agent.status()

    def enrolled(self) -> bool:
        state = self.store.sync_state()
        return bool(state.get("server_url") and state.get("token"))

    def enroll(self, url: str, code: str) -> dict:
        from sync.client import enroll
        answer = enroll(self.store, url.strip(), code.strip())
        self.ensure_sync_agent(start=True)
        return {"device_id": answer.device_id, "kiosk_number": answer.kiosk_number}

    def reset_enrolment(self) -> None:
        self.store.set_sync_state(server_url=None, token=None, cursor=0)

    def push_soon(self) -> None:
        """A resident's order or rating was queued: a sync round now when online (offline, the
        agent's own retries carry it later)."""
        if self.sync_agent is not None:
            self.sync_agent.trigger()

    def ensure_sync_agent(self, start: bool = False):
        if self.sync_agent is None:
            from sync.client import SyncAgent
            self.sync_agent = SyncAgent(self.store)
        if start:
            self.start_sync_agent()
            self.sync_agent.trigger()
        return self.sync_agent

    def start_sync_agent(self) -> None:
        """Start the agent's thread, at a low priority: the screen is drawn first."""
        from kiosk.threads import SYNC_NICE, lower_priority
        self.sync_agent.start()
        thread = getattr(self.sync_agent, "_thread", None)
        if thread is not None:
            lower_priority(SYNC_NICE, thread)


def activity_dict(a: Activity) -> dict:
    places_left = None if a.capacity is None else max(0, a.capacity - (a.signed_up or 0))
    return {"id": a.id, "title": a.title, "category": a.category, "starts_at": a.starts_at, "ends_at": a.ends_at,
            "place": a.place, "team": a.team, "capacity": a.capacity, "places_left": places_left,
            "description": a.description, "signup_url": a.signup_url}


# The station's time zone for every time shown (set from the store at start; a kiosk's
# system clock may well be UTC).
STATION_TZ = None


def set_station_tz(tz) -> None:
    global STATION_TZ
    STATION_TZ = tz


def local_dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, STATION_TZ)


def hhmm(ts: int | None) -> str:
    if ts is None:
        return "—"
    return local_dt(ts).strftime("%H:%M")


def day_time(ts: int) -> str:
    return local_dt(ts).strftime("%m-%d %H:%M")


def hours_text(minutes: int | None) -> str:
    """150 -> '2.5'; 120 -> '2'."""
    if minutes is None:
        return "0"
    value = round(minutes / 60, 1)
    return f"{value:g}"


def parse_hhmm_on(day_ts: int, text: str, tz) -> int:
    """'09:30' on the local day of `day_ts` -> Unix seconds (ValueError when not HH:MM)."""
    hh, mm = text.strip().replace("：", ":").split(":")
    base = datetime.fromtimestamp(day_ts, tz)
    when = base.replace(hour=int(hh), minute=int(mm), second=0, microsecond=0)
    return int(when.timestamp())


__all__ = ["KioskServices", "CoordinatorBadge", "Decision", "activity_dict", "hhmm", "hours_text",
           "parse_hhmm_on", "timedelta"]
