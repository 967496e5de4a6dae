"""The kiosk database: peewee models, numbered migrations, and the store API.

One SQLite file per kiosk. Deferred initialisation keeps one place in charge of where
the data lives::

    >>> store = open_store("/var/lib/weiguang/kiosk.db")   # db.init + pragmas + migrations
    >>> store.settings.get("station_name")

WAL with ``synchronous=FULL``: a kiosk loses power, and a check-in the screen has
acknowledged must survive it. Every change is written together with its outbox event
in one transaction (`KioskStore.record`), so the sync agent can never miss one.

Times are Unix seconds (UTC) in INTEGER columns: unambiguous, compact, fast to index.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

import uuid6
from peewee import (BooleanField, CharField, Check, DatabaseError, IntegerField, Model, OperationalError,
                    SqliteDatabase, TextField)



class KioskDatabase(SqliteDatabase):
    """SqliteDatabase with a thread check. `watch_thread(ident, on_use)` makes every statement
    run from that thread call on_use(sql) first (a test, or a debug run, watching the UI thread,
    which must never wait on SQLite); `unwatch_thread(ident)` ends it. Costs one dict test."""

    _watched: dict[int, Callable[[str], Any]] = {}

    def watch_thread(self, ident: int, on_use: Callable[[str], Any]) -> None:
        self._watched[ident] = on_use

    def unwatch_thread(self, ident: int) -> None:
        self._watched.pop(ident, None)

    def execute_sql(self, sql, params=None, *args, **kwargs):
        if self._watched:
            hook = self._watched.get(threading.get_ident())
            if hook is not None:
                hook(sql)
        return super().execute_sql(sql, params, *args, **kwargs)


db = KioskDatabase(None)

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 2,        # FULL: fsync the WAL on every commit
    "foreign_keys": 1,
    "busy_timeout": 10000,   # the sync agent's connection and the scan path share the file
    "cache_size": -16000,
    "secure_delete": 1,      # deleted data (a phone number once synced) is overwritten, not left in free space
}


class BaseModel(Model):
    class Meta:
        database = db


class Setting(BaseModel):
    key = CharField(primary_key=True)
    value = TextField()  # JSON


class Migration(BaseModel):
    name = CharField(primary_key=True)
    applied_at = IntegerField()


class Activity(BaseModel):
    id = CharField(primary_key=True)
    title = CharField()
    category = CharField(default="志愿服务")
    starts_at = IntegerField()
    ends_at = IntegerField(constraints=[Check("ends_at > starts_at")])
    place = CharField(default="")
    team = CharField(default="")
    capacity = IntegerField(null=True)
    signed_up = IntegerField(default=0)
    description = TextField(default="")
    signup_url = CharField(default="")
    rules = TextField(null=True)   # JSON overrides of the hours rules for this activity
    closed = BooleanField(default=False)

    class Meta:
        indexes = ((("starts_at", "ends_at"), False),)


class Volunteer(BaseModel):
    """The roster: who the center says belongs to this station's scope; with the city's
    figures for the volunteer as the center last sent them (NULL: none yet): confirmed
    minutes in `year`, minutes awaiting review in it, and confirmed minutes ever."""
    vid = CharField(primary_key=True)
    name = CharField()
    team = CharField(default="")
    role = CharField(default="volunteer")
    phone = CharField(default="")              # always empty: a kiosk holds no phone numbers (privacy at rest)
    year = IntegerField(null=True)
    year_minutes = IntegerField(null=True)
    year_pending_minutes = IntegerField(null=True)
    total_minutes = IntegerField(null=True)


class Session(BaseModel):
    """One attendance: a check-in and, once it happens, its check-out."""
    id = CharField(primary_key=True)           # UUID, the same on the server
    vid = CharField()
    serial = IntegerField()
    role = CharField(default="volunteer")
    activity_id = CharField(null=True)         # None: general station duty (站点值班)
    check_in_at = IntegerField()
    check_out_at = IntegerField(null=True)
    minutes = IntegerField(null=True)
    flags = CharField(default="")              # comma-separated, see sync.hours FLAG_*
    closed_by = CharField(null=True)           # scan / auto / coordinator / late
    state = CharField(default="open")          # sync.hours STATES: open / closed / review / approved …

    class Meta:
        table_name = "attendance"
        # The one index behind both hot queries: "latest session of this volunteer"
        # (is one open?) and "this volunteer's minutes since 1 January".
        indexes = ((("vid", "check_in_at"), False),)


class OutboxEvent(BaseModel):
    id = CharField(primary_key=True)           # UUIDv7
    seq = IntegerField(unique=True)            # per-device, gapless
    type = CharField()
    device_time = CharField()                  # ISO 8601 with offset
    clock_offset_ms = IntegerField(default=0)
    payload = TextField()                      # JSON
    status = CharField(default="pending")      # pending / stored / duplicate / refused
    code = CharField(null=True)                # the server's reason when refused
    sent_at = IntegerField(null=True)

    class Meta:
        table_name = "outbox"
        indexes = ((("status", "seq"), False),)


class Revocation(BaseModel):
    serial = IntegerField(primary_key=True)
    vid = CharField(default="")
    revoked_at = IntegerField(default=0)


class TrustedKey(BaseModel):
    kid = CharField(primary_key=True)
    public_key = CharField()                   # base64 of the raw 32 bytes


class ServiceRequest(BaseModel):
    """A resident's order (点单) taken at this kiosk; the center dispatches it."""
    number = CharField(primary_key=True)
    service = CharField()
    phone = CharField()
    note = TextField(default="")
    state = CharField(default="ordered")        # ordered / dispatched / accepted / done / rated
    created_at = IntegerField()


