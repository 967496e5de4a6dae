"""Where the server's data lives, how it is opened, and the numbered migrations.

    >>> database = open_database(settings)     # SQLite in settings.data_dir, or DATABASE_URL
    >>> migrate()                              # applies and records what is missing
    >>> with writing():                        # one write transaction
    ...     Station.create(code="s1", name="东关街站")

Every service function opens its own connection scope with `reading()` or `writing()`:
FastAPI runs a sync dependency and the endpoint on different pool threads, and peewee
connections are per thread, so a connection is only ever held inside one call. With the
PostgreSQL pool, closing returns the connection to the pool.

SQLite: WAL (readers never wait for the writer) and writes serialized by one process-wide
lock plus ``BEGIN IMMEDIATE`` (another process, say the CLI, waits on busy_timeout instead
of failing), so a burst of pushes queues up instead of meeting "database is locked".
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from peewee import Database, PostgresqlDatabase, SqliteDatabase
from playhouse import db_url

from sync.server.models import MODELS, Migration, db
from sync.server.settings import ServerSettings

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 2,       # FULL: an event answered "stored" is deleted from the kiosk's outbox
    "foreign_keys": 1,
    "busy_timeout": 30000,
    "cache_size": -32000,
}

# Keys of PostgreSQL transaction-level advisory locks.
LOCK_MIGRATIONS = 7_001
LOCK_CHANGES = 7_002

_write_lock = threading.RLock()


def open_database(settings: ServerSettings) -> Database:
    """Point the models at the configured database (closing any previous one)."""
    url = settings.database
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
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
    """A connection for this block (reused if the caller already holds one)."""
    opened = db.connect(reuse_if_open=True)
    try:
        yield
    finally:
        if opened:
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


def insert_ignoring_duplicates(model, rows: list[dict], returning: str | None = None,
                               chunk: int = 250) -> list:
    """``INSERT … ON CONFLICT DO NOTHING [RETURNING col]`` for many rows; returns the
    `returning` values of the rows actually inserted. Same SQL on SQLite (3.35+) and
    PostgreSQL. Hand-built because it is the hot path of a push, and peewee spends far
    longer composing a 500-row INSERT than the database spends running it."""
    if not rows:
        return []
    columns = list(rows[0])
    table = model._meta.table_name
    one = "(" + ", ".join([db.obj.param] * len(columns)) + ")"
    names = ", ".join(f'"{c}"' for c in columns)
    inserted = []
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        sql = (f'INSERT INTO "{table}" ({names}) VALUES {", ".join([one] * len(part))} ON CONFLICT DO NOTHING'
               + (f' RETURNING "{returning}"' if returning else ""))
        cursor = db.execute_sql(sql, [row[c] for row in part for c in columns])
        if returning:
            inserted.extend(r[0] for r in cursor.fetchall())
    return inserted


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


MIGRATIONS: list[tuple[str, Callable[[], None]]] = [
    ("0001_initial", _m0001_initial),
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

