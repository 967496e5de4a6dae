"""Scan -> decision -> durable record. No Kivy here: the screens and the CLI both call this.

    >>> desk = Attendance(open_store("kiosk.db"))
    >>> desk.scan(text).result          # checked_in / checked_out / repeat / refused
    'checked_in'

The whole decision (read the volunteer's last session, decide, write the row and its
outbox event) is one IMMEDIATE transaction (`KioskStore.writing`): two processes on one
kiosk database scanning the same badge at once give exactly one check-in. A refusal
records no attendance (only a row in the failed-scan log, kiosk.failed_scans) and says why with a stable code (sync.badges.REASON_CODES plus the codes
below), so the screen can tell the volunteer what to do next.

Credit, flags and state come from `sync.hours.settle`, the function the server calls
too. A session the rules find doubtful (closed automatically, a late check-out, a time in
the future) is in state "review": it counts in no total until a coordinator approves it,
and the year total on the screen shows it apart.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import uuid6

from sync import hours, stars, wire
from sync.badges import KeyRing, verify
from sync.verify_key import verify_key_from_b64
from kiosk.store import Activity, KioskStore, Session, db

# Refusal codes beyond the badge's own (keep in sync with kiosk/i18n catalogs).
CHOOSE_ACTIVITY = "choose_activity"      # two activities are open: the volunteer must pick one
ACTIVITY_NOT_OPEN = "activity_not_open"  # the picked activity is not open for check-in now
OUT_OF_ORDER = "out_of_order"            # a replayed scan earlier than this volunteer's last record
# A check-out that is not plain "ok".
LATE_CHECKOUT = "late_checkout"          # after the automatic close: the end time awaits review

# A repeat says which state the volunteer is already in.
ALREADY_IN = "already_checked_in"
ALREADY_OUT = "already_checked_out"


@dataclass
class Decision:
    result: str                     # checked_in / checked_out / repeat / refused
    code: str = "ok"
    vid: str | None = None
    name: str | None = None         # masked for the screen: 林*国
    role: str | None = None
    at: int = 0
    session_id: str | None = None
    activity_id: str | None = None  # None on a check-in: general station duty
    activity_title: str | None = None
    minutes: int | None = None      # credited by this check-out
    year_minutes: int | None = None # credited since 1 January, this one included
    year_pending_minutes: int | None = None  # since 1 January, awaiting a coordinator's review
    total_minutes: int | None = None  # credited ever (star levels), this one included
    city: bool = False              # the totals are the city's (the center's figures + this kiosk's unsent)
    stars: int = 0                  # star level (sync.stars) after this check-out
    stars_reached: int = 0          # the level this check-out reached (0: none crossed)
    page_url: str | None = None     # the volunteer's own page (signed, expiring), shown as a QR code
    state: str | None = None        # the session's state after a check-out (closed / review)
    flags: list[str] = field(default_factory=list)
    open_activities: list[dict] = field(default_factory=list)  # filled for choose_activity

    @property
    def recorded(self) -> bool:
        return self.result in ("checked_in", "checked_out")

    def as_dict(self) -> dict:
        return asdict(self)


def display_name(name: str | None, vid: str) -> str:
    """The masked roster name, or the number's last four digits when the roster is not here yet."""
    return mask_name(name) if name else "…" + vid[-4:]


def mask_name(name: str | None) -> str | None:
    """林建国 -> 林*国, 王芳 -> 王*, 欧阳娜娜 -> 欧**娜: enough to recognise oneself, not to be named."""
    if not name:
        return name
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