class RequestState(BaseModel):
    """A request's state as the center last published it (change kind "request_state"):
    shown to whoever types its number and the last four digits of the phone (`check`)."""
    number = CharField(primary_key=True)
    service = CharField(default="")
    state = CharField()
    check = CharField(null=True)               # sync.service_menu.check(number, last4)

    class Meta:
        table_name = "request_states"


class FailedScan(BaseModel):
    """A refused scan (kiosk.failed_scans): when, why, and the badge's number and serial when
    the text was one of ours. Never a foreign code's text. `reads`: how often the same thing
    was read again within seconds of the last read (one row for a badge held 20 s)."""
    id = CharField(primary_key=True)           # UUID, also in its outbox event
    at = IntegerField()
    last_at = IntegerField()
    code = CharField()
    vid = CharField(null=True)
    serial = IntegerField(null=True)
    reads = IntegerField(default=1)

    class Meta:
        table_name = "failed_scans"
        indexes = ((("at",), False),)


MODELS = [Setting, Migration, Activity, Volunteer, Session, OutboxEvent, Revocation, TrustedKey,
          ServiceRequest, RequestState, FailedScan]


# --- migrations: numbered, recorded, run once each at open ---------------------------

def _m0001_initial(database: SqliteDatabase) -> None:
    database.create_tables(MODELS)


def _columns(database: SqliteDatabase, table: str) -> set[str]:
    return {c.name for c in database.get_columns(table)}


def _m0002_session_state(database: SqliteDatabase) -> None:
    """Sessions get a state (review: counts in no total until a coordinator approves it);
    closed rows of an older kiosk are settled by the rules as they stand."""
    from sync import hours
    if "state" not in _columns(database, "attendance"):
        database.execute_sql("ALTER TABLE attendance ADD COLUMN state VARCHAR(255) NOT NULL DEFAULT 'open'")
    for row in database.execute_sql("SELECT id, check_in_at, check_out_at, flags FROM attendance "
                                    "WHERE check_out_at IS NOT NULL AND state = 'open'").fetchall():
        settled = hours.settle(row[1], row[2], hours.HoursRules(), hours.split_flags(row[3]))
        database.execute_sql("UPDATE attendance SET state = ? WHERE id = ?", (settled.state, row[0]))


def _m0003_request_states(database: SqliteDatabase) -> None:
    database.create_tables([RequestState], safe=True)


def _m0004_city_totals(database: SqliteDatabase) -> None:
    """The city's figures per volunteer (issue 9), sent by the center with the roster."""
    have = _columns(database, "volunteer")
    for column in ("year", "year_minutes", "year_pending_minutes", "total_minutes"):
        if column not in have:
            database.execute_sql(f"ALTER TABLE volunteer ADD COLUMN {column} INTEGER")


