"""Shared fixtures.

PostgreSQL: `postgres_cluster` (session) starts a throwaway cluster as the `postgres` user
(initdb refuses root) in a temp dir, on 127.0.0.1 and a free port, socket in that dir,
fsync off; stopped at session end. `postgres_url` (module) is a fresh database in it.
Both skip when the PostgreSQL binaries are missing.

Server: `server_settings` is parametrised over ["sqlite", "postgresql"]: a test using it
(or `server_app` / `api` in tests/sync/server/conftest.py) runs against both backends,
each time on an empty database.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

PG_BIN_DIRS = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/14/bin"]


def _pg_bin(name: str) -> str | None:
    for directory in PG_BIN_DIRS:
        if Path(directory, name).exists():
            return str(Path(directory, name))
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    def __init__(self, root: Path, port: int, as_user: list[str]):
        self.root, self.port, self.as_user = root, port, as_user
        self.data = root / "data"

    def run(self, *cmd: str) -> None:
        subprocess.run([*self.as_user, *cmd], check=True, capture_output=True, timeout=60)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        import psycopg2
        conn = psycopg2.connect(self.url())
        conn.autocommit = True  # CREATE/DROP DATABASE refuse to run in a transaction
        try:
            conn.cursor().execute(sql)
        finally:
            conn.close()


@pytest.fixture(scope="session")
def postgres_cluster():
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL binaries not found")
    root = Path(tempfile.mkdtemp(prefix="wg-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as postgres
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    cluster = PostgresCluster(root, _free_port(), as_user)
    cluster.run(initdb, "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
    options = f"-h 127.0.0.1 -p {cluster.port} -k {root} -F -c max_connections=200"
    cluster.run(pg_ctl, "-D", str(cluster.data), "-o", options, "-l", str(root / "log"), "-w", "start")
    try:
        deadline = time.time() + 30
        while True:
            try:
                cluster.execute("SELECT 1")
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        yield cluster
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(cluster.data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_url(postgres_cluster, request):
    """A fresh database for this test module; dropped afterwards."""
    name = "wg_" + "".join(c if c.isalnum() else "_" for c in request.module.__name__.split(".")[-1])[:50]
    postgres_cluster.execute(f'DROP DATABASE IF EXISTS "{name}"')
    postgres_cluster.execute(f'CREATE DATABASE "{name}"')
    yield postgres_cluster.url(name)
    from sync.server.db import close_database
    close_database()
    postgres_cluster.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reset_postgres(url: str) -> None:
    """Empty the database: every test starts from no tables, so migrations run as on day one."""
    import psycopg2
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        conn.cursor().execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def server_settings(request, tmp_path):
    """ServerSettings on an empty database of each backend, data dir in tmp_path."""
    from sync.server.db import close_database
    from sync.server.settings import ServerSettings
    close_database()  # the previous test's pool, before its database is emptied
    if request.param == "sqlite":
        yield ServerSettings(data_dir=tmp_path / "data", database_url=None)
    else:
        url = request.getfixturevalue("postgres_url")
        reset_postgres(url)
        yield ServerSettings(data_dir=tmp_path / "data", database_url=url)
    close_database()
