"""Where the server's data lives, how it is opened, and the numbered migrations.

    >>> database = open_database(settings)     # SQLite in settings.data_dir, or DATABASE_URL
    >>> migrate()                              # applies and records what is missing
    >>> with writing():                        # one write transaction
    ...     Site.create(code="s1", name="东关街站", tier="station", parent="i1")

Every service function opens its own connection scope with `reading()` or `writing()`:
FastAPI runs a sync dependency and the endpoint on different pool threads, and peewee
connections are per thread. With the PostgreSQL pool the connection goes back to the pool
after the block; a SQLite connection stays open with its thread (cheap, and see `reading`).

SQLite: WAL (readers never wait for the writer) and writes serialized by one process-wide
lock plus ``BEGIN IMMEDIATE`` (another process, say the CLI, waits on busy_timeout instead
of failing), so a burst of pushes queues up instead of meeting "database is locked".
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from peewee import SQL, Database, PostgresqlDatabase, SqliteDatabase, fn
from playhouse import db_url

from sync.server.models import MODELS, Migration, db
from sync.server.settings import ServerSettings

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 2,       # FULL: an event answered "stored" is deleted from the kiosk's outbox
    "foreign_keys": 1,
    "busy_timeout": 30000,
    "cache_size": -32000,
    # Checkpoint the WAL into the database file every 64 MB of WAL, not every 4 MB (the
    # default): a push dirties index pages at random (session ids), and a page written by
    # many commits between two checkpoints is copied back once. ≈ 5 µs less per event.
    "wal_autocheckpoint": 16000,
}

# Keys of PostgreSQL transaction-level advisory locks.
LOCK_MIGRATIONS = 7_001
LOCK_CHANGES = 7_002
LOCK_KIOSK_NUMBERS = 7_003

_write_lock = threading.RLock()


def open_database(settings: ServerSettings) -> Database:
    """Point the models at the configured database (closing any previous one)."""
    url = settings.database
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not settings.database_url:
            # Volunteers' names and phones live here: readable by its owner only (the WAL
            # and shared-memory files SQLite makes beside it take the same mode).
            path = settings.data_dir / "weiguang.db"
            if not path.exists():
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        database = db_url.connect(url, pragmas=SQLITE_PRAGMAS)
    else:
        # A pooled connection: one per busy worker thread, returned on close.
        scheme, rest = url.split("://", 1)
        if not scheme.endswith("+pool"):
            scheme += "+pool"
        database = db_url.connect(f"{scheme}://{rest}", max_connections=settings.pool_size,
                                  stale_timeout=300, timeout=30)
    close_database()
    db.initialize(database)
    return database


def close_database() -> None:
    """Close this thread's connection and, for a pool, every pooled one."""
    if db.obj is None:
        return
    if not db.is_closed():
        db.close()
    if hasattr(db.obj, "close_all"):
        db.obj.close_all()


def is_postgres() -> bool:
    return isinstance(db.obj, PostgresqlDatabase)


def describe() -> str:
    """The backend's name, for /health (never the URL: it may hold a password)."""
    return "postgresql" if is_postgres() else "sqlite" if isinstance(db.obj, SqliteDatabase) else "unknown"


@contextmanager
def reading() -> Iterator[None]:
    """A connection for this block (reused if the caller already holds one). PostgreSQL:
    returned to the pool after the block. SQLite: kept open by this thread for the next
    block; opening costs the pragmas, and closing the last connection of a WAL database
    checkpoints it, together milliseconds on every request."""
    opened = db.connect(reuse_if_open=True)
    try:
        yield
    finally:
        if opened and is_postgres():
            db.close()


@contextmanager
def writing() -> Iterator[None]:
    """One write transaction; on SQLite, the only one in this process at a time."""
    with reading():
        if is_postgres():
            with db.atomic():
                yield
        else:
            nested = db.in_transaction()
            with _write_lock, (db.atomic() if nested else db.atomic(lock_type="IMMEDIATE")):
                yield


def insert_ignoring_duplicates(model, rows: list, returning: str | None = None,
                               chunk: int = 250, columns: tuple[str, ...] | None = None) -> list:
    """``INSERT … ON CONFLICT DO NOTHING [RETURNING col]`` for many rows; returns the
    `returning` values of the rows actually inserted. Same SQL on SQLite (3.35+) and
    PostgreSQL. Hand-built because it is the hot path of a push, and peewee spends far
    longer composing a 500-row INSERT than the database spends running it. Rows are dicts,
    or with `columns` tuples of values in that order (cheaper on the push path)."""
    if not rows:
        return []
    as_tuples = columns is not None
    columns = list(columns if as_tuples else rows[0])
    table = model._meta.table_name
    one = "(" + ", ".join([db.obj.param] * len(columns)) + ")"
    names = ", ".join(f'"{c}"' for c in columns)
    inserted = []
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        sql = (f'INSERT INTO "{table}" ({names}) VALUES {", ".join([one] * len(part))} ON CONFLICT DO NOTHING'
               + (f' RETURNING "{returning}"' if returning else ""))
        values = [v for row in part for v in row] if as_tuples else [row[c] for row in part for c in columns]
        cursor = db.execute_sql(sql, values)
        if returning:
            inserted.extend(r[0] for r in cursor.fetchall())
    return inserted