def _m0005_failed_scans(database: SqliteDatabase) -> None:
    """Issue 11: refused scans are recorded; and the roster holds no phone numbers (a kiosk
    never needs one; an older kiosk kept what the roster CSV or an older center gave it)."""
    database.create_tables([FailedScan], safe=True)
    database.execute_sql("UPDATE volunteer SET phone = '' WHERE phone != ''")


MIGRATIONS: list[tuple[str, Callable[[SqliteDatabase], None]]] = [
    ("0001_initial", _m0001_initial),
    ("0002_session_state", _m0002_session_state),
    ("0003_request_states", _m0003_request_states),
    ("0004_city_totals", _m0004_city_totals),
    ("0005_failed_scans", _m0005_failed_scans),
]


def migrate(database: SqliteDatabase = db) -> list[str]:
    """Apply the migrations not yet recorded; return the names applied."""
    applied = []
    with database.atomic():
        database.create_tables([Migration])
        done = {m.name for m in Migration.select(Migration.name)}
        for name, step in MIGRATIONS:
            if name not in done:
                step(database)
                Migration.create(name=name, applied_at=int(time.time()))
                applied.append(name)
    return applied


# --- settings ---------------------------------------------------------------------------

class Settings:
    """Small JSON values by key: station identity, sync state, PIN hash, language…

    Read on every scan (station time zone, hours rules), so values are cached; a write
    through this object refreshes the cache at once, and a write by another process
    (the `weiguang` CLI beside a running kiosk) is seen within REFRESH_SECONDS.
    """

    REFRESH_SECONDS = 2.0

    def __init__(self):
        self._cache: dict[str, Any] | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def _values(self) -> dict[str, Any]:
        with self._lock:
            if self._cache is None or time.monotonic() - self._loaded_at > self.REFRESH_SECONDS:
                self._cache = {row.key: json.loads(row.value) for row in Setting.select()}
                self._loaded_at = time.monotonic()
            return self._cache

    def get(self, key: str, default: Any = None) -> Any:
        return self._values().get(key, default)

    def set(self, **values: Any) -> None:
        with db.atomic():
            for key, value in values.items():
                Setting.replace(key=key, value=json.dumps(value, ensure_ascii=False)).execute()
        self.invalidate()

    def invalidate(self) -> None:
        with self._lock:
            self._cache = None

    def all(self) -> dict:
        return dict(self._values())


# One database per process (the module-level `db`), so one settings cache: every
# KioskStore in the process, the sync agent's included, sees the same values.
SETTINGS = Settings()


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()


