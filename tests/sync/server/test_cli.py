"""`weiguang server init|code|run|stats`, migrations on restart, and a real server process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from kiosk.cli import main
from sync.server import db
from sync.server.app import create_app
from sync.server.services import admin


def run_cli(capsys, *argv) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_init_code_stats(server_settings, capsys, monkeypatch):
    if server_settings.database_url:
        monkeypatch.setenv("DATABASE_URL", server_settings.database_url)
    data = str(server_settings.data_dir)
    first = run_cli(capsys, "server", "init", "--data", data, "--json")
    assert first["admin_password"] and admin.check_password("admin", first["admin_password"])
    assert (server_settings.keys_dir / f"{first['kid']}.private.pem").exists()
    assert first["migrations"] == [name for name, _ in db.MIGRATIONS]
    again = run_cli(capsys, "server", "init", "--data", data, "--json")   # keeps key and account
    assert (again["kid"], again["admin_password"]) == (first["kid"], None)
    assert admin.check_password("admin", first["admin_password"])

    sites = server_settings.data_dir / "sites.csv"
    sites.write_text("code,name,tier,parent\nGL,广陵区中心,center,\nDGJ,东关街站,station,GL\n", encoding="utf-8")
    assert run_cli(capsys, "server", "sites", "import", "--data", data, str(sites), "--json") == {"imported": 2}
    code = run_cli(capsys, "server", "code", "--data", data, "--station", "东关街站", "--hours", "2", "--json")
    assert len(code["code"].replace("-", "")) == 12
    assert run_cli(capsys, "server", "stats", "--data", data, "--json") == {
        "events": {}, "sessions": {}, "requests": {}, "devices": 0}


def test_migrations_are_recorded_and_run_once(server_settings):
    create_app(server_settings)
    assert db.applied_migrations() == [name for name, _ in db.MIGRATIONS]
    with db.reading():
        recorded = db.db.execute_sql("SELECT COUNT(*) FROM migrations").fetchone()[0]
    create_app(server_settings)                        # a restart
    assert db.migrate() == []
    with db.reading():
        assert db.db.execute_sql("SELECT COUNT(*) FROM migrations").fetchone()[0] == recorded == len(db.MIGRATIONS)


def test_server_run_answers_health(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    process = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "server", "run", "--data", str(tmp_path),
                                "--host", "127.0.0.1", "--port", str(port)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except httpx.TransportError:
                if time.time() > deadline or process.poll() is not None:
                    pytest.fail(process.stderr.read().decode() if process.poll() is not None else "no answer")
                time.sleep(0.2)
        assert answer.status_code == 200
        assert answer.json()["status"] == "ok" and answer.json()["database"] == "sqlite"
    finally:
        process.terminate()
        process.wait(timeout=10)
    # Structured logs: every line on stderr is one JSON object.
    lines = [line for line in process.stderr.read().decode().splitlines() if line.strip()]
    assert lines and all(json.loads(line) for line in lines)


def test_the_server_database_is_readable_by_its_owner_only(tmp_path, capsys):
    import stat
    run_cli(capsys, "server", "init", "--data", str(tmp_path / "srv"), "--json")
    assert stat.S_IMODE((tmp_path / "srv" / "weiguang.db").stat().st_mode) == 0o600


def test_migrate_applies_what_is_pending_then_nothing(server_settings, capsys, monkeypatch):
    if server_settings.database_url:
        monkeypatch.setenv("DATABASE_URL", server_settings.database_url)
    data = str(server_settings.data_dir)
    first = run_cli(capsys, "server", "migrate", "--data", data, "--json")
    assert first["applied"] == [name for name, _ in db.MIGRATIONS] == first["migrations"]
    assert first["database"] == ("postgresql" if server_settings.database_url else "sqlite")
    again = run_cli(capsys, "server", "migrate", "--data", data, "--json")
    assert again["applied"] == [] and again["migrations"] == first["migrations"]


@pytest.mark.parametrize("workers", ["2", "0"])
def test_run_refuses_several_workers_on_sqlite_and_none_at_all(tmp_path, capsys, monkeypatch, workers):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["server", "run", "--data", str(tmp_path / "srv"), "--port", "1", "--workers", workers]) == 2
    err = capsys.readouterr().err
    assert ("single writer" in err and "PostgreSQL" in err) if workers == "2" else "1 or more" in err