class Attendance:
    def __init__(self, store: KioskStore):
        self.store = store
        self._keys_seen: dict[str, str] = {}
        self._keyring = KeyRing()
        # vid -> when its badge was last in front of the camera: a badge held there for
        # 20 s arrives as hundreds of scans and must stay one decision.
        self._last_seen: dict[str, int] = {}
        from kiosk.failed_scans import FailedScans
        self.failed_scans = FailedScans(store)

    # --- context ------------------------------------------------------------------------

    def keyring(self) -> KeyRing:
        current = self.store.public_keys()
        if current != self._keys_seen:  # rebuilt only when a sync brought new keys
            # verify-only keys through the libcrypto Python has loaded (sync.verify_key): no cryptography
            self._keyring = KeyRing({kid: verify_key_from_b64(b64) for kid, b64 in current.items()})
            self._keys_seen = current
        return self._keyring

    def timezone(self) -> ZoneInfo:
        station = self.store.settings.get("station") or {}
        return ZoneInfo(station.get("timezone") or "Asia/Shanghai")

    def local_date(self, at: int) -> date:
        return datetime.fromtimestamp(at, self.timezone()).date()

    def rules_for(self, activity: Activity | None) -> hours.HoursRules:
        rules = hours.HoursRules().merged(self.store.settings.get("rules"))
        if activity is not None and activity.rules:
            rules = rules.merged(json.loads(activity.rules))
        return rules

    def open_activities(self, at: int) -> list[Activity]:
        rules = self.rules_for(None)
        # Plain SQL here and below on the scan path: building a peewee expression costs
        # more than the indexed lookup it runs (bench/bench_store.py).
        candidates = Activity.raw("SELECT * FROM activity WHERE closed = 0 AND ends_at > ? AND starts_at <= ? "
                                  "ORDER BY starts_at", at, at + rules.early_checkin_minutes * 60)
        return [a for a in candidates if hours.is_open_for_checkin(a.starts_at, a.ends_at, at, self.rules_for(a))]

    def totals(self, vid: str, at: int) -> tuple[int, int, int, bool]:
        """(credited this year, awaiting review this year, credited ever, city?) for a
        check-out screen. With the center's figures for this volunteer (sent with the
        roster, `services.totals`): those plus this kiosk's sessions the center has not
        been sent yet (offline included). Without them: what this kiosk recorded."""
        year, year_minutes, year_pending, total = self.store.city_figures(vid)
        credited, pending = self.year_minutes(vid, at)
        if total is None:
            local_ever = db.execute_sql(
                "SELECT COALESCE(SUM(minutes), 0) FROM attendance WHERE vid = ? AND state IN ("
                + ",".join(f"'{s}'" for s in hours.COUNTED_STATES) + ")", (vid,)).fetchone()[0]
            return credited, pending, local_ever, False
        this_year = self.local_date(at).year
        year_start = int(datetime(this_year, 1, 1, tzinfo=self.timezone()).timestamp())
        unsent = self.store.unsent_sessions(vid)
        unsent_counted = [(c, m or 0) for state, c, m in unsent if state in hours.COUNTED_STATES]
        ever = total + sum(m for _, m in unsent_counted)
        if year != this_year:           # the center's figures are last year's: this kiosk's own
            return credited, pending, ever, True
        year_credited = year_minutes + sum(m for c, m in unsent_counted if c >= year_start)
        year_waiting = (year_pending or 0) + sum(m or 0 for state, c, m in unsent
                                                 if state == hours.STATE_REVIEW and c >= year_start)
        return year_credited, year_waiting, ever, True

    def year_minutes(self, vid: str, at: int) -> tuple[int, int]:
        """(credited, awaiting review) minutes since 1 January, local time."""
        year_start = int(datetime(self.local_date(at).year, 1, 1, tzinfo=self.timezone()).timestamp())
        counted = ",".join(f"'{state}'" for state in hours.COUNTED_STATES)
        credited, pending = db.execute_sql(
            f"SELECT COALESCE(SUM(CASE WHEN state IN ({counted}) THEN minutes END), 0), "
            f"COALESCE(SUM(CASE WHEN state = ? THEN minutes END), 0) "
            f"FROM attendance WHERE vid = ? AND check_in_at >= ?", (hours.STATE_REVIEW, vid, year_start)).fetchone()
        return credited, pending

    # --- the scan ----------------------------------------------------------------------

    def scan(self, text: str, at: int | None = None, activity_id: str | None = None) -> Decision:
        """Decide what a scanned text means at time `at` (default: now) and record it."""
        at = int(self.store.clock() if at is None else at)
        # 1. The badge: prefix, signature, expiry (no network). Revocation from the store.
        check = verify(text, self.keyring(), today=self.local_date(at))
        if not check.valid:
            decision = Decision("refused", check.code, vid=check.vid, at=at)
        elif self.store.is_revoked(check.serial):
            decision = Decision("refused", "revoked", vid=check.vid, at=at)
        else:
            base = dict(vid=check.vid, name=display_name(self.store.volunteer_name(check.vid), check.vid),
                        role=check.role, at=at)
            # 2-4 read and write as one transaction: another process deciding for the same badge
            # waits here, then sees this decision's row.
            with self.store.writing():
                decision = self._decide(check, at, activity_id, base)
        if decision.result == "refused":   # the failed-scan log: one row per refused thing, never its text
            self.failed_scans.record(decision.code, text if isinstance(text, str) else "", at,
                                     vid=check.vid, serial=check.serial)
        return decision

    def _decide(self, check, at: int, activity_id: str | None, base: dict) -> Decision:
        vid = check.vid
        station_rules = self.rules_for(None)
        window = station_rules.out_of_order_window_seconds
        # 2. A session whose check-in lies beyond the current clock (the kiosk clock ran
        #    ahead, then was set right): closed and flagged, so it locks nobody out.
        for stale in Session.raw("SELECT * FROM attendance WHERE vid = ? AND check_out_at IS NULL "
                                 "AND check_in_at > ?", vid, at + window):
            self._close(stale, stale.check_in_at, "auto", self._session_rules(stale), (hours.FLAG_FUTURE_TIME,))
        # Plain SQL here and below on the scan path: building a peewee expression costs
        # more than the indexed lookup it runs (bench/bench_store.py).
        last = next(iter(Session.raw("SELECT * FROM attendance WHERE vid = ? AND check_in_at <= ? "
                                     "ORDER BY check_in_at DESC LIMIT 1", vid, at + window)), None)

        # 3. Still in front of the camera: the same decision, nothing new recorded.
        last_seen = self._last_seen.get(vid)
        self._last_seen[vid] = at
        held = last_seen is not None and 0 <= at - last_seen < station_rules.held_badge_seconds
        if held and last is not None:
            state = ALREADY_IN if last.check_out_at is None else ALREADY_OUT
            return Decision("repeat", state, session_id=last.id, activity_id=last.activity_id, **base)

        # 4. An open session: close it (overdue: automatically), or call it a repeat.
        if last is not None and last.check_out_at is None:
            if at < last.check_in_at:
                return Decision("refused", OUT_OF_ORDER, **base)
            activity = self._activity(last.activity_id)
            rules = self.rules_for(activity)
            due = hours.auto_close_at(last.check_in_at, activity.ends_at if activity else None, rules)
            if at >= due:
                self._close(last, due, "auto", rules, (hours.FLAG_AUTO_CLOSED,))
                last = Session.get_by_id(last.id)
            elif at - last.check_in_at < rules.repeat_window_seconds:
                return Decision("repeat", ALREADY_IN, session_id=last.id, activity_id=last.activity_id, **base)
            else:
                return self._checked_out(last, at, "scan", activity, rules, base)
        if last is not None:
            if at < last.check_out_at:  # inside the last session (which began at most `window` later)
                return Decision("refused", OUT_OF_ORDER, **base)
            elif hours.is_late_checkout(last.check_out_at, last.closed_by, at,
                                        self.local_date(at) == self.local_date(last.check_in_at)):
                activity = self._activity(last.activity_id)
                return self._checked_out(last, at, "late", activity, self.rules_for(activity), base,
                                         (hours.FLAG_AUTO_CLOSED, hours.FLAG_LATE_CHECKOUT))
            elif at - last.check_out_at < station_rules.repeat_window_seconds:
                return Decision("repeat", ALREADY_OUT, session_id=last.id, activity_id=last.activity_id, **base)

        # 5. A check-in: to the one open activity, the one picked, or station duty.
        open_now = self.open_activities(at)
        if activity_id is not None:
            chosen = next((a for a in open_now if a.id == activity_id), None)
            if chosen is None:
                return Decision("refused", ACTIVITY_NOT_OPEN, activity_id=activity_id, **base)
        elif len(open_now) > 1:
            return Decision("refused", CHOOSE_ACTIVITY, **base,
                            open_activities=[{"id": a.id, "title": a.title, "place": a.place,
                                              "starts_at": a.starts_at, "ends_at": a.ends_at} for a in open_now])
        else:
            chosen = open_now[0] if open_now else None
        # Time-ordered (UUIDv7, as event ids): the center keys its sessions table by this id,
        # and a random one made each insert dirty a page anywhere in that index (issue 12:
        # ≈ 20 µs of the center's CPU per check-in at a city's scale). Older kiosks' UUIDv4
        # ids are still accepted: any UUID is one.
        session_id = str(uuid6.uuid7())
        payload = wire.checkin_payload(session_id=session_id, vid=vid, serial=check.serial, role=check.role,
                                       activity_id=chosen.id if chosen else None, at=at)
        self.store.record("checkin", payload, lambda: db.execute_sql(
            "INSERT INTO attendance (id, vid, serial, role, activity_id, check_in_at, flags, state) "
            "VALUES (?, ?, ?, ?, ?, ?, '', ?)",
            (session_id, vid, check.serial, check.role, payload["activity_id"], at, hours.STATE_OPEN)))
        return Decision("checked_in", session_id=session_id, activity_id=payload["activity_id"],
                        activity_title=chosen.title if chosen else None, **base)

    def _checked_out(self, session: Session, at: int, closed_by: str, activity: Activity | None,
                     rules: hours.HoursRules, base: dict, flags: tuple[str, ...] = ()) -> Decision:
        settled = self._close(session, at, closed_by, rules, flags)
        credited, pending, ever, city = self.totals(session.vid, at)
        thresholds = self.star_hours()
        this_one = (settled.minutes or 0) if settled.state in hours.COUNTED_STATES else 0
        return Decision("checked_out", LATE_CHECKOUT if closed_by == "late" else "ok", session_id=session.id,
                        activity_id=session.activity_id, activity_title=activity.title if activity else None,
                        minutes=settled.minutes, year_minutes=credited, year_pending_minutes=pending,
                        total_minutes=ever, city=city, stars=stars.level(ever, thresholds),
                        stars_reached=stars.crossed(ever - this_one, ever, thresholds),
                        page_url=self.own_page_url(session.vid, at),
                        flags=list(settled.flags), state=settled.state, **base)

    def own_page_url(self, vid: str, at: int, seconds: int = 24 * 3600) -> str | None:
        """A signed link to the volunteer's own page on the center (sync.mylink), or None
        before the center has sent this station its key."""
        import base64

        from sync import mylink
        state = self.store.settings
        server, key = state.get("server_url"), state.get("page_key")
        station = (state.get("station") or {}).get("code")
        if not (server and key and station):
            return None
        try:
            token = mylink.make(base64.urlsafe_b64decode(key), vid, station, at + seconds)
        except (ValueError, TypeError):
            return None
        return f"{server.rstrip('/')}/me/{token}"

    def star_hours(self) -> tuple[int, ...]:
        """The center's star thresholds (its hours rules' ``star_hours``), else the default."""
        try:
            return stars.thresholds(self.store.settings.get("rules"))
        except ValueError:
            return stars.DEFAULT_HOURS

    def _activity(self, activity_id: str | None) -> Activity | None:
        return Activity.get_or_none(Activity.id == activity_id) if activity_id else None

    # --- closing sessions -------------------------------------------------------------

    def _close(self, session: Session, at: int, closed_by: str, rules: hours.HoursRules,
               flags: tuple[str, ...] = (), by_vid: str | None = None) -> hours.Settled:
        """Write the check-out and its event; `flags` are what this close observed."""
        settled = hours.settle(session.check_in_at, at, rules, hours.split_flags(session.flags) | set(flags))
        payload = wire.checkout_payload(session_id=session.id, vid=session.vid, at=at, minutes=settled.minutes,
                                        flags=list(settled.flags), closed_by=closed_by, by_vid=by_vid)

        def write():
            (Session.update(check_out_at=at, minutes=settled.minutes, flags=",".join(settled.flags),
                            closed_by=closed_by, state=settled.state).where(Session.id == session.id).execute())
        self.store.record("checkout", payload, write)
        return settled

    def close_overdue(self, now: int | None = None) -> int:
        """Close every open session past its activity's end plus grace; return how many."""
        now = int(self.store.clock() if now is None else now)
        closed = 0
        with self.store.writing():
            for session in self.store.open_sessions():
                activity = self._activity(session.activity_id)
                rules = self.rules_for(activity)
                due = hours.auto_close_at(session.check_in_at, activity.ends_at if activity else None, rules)
                if now >= due:
                    self._close(session, due, "auto", rules, (hours.FLAG_AUTO_CLOSED,))
                    closed += 1
        return closed

    # --- coordinator actions --------------------------------------------------------------

    def _session_rules(self, session: Session) -> hours.HoursRules:
        return self.rules_for(self._activity(session.activity_id))

    def check_out(self, session_id: str, by_vid: str, at: int | None = None) -> hours.Settled:
        """A coordinator checks someone out (they left without scanning)."""
        at = int(self.store.clock() if at is None else at)
        with self.store.writing():
            session = Session.get_by_id(session_id)
            if session.check_out_at is not None:
                raise ValueError("this session is already closed")
            return self._close(session, max(at, session.check_in_at), "coordinator", self._session_rules(session),
                               by_vid=by_vid)

    def correct(self, session_id: str, field_name: str, value: int, reason: str, by_vid: str) -> Session:
        """Change a check-in or check-out time, with a reason; recorded as an event."""
        if field_name not in ("check_in", "check_out"):
            raise ValueError("field must be check_in or check_out")
        if not reason.strip():
            raise ValueError("a correction needs a reason")
        payload = wire.correction_payload(session_id=session_id, field=field_name, value=int(value),
                                          reason=reason.strip(), by_vid=by_vid)
        with self.store.writing():
            session = Session.get_by_id(session_id)
            if session.state in hours.DECIDED_STATES:
                raise ValueError("a coordinator at the center has reviewed this session already")
            check_in = value if field_name == "check_in" else session.check_in_at
            check_out = value if field_name == "check_out" else session.check_out_at
            if check_out is not None and check_out < check_in:
                raise ValueError("check-out would be before check-in")
            settled = hours.settle(check_in, check_out, self._session_rules(session),
                                   hours.split_flags(session.flags) | {hours.FLAG_CORRECTED})

            def write():
                Session.update(check_in_at=check_in, check_out_at=check_out, minutes=settled.minutes,
                               flags=",".join(settled.flags), state=settled.state,
                               ).where(Session.id == session_id).execute()
            self.store.record("correction", payload, write)
        return Session.get_by_id(session_id)

    def close_activity(self, activity_id: str, by_vid: str, at: int | None = None) -> int:
        """Close an activity early: its open sessions are checked out now; returns how many."""
        at = int(self.store.clock() if at is None else at)
        activity = Activity.get_by_id(activity_id)
        rules = self.rules_for(activity)
        with self.store.writing():
            open_sessions = [s for s in self.store.open_sessions() if s.activity_id == activity_id]
            for session in open_sessions:
                self._close(session, max(at, session.check_in_at), "coordinator", rules, by_vid=by_vid)
            payload = wire.activity_closed_payload(activity_id=activity_id, at=at, by_vid=by_vid)
            self.store.record("activity_closed", payload,
                              lambda: Activity.update(closed=True).where(Activity.id == activity_id).execute())
        return len(open_sessions)