class KioskStore:
    """The kiosk's data, as the scan path, the screens and the sync agent use it.

    Implements `sync.protocol.SyncStore`. Safe to share between threads: peewee gives
    each thread its own connection, and SQLite serialises the writers.
    """

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.clock = clock
        self.settings = SETTINGS
        # Reentrant: a decision holds it (`writing`) around the `record` calls it makes.
        self._seq_lock = threading.RLock()

    # --- writing with an outbox event ---------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One IMMEDIATE transaction around a whole decision: the write lock is taken before
        anything is read, so a second writer (another thread, the CLI beside a running
        kiosk, a second app instance after a bad restart) waits and then sees this one's rows."""
        with self._seq_lock:
            try:
                with db.atomic(lock_type="IMMEDIATE"):
                    yield
            except DatabaseError as exc:
                if not is_storage_problem(exc):   # a constraint (a number taken meanwhile…): the caller's
                    raise underlying_error(exc)
                raise diagnose(self.path, exc) from underlying_error(exc)   # a full disk, an I/O error…

    def record(self, event_type: str, payload: dict, write: Callable[[], Any] | None = None) -> OutboxEvent:
        """Run `write` and append its outbox event in one transaction; both or neither."""
        # IMMEDIATE: take the write lock before reading MAX(seq), so a second writer
        # (the CLI beside a running kiosk) waits instead of failing on a duplicate seq.
        with self.writing():
            if write is not None:
                write()
            return self._append_event(event_type, payload)

    def _append_event(self, event_type: str, payload: dict) -> OutboxEvent:
        # Plain SQL: this runs inside every scan's transaction, and peewee's query
        # building costs more than the insert itself.
        last = db.execute_sql("SELECT MAX(seq) FROM outbox").fetchone()[0] or 0
        event = OutboxEvent(id=str(uuid6.uuid7()), seq=last + 1, type=event_type, device_time=iso(self.clock()),
                            clock_offset_ms=self.settings.get("clock_offset_ms", 0),
                            payload=json.dumps(payload, ensure_ascii=False), status="pending")
        db.execute_sql("INSERT INTO outbox (id, seq, type, device_time, clock_offset_ms, payload, status) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (event.id, event.seq, event.type, event.device_time, event.clock_offset_ms,
                        event.payload, event.status))
        return event

    # --- SyncStore -------------------------------------------------------------------------

    def sync_state(self) -> dict:
        keys = ("server_url", "token", "device_id", "cursor", "clock_offset_ms",
                "last_success", "last_failure", "last_error",  # the last three: shown after a restart
                "page_key",                                     # volunteers' own page links (sync.mylink)
                "event_types")                                  # what the center accepts (newer types held back)
        return {key: self.settings.get(key) for key in keys}

    def set_sync_state(self, **values) -> None:
        self.settings.set(**values)

    def count_pending(self) -> int:
        return OutboxEvent.select().where(OutboxEvent.status == "pending").count()

    def count_refused(self) -> int:
        return OutboxEvent.select().where(OutboxEvent.status == "refused").count()

    def pending_events(self, limit: int) -> list[dict]:
        """The next pending events in order; those of a type the center has not said it
        accepts (protocol.HELD_BACK_TYPES: an older center would refuse their whole batch)
        wait until it does."""
        from sync.wire import HELD_BACK_TYPES
        device_id = self.settings.get("device_id")
        accepted = set(self.settings.get("event_types") or ())
        held = sorted(HELD_BACK_TYPES - accepted)
        query = OutboxEvent.select().where(OutboxEvent.status == "pending")
        if held:
            query = query.where(OutboxEvent.type.not_in(held))
        rows = query.order_by(OutboxEvent.seq).limit(limit)
        return [{
            "id": row.id, "device_id": device_id, "seq": row.seq, "type": row.type,
            "device_time": row.device_time, "clock_offset_ms": row.clock_offset_ms,
            "payload": json.loads(row.payload),
        } for row in rows]

    def record_push_results(self, results) -> None:
        now = int(self.clock())
        # One UPDATE per (status, code) group, not per event: a 500-event answer is one
        # statement in the common case. A duplicate was stored by an earlier push.
        groups: dict[tuple[str, str | None], list[str]] = {}
        for result in results:
            status = "stored" if result.status == "duplicate" else result.status
            groups.setdefault((status, result.code), []).append(str(result.id))
        with db.atomic():
            for (status, code), ids in groups.items():
                for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
                    (OutboxEvent.update(status=status, code=code, sent_at=now)
                     .where(OutboxEvent.id.in_(ids[start:start + 500])).execute())
            # Privacy: once the center holds an order, its phone number leaves this kiosk.
            stored = [i for (status, _code), ids in groups.items() if status == "stored" for i in ids]
            erased = forget_phones(stored)
        if erased:
            # Freed page space is zeroed (secure_delete); the write-ahead log, which still
            # holds the earlier pages, is emptied.
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def refused_events(self) -> list[OutboxEvent]:
        return list(OutboxEvent.select().where(OutboxEvent.status == "refused").order_by(OutboxEvent.seq))

    def apply_changes(self, changes: Iterable, cursor: int) -> None:
        """Apply one pulled page in one transaction, then move the cursor."""
        with db.atomic():
            for change in changes:
                apply = _CHANGE_APPLIERS.get(change.kind)
                if apply is not None:
                    apply(self, change.key, change.data)
            self.settings.set(cursor=cursor)
        # Again after the commit: a reader on another thread may have refilled the cache
        # from before it.
        self.settings.invalidate()

    # --- reading ------------------------------------------------------------------------

    def public_keys(self) -> dict[str, str]:
        return dict(db.execute_sql("SELECT kid, public_key FROM trustedkey").fetchall())

    def revoked_serials(self) -> set[int]:
        return {r.serial for r in Revocation.select(Revocation.serial)}

    # The scan path's lookups are plain SQL: peewee's query building costs more than the
    # indexed lookup itself, and these run on every scan.
    def is_revoked(self, serial: int) -> bool:
        return db.execute_sql("SELECT 1 FROM revocation WHERE serial = ?", (serial,)).fetchone() is not None

    def city_figures(self, vid: str) -> tuple[int | None, int | None, int | None, int | None]:
        """(year, year_minutes, year_pending_minutes, total_minutes) as the center last sent them."""
        row = db.execute_sql("SELECT year, year_minutes, year_pending_minutes, total_minutes FROM volunteer "
                             "WHERE vid = ?", (vid,)).fetchone()
        return tuple(row) if row else (None, None, None, None)

    def unsent_sessions(self, vid: str) -> list[tuple[str, int, int | None, int]]:
        """(state, check_in_at, minutes, ...) of this volunteer's sessions whose check-out
        (or a correction) is still in the outbox: the center's figures do not have them yet."""
        return db.execute_sql(
            "SELECT a.state, a.check_in_at, a.minutes FROM attendance a WHERE a.vid = ? AND a.id IN ("
            "SELECT json_extract(payload, '$.session_id') FROM outbox WHERE status = 'pending' "
            "AND type IN ('checkout', 'correction'))", (vid,)).fetchall()

    def volunteer_name(self, vid: str) -> str | None:
        row = db.execute_sql("SELECT name FROM volunteer WHERE vid = ?", (vid,)).fetchone()
        return row[0] if row else None

    def open_sessions(self) -> list[Session]:
        return list(Session.select().where(Session.check_out_at.is_null()).order_by(Session.check_in_at))