def in_list(field, keys) -> SQL:
    """``"col" IN (?, ?, …)`` as one SQL node: peewee's ``field.in_(keys)`` builds a node
    per value, which costs more than the query on a 500-event push."""
    keys = list(keys)
    if not keys:
        return SQL("0 = 1")
    return SQL(f'"{field.column_name}" IN ({", ".join([db.obj.param] * len(keys))})', keys)


def select_in(model, column: str, keys, where: str = "", params: tuple = (), chunk: int = 500) -> list[dict]:
    """``SELECT * … WHERE column IN (keys) [AND where]`` as plain dicts, hand-built like
    `insert_ignoring_duplicates` (the push path reads sessions by the hundred)."""
    keys, found = list(keys), []
    p = db.obj.param
    for start in range(0, len(keys), chunk):
        part = keys[start:start + chunk]
        sql = (f'SELECT * FROM "{model._meta.table_name}" WHERE "{column}" IN ({", ".join([p] * len(part))})'
               + (f" AND {where}" if where else ""))
        cursor = db.execute_sql(sql, [*part, *params])
        names = [d[0] for d in cursor.description]
        found.extend(dict(zip(names, row)) for row in cursor.fetchall())
    return found


def update_many(model, key: str, columns: list[str], rows: list[dict]) -> None:
    """One prepared ``UPDATE … WHERE key = ?`` run for every row (executemany)."""
    if not rows:
        return
    p = db.obj.param
    sql = (f'UPDATE "{model._meta.table_name}" SET ' + ", ".join(f'"{c}" = {p}' for c in columns)
           + f' WHERE "{key}" = {p}')
    db.cursor().executemany(sql, [[row[c] for c in columns] + [row[key]] for row in rows])


def advisory_lock(key: int) -> None:
    """Serialise a critical section across PostgreSQL sessions until the transaction ends
    (SQLite writers are serialised already)."""
    if is_postgres():
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (key,))


# --- migrations: numbered, recorded, each run once -------------------------------------

def _m0001_initial() -> None:
    db.create_tables(MODELS)


def table_columns(table: str) -> set[str]:
    return {c.name for c in db.get_columns(table)}


def add_missing_columns(model, *names: str) -> None:
    """Add these fields of `model` to its table when the table lacks them (idempotent: 0001
    creates tables from the current models, so on a new database they are there already)."""
    from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate as run_migration
    table = model._meta.table_name
    have = table_columns(table)
    migrator = PostgresqlMigrator(db.obj) if is_postgres() else SqliteMigrator(db.obj)
    operations = [migrator.add_column(table, name, model._meta.fields[name])
                  for name in names if model._meta.fields[name].column_name not in have]
    if operations:
        run_migration(*operations)


def _m0005_center_sites() -> None:
    """Sites in three tiers and teams; the free-text `station` table's rows become sites
    (their institute and center names become sites with code = name) and the table goes."""
    from sync.server.models import Site, Team
    db.create_tables([Site, Team], safe=True)
    if "station" not in db.get_tables():
        return
    rows = db.execute_sql('SELECT "code", "name", "institute", "center", "timezone" FROM "station"').fetchall()
    known = {s.code for s in Site.select(Site.code)}

    def ensure(code, name, tier, parent):
        if code not in known:
            Site.create(code=code, name=name, tier=tier, parent=parent)
            known.add(code)
    for code, name, institute, center, timezone in rows:
        parent = None
        if center:
            ensure(center, center, "center", None)
            parent = center
        if institute:
            if parent is None:
                ensure("CENTER", "中心", "center", None)
                parent = "CENTER"
            ensure(institute, institute, "institute", parent)
            parent = institute
        if parent is None:
            ensure("CENTER", "中心", "center", None)
            parent = "CENTER"
        if code not in known:
            Site.create(code=code, name=name, tier="station", parent=parent, timezone=timezone or "Asia/Shanghai")
            known.add(code)
    # More than one center without a parent (old free text): hang them under one root.
    roots = [s for s in Site.select().where(Site.parent.is_null()).order_by(Site.code)]
    if len(roots) > 1:
        ensure("CENTER", "中心", "center", None)
        Site.update(parent="CENTER").where(Site.parent.is_null() & (Site.code != "CENTER")).execute()
    db.execute_sql('DROP TABLE "station"')


