"""Moving a center from its SQLite file to PostgreSQL (issue 12: scale out on PostgreSQL).

    >>> copy_to_postgres(Path("server-data/weiguang.db"), "postgresql://…/weiguang")
    {"tables": {"events": 120000, ...}, "rows": 250000}

Every table is copied as it is, ids and all: an event a kiosk resends after the move is still
answered "duplicate", a session keeps its id, a device its token. The copy reads one snapshot
of the SQLite file while holding its write lock (``BEGIN IMMEDIATE``), so a server still
running against the file waits (its pushes time out and the kiosks resend them later, to the
new database) instead of writing rows the copy would miss. The target must be empty: it is
migrated first (the same tables, the same indexes), written in one transaction, its id
sequences moved past the copied ids, and every table's count checked against the source.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from peewee import BigAutoField, PostgresqlDatabase
from playhouse import db_url

from sync.server.services import ServiceError

CHUNK = 5000


def copy_to_postgres(sqlite_path: Path, target_url: str, progress=None) -> dict:
    """Copy every table of the SQLite database at `sqlite_path` into the empty PostgreSQL
    database at `target_url`; return {"tables": {name: rows}, "rows": total}."""
    from sync.server import db
    from sync.server.models import MODELS, Migration

    if not target_url.startswith(("postgresql://", "postgres://")):
        raise ServiceError("bad_target", "the target must be a PostgreSQL URL (postgresql://user@host/db)")
    if not sqlite_path.is_file():
        raise ServiceError("no_source", f"no SQLite database at {sqlite_path}")

    # The source first brought up to date by the server's own migrations, then the target.
    db.close_database()
    db.db.initialize(db_url.connect(f"sqlite:///{sqlite_path.resolve()}", pragmas=db.SQLITE_PRAGMAS))
    try:
        db.migrate()
    finally:
        db.close_database()
    target = _connect(target_url)
    db.db.initialize(target)
    try:
        db.migrate()
        tables = [m for m in MODELS if m is not Migration]
        with db.reading():
            busy = [m._meta.table_name for m in tables if m.select().limit(1).count()]
        if busy:
            raise ServiceError("target_not_empty", "the target database already holds data (tables: "
                               + ", ".join(busy) + "); copy into a new, empty database")
        source = sqlite3.connect(f"file:{sqlite_path.resolve()}?mode=rw", uri=True, timeout=30)
        try:
            source.execute("BEGIN IMMEDIATE")      # one snapshot, and no writer beside us
            _every_table_known(source, tables)
            counts = {}
            with db.reading(), target.atomic():
                cursor = target.cursor()
                for model in tables:
                    counts[model._meta.table_name] = _copy_table(source, cursor, model, target)
                    if progress:
                        progress(model._meta.table_name, counts[model._meta.table_name])
                    _move_sequence(cursor, model)
                _check_counts(source, tables, counts)     # inside: a mismatch leaves the target empty
        finally:
            source.rollback()
            source.close()
    finally:
        db.close_database()
    return {"tables": counts, "rows": sum(counts.values())}


def _connect(url: str) -> PostgresqlDatabase:
    try:
        database = db_url.connect(url)
        database.connect()
        database.close()
    except Exception as exc:  # noqa: BLE001 - any driver error: one clear sentence, never the password
        raise ServiceError("target_unreachable", f"cannot open the target database: {type(exc).__name__}: "
                           + str(exc).strip().splitlines()[0][:200]) from None
    if not isinstance(database, PostgresqlDatabase):
        raise ServiceError("bad_target", "the target must be a PostgreSQL URL (postgresql://user@host/db)")
    return database


def _copy_table(source: sqlite3.Connection, cursor, model, target) -> int:
    from psycopg2.extras import execute_values
    columns = [f.column_name for f in model._meta.sorted_fields]
    names = ", ".join(f'"{c}"' for c in columns)
    table = model._meta.table_name
    rows = source.execute(f'SELECT {names} FROM "{table}"')
    copied = 0
    while True:
        chunk = rows.fetchmany(CHUNK)
        if not chunk:
            return copied
        execute_values(cursor, f'INSERT INTO "{table}" ({names}) VALUES %s', chunk, page_size=CHUNK)
        copied += len(chunk)


def _move_sequence(cursor, model) -> None:
    """An auto-increment id copied as it was: the next one PostgreSQL hands out must follow it."""
    for field in model._meta.sorted_fields:
        if isinstance(field, BigAutoField):
            table, column = model._meta.table_name, field.column_name
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
                           f'COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)')


def _every_table_known(source: sqlite3.Connection, tables) -> None:
    """A table in the file that no model describes would be left behind: refuse instead."""
    known = {m._meta.table_name for m in tables} | {"migrations"}
    found = {name for (name,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                "AND name NOT LIKE 'sqlite_%'")}
    if found - known:
        raise ServiceError("unknown_tables", "the SQLite file holds tables this version does not know ("
                           + ", ".join(sorted(found - known)) + "): upgrade weiguang first")


def _check_counts(source: sqlite3.Connection, tables, counts: dict) -> None:
    for model in tables:
        table = model._meta.table_name
        (expected,) = source.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()
        landed = model.select().count()
        if not expected == counts[table] == landed:
            raise ServiceError("count_mismatch", f"{table}: {expected} rows in SQLite, {landed} in PostgreSQL")