# --- pulled changes, one small applier per kind (libpretixsync's adapters) ---------------

def forget_phones(event_ids: list[str]) -> int:
    """Delete the phone number from these events' orders (outbox payload and order row),
    for the ``service_request`` events among them; inside a transaction. Returns how many."""
    erased = 0
    for start in range(0, len(event_ids), 500):
        rows = list(OutboxEvent.select(OutboxEvent.id, OutboxEvent.payload).where(
            OutboxEvent.id.in_(event_ids[start:start + 500]) & (OutboxEvent.type == "service_request")))
        for row in rows:
            payload = json.loads(row.payload)
            if payload.get("phone"):
                number = payload.get("number")
                payload["phone"] = ""
                OutboxEvent.update(payload=json.dumps(payload, ensure_ascii=False)).where(
                    OutboxEvent.id == row.id).execute()
                ServiceRequest.update(phone="").where(ServiceRequest.number == number).execute()
                erased += 1
    return erased


def _upsert(model, key_field: str):
    def apply(store: KioskStore, key: str, data: dict | None) -> None:
        if data is None:
            model.delete().where(getattr(model, key_field) == key).execute()
            return
        known = set(model._meta.fields)
        row = {k: v for k, v in data.items() if k in known}
        row[key_field] = key
        if "rules" in row and isinstance(row["rules"], dict):
            row["rules"] = json.dumps(row["rules"])
        model.replace(**row).execute()
    return apply


_upsert_activity = _upsert(Activity, "id")


def _apply_activity(store: KioskStore, key: str, data: dict | None) -> None:
    """A pulled activity replaces the local row but never reopens one closed here: the
    pulled copy may predate the coordinator's closure (the closure is still in the outbox,
    or the center published this copy before it had the closure)."""
    if data is not None:
        closed_here = Activity.select(Activity.closed).where(Activity.id == key).scalar()
        data = {**data, "closed": bool(data.get("closed") or closed_here)}
        url = data.get("signup_url") or ""
        if url.startswith("/"):   # the center has no public address set: its sign-up page at our server's
            server = (store.settings.get("server_url") or "").rstrip("/")
            data["signup_url"] = server + url if server else ""
        data["signed_up"] = int(data.get("signed_up") or 0)
    _upsert_activity(store, key, data)


def _apply_revocation(store: KioskStore, key: str, data: dict | None) -> None:
    if data is None:  # a revocation lifted (a found badge)
        Revocation.delete().where(Revocation.serial == int(key)).execute()
    else:
        Revocation.replace(serial=int(key), vid=data.get("vid", ""), revoked_at=data.get("revoked_at", 0)).execute()