def _m0006_center_accounts() -> None:
    """Users with a site and a role, API tokens, the audit log; the `admin` table's
    accounts become center administrators of the root (site NULL)."""
    from sync.server.models import ApiToken, AuditEntry, User
    db.create_tables([User, ApiToken, AuditEntry], safe=True)
    if "admin" not in db.get_tables():
        return
    for username, password_hash, created_at in db.execute_sql(
            'SELECT "username", "password_hash", "created_at" FROM "admin"').fetchall():
        if not User.select().where(User.username == username).exists():
            User.create(username=username, password_hash=password_hash, site=None, role="center_admin",
                        created_at=created_at)
    db.execute_sql('DROP TABLE "admin"')


def _m0007_center_roster() -> None:
    """Badges issued at the center; a volunteer's status; the roster indexed by station."""
    from sync.server.models import Badge, Volunteer
    db.create_tables([Badge], safe=True)
    add_missing_columns(Volunteer, "status")
    db.execute_sql('CREATE INDEX IF NOT EXISTS "volunteer_station" ON "volunteer" ("station")')


def _m0008_center_fleet() -> None:
    """What kiosks report with a pull (pending, refused, clock offset, version); activities
    cancelled at the center."""
    from sync.server.models import Activity, Device
    add_missing_columns(Device, "pending", "refused", "clock_offset_ms", "app_version")
    add_missing_columns(Activity, "cancelled_at")


def _m0010_coordinator_pins_signups() -> None:
    """Coordinators' kiosk PINs set at the center (argon2 hashes); sign-ups on an
    activity's public page."""
    import secrets
    from sync.server.models import Activity, ActivitySignup, CoordinatorPin
    db.create_tables([CoordinatorPin, ActivitySignup], safe=True)
    add_missing_columns(Activity, "signup_token")
    for (activity_id,) in Activity.select(Activity.id).where(Activity.signup_token.is_null()).tuples():
        Activity.update(signup_token=secrets.token_urlsafe(12)).where(Activity.id == activity_id).execute()


def _m0012_center_scale_indexes() -> None:
    """Indexes the desk needs at a city's scale (bench/bench_center.py): the review queue
    and a roster search of a station, a district or the city read from an index, not from
    every row. Each new index has the one it replaces as a prefix."""
    from sync.server.models import HoursSession, Volunteer
    db.execute_sql('DROP INDEX IF EXISTS "hourssession_state"')   # now (state, check_in_at, id)
    db.execute_sql('DROP INDEX IF EXISTS "volunteer_station"')    # now (station, name, vid)
    db.create_tables([HoursSession, Volunteer], safe=True)        # creates the models' missing indexes


def _m0013_reports_certificates() -> None:
    """Issue 9: service-record certificates, as issued."""
    from sync.server.models import Certificate
    db.create_tables([Certificate], safe=True)


def _m0002_trusted_hours() -> None:
    """Issue 7: event digests (conflicts), deferred events, refusals, review states."""
    from sync.server.models import HoursSession, Refusal, StoredEvent
    add_missing_columns(StoredEvent, "digest", "session_id", "deferred")
    add_missing_columns(HoursSession, "closed_by_vid")
    db.create_tables([Refusal], safe=True)
    db.execute_sql('CREATE INDEX IF NOT EXISTS "events_session_id" ON "events" ("session_id")')
    HoursSession.update(state="review").where(HoursSession.state == "flagged").execute()


def _m0003_activity_closures() -> None:
    from sync.server.models import Activity
    add_missing_columns(Activity, "closed_at", "closed_by")


def _m0004_order_numbers() -> None:
    """Kiosk numbers for the devices enrolled before them; one order per order number."""
    from sync.server.models import Device, ServiceRequest
    add_missing_columns(Device, "kiosk_number")
    advisory_lock(LOCK_KIOSK_NUMBERS)
    last = Device.select(fn.MAX(Device.kiosk_number)).scalar() or 0
    for device in list(Device.select(Device.id).where(Device.kiosk_number.is_null())
                       .order_by(Device.enrolled_at, Device.id)):
        last += 1
        Device.update(kiosk_number=last).where(Device.id == device.id).execute()
    db.execute_sql('CREATE UNIQUE INDEX IF NOT EXISTS "device_kiosk_number" ON "device" ("kiosk_number")')
    # Two kiosks could give the same number before (the device-id form): the first order
    # keeps it, a later one is renamed NUMBER/EVENT-ID (unique, and it says what it was).
    previous = None
    shared = ServiceRequest.select(ServiceRequest.number).group_by(ServiceRequest.number) \
        .having(fn.COUNT(ServiceRequest.id) > 1)
    for row in list(ServiceRequest.select(ServiceRequest.id, ServiceRequest.number)
                    .where(ServiceRequest.number.in_(shared))
                    .order_by(ServiceRequest.number, ServiceRequest.created_at, ServiceRequest.id)):
        if row.number == previous:
            ServiceRequest.update(number=f"{row.number}/{row.id}").where(ServiceRequest.id == row.id).execute()
        previous = row.number
    db.execute_sql('CREATE UNIQUE INDEX IF NOT EXISTS "servicerequest_number" ON "service_requests" ("number")')