def _apply_public_key(store: KioskStore, key: str, data: dict | None) -> None:
    if data is None:
        TrustedKey.delete().where(TrustedKey.kid == key).execute()
    else:
        TrustedKey.replace(kid=key, public_key=data["public_key"]).execute()


def _apply_request_state(store: KioskStore, key: str, data: dict | None) -> None:
    if data is None:
        RequestState.delete().where(RequestState.number == key).execute()
    else:
        RequestState.replace(number=key, service=data.get("service", ""), state=data.get("state", ""),
                             check=data.get("check")).execute()
        ServiceRequest.update(state=data.get("state", "")).where(ServiceRequest.number == key).execute()


def _apply_setting(name: str):
    def apply(store: KioskStore, key: str, data: dict | None) -> None:
        store.settings.set(**{name: data})
    return apply


def _apply_session_decision(store: KioskStore, key: str, data: dict | None) -> None:
    """A coordinator's review at the center (approve / adjust / reject): this kiosk's copy of
    the session takes the decided state and minutes, so the next scan shows the totals."""
    if data is None:
        return
    Session.update(state=data["state"], minutes=data.get("minutes")).where(Session.id == key).execute()


# No "phone": a center that sends one (an older center) is not listened to; a kiosk never needs it.
_VOLUNTEER_FIELDS = ("name", "team", "role", "year", "year_minutes", "year_pending_minutes",
                     "total_minutes")


def _apply_volunteer(store: KioskStore, key: str, data: dict | None) -> None:
    """A roster row; the city's figures when the change carries them (a roster import
    does not: the figures already here stay)."""
    if data is None:
        Volunteer.delete().where(Volunteer.vid == key).execute()
        return
    given = {k: data[k] for k in _VOLUNTEER_FIELDS if k in data}
    row = {"name": "", "team": "", "role": "volunteer", **given, "phone": ""}
    columns = ["vid", *row]
    updates = ", ".join(f"{c} = excluded.{c}" for c in given) or "vid = excluded.vid"
    db.execute_sql(f"INSERT INTO volunteer ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
                   f"ON CONFLICT(vid) DO UPDATE SET {updates}", (key, *row.values()))


_ZONES: set[str] | None = None


def valid_timezone(name: str | None) -> bool:
    """An IANA zone this machine knows ("Asia/Beijing" and "Mars/Olympus" are none)."""
    global _ZONES
    if _ZONES is None:
        from zoneinfo import available_timezones
        _ZONES = available_timezones()
    return bool(name) and name in _ZONES


def _apply_station(store: KioskStore, key: str, data: dict | None) -> None:
    """The station's name and time zone. A zone this kiosk does not know (an older center
    that did not check it) would stop every scan: the zone already here is kept instead."""
    if data is not None and not valid_timezone(data.get("timezone") or "Asia/Shanghai"):
        kept = (store.settings.get("station") or {}).get("timezone") or "Asia/Shanghai"
        import logging
        logging.getLogger(__name__).warning("the center sent an unknown time zone %r; keeping %s",
                                            data.get("timezone"), kept)
        data = {**data, "timezone": kept}
    store.settings.set(station=data)


_CHANGE_APPLIERS = {
    "activity": _apply_activity,
    "volunteer": _apply_volunteer,
    "revocation": _apply_revocation,
    "public_key": _apply_public_key,
    "station": _apply_station,
    "rules": _apply_setting("rules"),
    "session": _apply_session_decision,
    "coordinator_pin": lambda store, key, data: _apply_coordinator_pin(store, key, data),
    "service_menu": _apply_setting("service_menu"),
    "request_state": _apply_request_state,
}


def _apply_coordinator_pin(store: KioskStore, key: str, data: dict | None) -> None:
    from kiosk.coordinator import apply_pin_change
    apply_pin_change(store, key, data)


class StoreError(Exception):
    """The kiosk database cannot be used; the message says why in a person's words, `kind`
    in a word the screens translate (full / read_only / unreadable / io_error / damaged / empty)."""

    def __init__(self, message: str, kind: str = "other"):
        super().__init__(message)
        self.kind = kind