def _m0009_sessions_end() -> None:
    """Users get a session generation (log-out ends every copy of the cookie) and can be disabled."""
    from sync.server.models import User
    add_missing_columns(User, "session_generation", "disabled_at")


def _m0011_service_request_states() -> None:
    """Service requests move through states (services.service_requests): their columns, the
    transitions table, a team leader's team; "ordered" becomes "submitted"."""
    from sync.server.models import RequestTransition, ServiceMenu, ServiceRequest, User
    add_missing_columns(User, "team")
    db.create_tables([ServiceMenu], safe=True)
    add_missing_columns(ServiceRequest, "team", "updated_at", "dispatched_at", "reason", "report", "minutes",
                        "volunteers", "rating", "comments", "details", "closed_at", "phone_erased_at")
    db.create_tables([RequestTransition], safe=True)
    db.execute_sql('CREATE INDEX IF NOT EXISTS "servicerequest_state" ON "service_requests" ("state")')
    ServiceRequest.update(state="submitted").where(ServiceRequest.state == "ordered").execute()


def _m0014_failed_scans() -> None:
    """Issue 11: the scans kiosks refused, for the fleet page."""
    from sync.server.models import FailedScan
    db.create_tables([FailedScan], safe=True)


def _m0015_reports_covering_index() -> None:
    """Issue 9: the reports read per (station, volunteer, activity) from one index that
    holds every column they need (services.reports.REPORT_INDEX; bench/bench_reports.py)."""
    from sync.server.models import HoursSession
    db.create_tables([HoursSession], safe=True)                  # creates the models' missing indexes


def _m0016_failed_scans_by_arrival() -> None:
    """The fleet page lists failed scans by arrival and the daily cap counts them so: index it."""
    from sync.server.models import FailedScan
    db.create_tables([FailedScan], safe=True)                    # creates the models' missing indexes


def _m0017_deferred_events_index() -> None:
    """Issue 12: events by session only where deferred (a partial index, models.StoredEvent);
    the full index on events.session_id, made twice (by 0001 under the model's name and by
    0002), goes: it cost two inserts at random pages per event stored."""
    from sync.server.models import StoredEvent
    db.execute_sql('DROP INDEX IF EXISTS "storedevent_session_id"')
    db.execute_sql('DROP INDEX IF EXISTS "events_session_id"')
    db.create_tables([StoredEvent], safe=True)                  # creates the models' missing indexes


MIGRATIONS: list[tuple[str, Callable[[], None]]] = [
    ("0001_initial", _m0001_initial),
    ("0002_trusted_hours", _m0002_trusted_hours),
    ("0003_activity_closures", _m0003_activity_closures),
    ("0004_order_numbers", _m0004_order_numbers),
    ("0005_center_sites", _m0005_center_sites),
    ("0006_center_accounts", _m0006_center_accounts),
    ("0007_center_roster", _m0007_center_roster),
    ("0008_center_fleet", _m0008_center_fleet),
    ("0009_sessions_end", _m0009_sessions_end),
    ("0010_coordinator_pins_signups", _m0010_coordinator_pins_signups),
    ("0011_service_request_states", _m0011_service_request_states),
    ("0012_center_scale_indexes", _m0012_center_scale_indexes),
    ("0013_reports_certificates", _m0013_reports_certificates),
    ("0014_failed_scans", _m0014_failed_scans),
    ("0015_reports_covering_index", _m0015_reports_covering_index),
    ("0016_failed_scans_by_arrival", _m0016_failed_scans_by_arrival),
    ("0017_deferred_events_index", _m0017_deferred_events_index),
]


def migrate() -> list[str]:
    """Apply the migrations not yet recorded, in order; return the names applied."""
    applied = []
    with writing():
        advisory_lock(LOCK_MIGRATIONS)  # two servers starting at once: one migrates
        db.create_tables([Migration])
        done = {m.name for m in Migration.select(Migration.name)}
        for name, step in MIGRATIONS:
            if name not in done:
                step()
                Migration.create(name=name, applied_at=int(time.time()))
                applied.append(name)
    return applied


def applied_migrations() -> list[str]:
    with reading():
        return [m.name for m in Migration.select().order_by(Migration.name)]