_ROLLBACK_NOISE = ("cannot rollback", "no such savepoint", "cannot commit")


def underlying_error(exc: BaseException) -> BaseException:
    """The error that started it: SQLite rolls a transaction back by itself on a full disk or
    an I/O error, and the rollback peewee then tries fails with "cannot rollback - no
    transaction is active", which would hide the real reason."""
    seen, current = set(), exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StoreError):
            return current
        if not any(noise in str(current) for noise in _ROLLBACK_NOISE):
            return current
        current = current.__cause__ or current.__context__
    return exc


def is_storage_problem(exc: BaseException) -> bool:
    """The file or the disk (full, read-only, failing, damaged), not a constraint or a bug
    in a statement: SQLite reports those as OperationalError or a plain DatabaseError."""
    real = underlying_error(exc)
    return isinstance(real, (StoreError, OperationalError)) or type(real) is DatabaseError


def diagnose(path: str | Path, exc: BaseException) -> StoreError:
    """One sentence for a coordinator: why the kiosk database at `path` cannot be used."""
    exc = underlying_error(exc)
    if isinstance(exc, StoreError):
        return exc
    path = Path(path)
    message = str(exc)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        vfs = os.statvfs(folder)
        free, read_only_fs = vfs.f_bavail * vfs.f_frsize, bool(vfs.f_flag & os.ST_RDONLY)
    except OSError:
        free, read_only_fs = None, False
    if "disk is full" in message or (free is not None and free < 64 * 1024 and "I/O" in message):
        return StoreError(f"the disk holding {path} is full ({free or 0} bytes free): nothing more can be "
                          "recorded until some space is freed", "full")
    if path.exists() and not os.access(path, os.R_OK):
        return StoreError(f"{path} cannot be read by this user: give the kiosk's user access to it", "unreadable")
    if read_only_fs or "readonly" in message or "read-only" in message or             (path.exists() and not os.access(path, os.W_OK)) or not os.access(folder, os.W_OK):
        where = "on a read-only file system" if read_only_fs else "not writable by this user"
        return StoreError(f"{path} is read-only ({where}): the kiosk must be able to write its records there",
                          "read_only")
    if "I/O" in message:
        return StoreError(f"{path}: the disk reported an input/output error ({message}); check the disk, "
                          "then restore the database from a copy if it is damaged", "io_error")
    if "malformed" in message or "not a database" in message or isinstance(exc, DatabaseError) and \
            not isinstance(exc, OperationalError):
        return StoreError(f"{path} is damaged or not a kiosk database ({message}); restore it from a copy",
                          "damaged")
    return StoreError(f"{path} cannot be used: {message}")


def _owner_only(path: Path) -> None:
    """An older kiosk's files (made 0644) become readable by their owner only."""
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.is_file() and file.stat().st_mode & 0o077 and file.stat().st_uid == os.geteuid():
                file.chmod(0o600)
        except OSError:
            pass   # a read-only file system says so below, in a sentence


def open_store(path: str | Path, clock: Callable[[], float] = time.time) -> KioskStore:
    """Point the models at `path`, set the pragmas, run pending migrations. A new file is
    made readable by its owner only (it holds volunteers' names and the device token)."""
    path = Path(path)
    if path.exists() and path.is_file() and path.stat().st_size == 0:
        # An empty file is not a new kiosk: something truncated it, or it is the wrong path.
        raise StoreError(f"{path} is an empty file, not a kiosk database; restore it from a copy, "
                         "or remove it and run `weiguang kiosk init` to start a new kiosk", "empty")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))   # SQLite's -wal/-shm follow its mode
    else:
        _owner_only(path)
    if not db.is_closed():
        db.close()
    db.init(str(path), pragmas=PRAGMAS, check_same_thread=False)
    try:
        db.connect(reuse_if_open=True)
        SETTINGS.invalidate()
        migrate(db)
        db.execute_sql("SELECT COUNT(*) FROM outbox").fetchone()
    except DatabaseError as exc:   # read-only, unreadable, damaged, a full disk: one sentence
        db.close()
        raise diagnose(path, exc) from None
    store = KioskStore(path, clock)
    if store.settings.get("device_id") is None:
        store.settings.set(device_id=str(uuid.uuid4()))
    return store
