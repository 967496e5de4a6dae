"""Accounts and scope: `server user add` / `server token`, log-in through the form with
CSRF, the signed session cookie, lockout and rate limits, user vs device tokens, the
audit log, and the admin made by `server init` as the root's center administrator."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from kiosk.cli import main
from sync.server import db
from sync.server.models import AuditEntry, User
from sync.server.services import ServiceError, accounts, admin
from tests.sync.server.center import PASSWORD, add, load_network, log_in, page_csrf
from tests.sync.server.conftest import enrol


@pytest.fixture(autouse=True)
def fresh_limits():
    accounts.reset_limits()
    yield
    accounts.reset_limits()


@pytest.fixture
def desk(server_app):
    load_network()
    add("wby", "WBY")
    add("pc", "PC")
    with TestClient(server_app) as client:
        yield client


def test_cli_user_add_and_token(server_settings, capsys, monkeypatch, tmp_path):
    if server_settings.database_url:
        monkeypatch.setenv("DATABASE_URL", server_settings.database_url)
    data = str(server_settings.data_dir)
    assert main(["server", "init", "--data", data, "--json"]) == 0
    sites_csv = tmp_path / "sites.csv"
    sites_csv.write_text("code,name,tier,parent\nDT,大同,center,\nWBY,文博苑社区,station,DT\n", encoding="utf-8")
    assert main(["server", "sites", "import", "--data", data, str(sites_csv)]) == 0
    capsys.readouterr()
    assert main(["server", "user", "add", "--data", data, "--username", "li", "--site", "WBY", "--json"]) == 0
    made = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert made["role"] == "coordinator" and len(made["password"]) >= 12
    assert accounts.check_password("li", made["password"])
    assert main(["server", "user", "add", "--data", data, "--username", "li", "--site", "WBY"]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["server", "user", "add", "--data", data, "--username", "wang", "--site", "文博苑",
                 "--password", "long enough pw"]) == 1
    assert "文博苑社区 (WBY)" in capsys.readouterr().err           # an unknown site names the nearest
    assert main(["server", "token", "--data", data, "--username", "li", "--json"]) == 0
    token = json.loads(capsys.readouterr().out)["token"]
    assert token.startswith("wgu_") and accounts.user_for_token(token).username == "li"
    with db.reading():
        assert not db.db.execute_sql("SELECT 1 FROM api_tokens WHERE token_hash = %s" % db.db.obj.param,
                                     (token,)).fetchall()       # stored hashed
        assert [a.action for a in AuditEntry.select().order_by(AuditEntry.id)] == \
            ["user.add", "user.add", "token.add"]              # init's admin, li, li's token


def test_init_admin_is_the_root_center_administrator(server_app):
    password = admin.create_admin("admin")
    user = accounts.get_user("admin")
    assert (user.site, user.role) == (None, "center_admin")
    assert admin.check_password("admin", password) and not admin.check_password("admin", "nope")


def test_log_in_and_out_with_a_signed_httponly_cookie(desk):
    assert desk.get("/", follow_redirects=False).status_code == 303
    answer = log_in(desk, "wby")
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"].lower()
    assert "wg_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert desk.get("/api/v1/me").json() == {"username": "wby", "role": "coordinator", "site": "WBY",
                                             "sites": ["WBY"]}
    home = desk.get("/")
    assert home.status_code == 200 and "文博苑社区" in home.text and "云冈镇综合站" not in home.text
    assert desk.post("/logout", data={"csrf_token": page_csrf(desk)}, follow_redirects=False).status_code == 303
    assert desk.get("/api/v1/me").status_code == 401


def test_a_form_without_its_csrf_token_is_refused(desk):
    anonymous = desk.post("/login", data={"username": "wby", "password": PASSWORD}, follow_redirects=False)
    assert anonymous.status_code == 403 and desk.get("/api/v1/me").status_code == 401
    log_in(desk, "wby")
    assert desk.post("/logout", data={}).status_code == 403
    assert desk.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert desk.get("/api/v1/me").status_code == 200          # still logged in


def test_a_forged_session_cookie_is_worthless(desk):
    desk.cookies.set("wg_session", "eyJ1c2VyIjogImFkbWluIn0=.forged.sig")
    assert desk.get("/api/v1/me").status_code == 401


def test_repeated_wrong_passwords_lock_the_account(desk):
    for _ in range(accounts.LOCK_AFTER):
        assert log_in(desk, "wby", "wrong password").status_code == 401
    locked = log_in(desk, "wby")                               # the right password, too late
    assert locked.status_code == 403 and "锁定" in locked.text
    assert log_in(desk, "pc").status_code == 303              # another account is not affected
    with db.reading():
        assert AuditEntry.select().where(AuditEntry.action == "user.lock").count() == 1


def test_a_stranger_failing_on_purpose_does_not_lock_the_coordinator_out(desk):
    # Locked from the stranger's address only (security review #10).
    for _ in range(accounts.LOCK_AFTER):
        with pytest.raises(ServiceError):
            accounts.login("wby", "wrong password", client="198.51.100.7")
    with pytest.raises(ServiceError) as locked:
        accounts.login("wby", PASSWORD, client="198.51.100.7")
    assert locked.value.code == "account_locked"
    assert accounts.login("wby", PASSWORD, client="203.0.113.5").username == "wby"


def test_the_answers_do_not_tell_which_names_exist(desk):
    answers = {}
    for name in ("wby", "no-such-user"):
        codes = []
        for _ in range(accounts.LOCK_AFTER + 1):
            try:
                accounts.login(name, "wrong password", client="198.51.100.8")
            except ServiceError as exc:
                codes.append(exc.code)
        answers[name] = codes
    assert answers["wby"] == answers["no-such-user"] == ["bad_login"] * accounts.LOCK_AFTER + ["account_locked"]


def test_log_in_attempts_are_rate_limited(desk):
    for i in range(accounts.PER_CLIENT.amount):
        log_in(desk, f"nobody{i}", "x")
    answer = log_in(desk, "pc")
    assert answer.status_code == 429


def test_user_and_device_tokens_open_only_their_own_endpoints(desk, api):
    kiosk = enrol(api, "WBY")
    token = accounts.make_token("wby")
    user = {"Authorization": f"Bearer {token}"}
    assert desk.get("/api/v1/me", headers=user).json()["site"] == "WBY"
    assert desk.get("/api/v1/me", headers=kiosk.headers).status_code == 401
    assert desk.get("/api/v1/overview", headers=kiosk.headers).status_code == 401
    assert desk.get("/api/v1/changes", headers=user).status_code == 401
    assert desk.post("/api/v1/events", json={"events": []}, headers=user).status_code == 401


def test_scope_is_the_subtree_of_the_users_site(desk):
    add("admin2", None, "center_admin")
    add("dt", "DT", "center_admin")
    for username, expected in [("wby", ["WBY"]), ("pc", ["HYL", "PC", "PC-XJNL", "WBY"]),
                               ("dt", None), ("admin2", None)]:
        headers = {"Authorization": f"Bearer {accounts.make_token(username)}"}
        assert desk.get("/api/v1/me", headers=headers).json()["sites"] == expected, username


def test_migration_makes_old_admins_root_administrators(server_app):
    with db.writing():
        db.db.execute_sql('CREATE TABLE "admin" ("username" VARCHAR(255) PRIMARY KEY, '
                          '"password_hash" VARCHAR(255), "created_at" BIGINT)')
        db.db.execute_sql("INSERT INTO \"admin\" VALUES ('old', 'x', 1)")
        db.db.execute_sql("DELETE FROM migrations WHERE name = '0006_center_accounts'")
    assert db.migrate() == ["0006_center_accounts"]
    user = accounts.get_user("old")
    assert (user.site, user.role) == (None, "center_admin")


def test_log_out_ends_every_copy_of_the_session_cookie(desk):
    # A cookie copied before log-out worked afterwards (security review #9).
    assert log_in(desk, "wby").status_code == 303
    copied = desk.cookies.get("wg_session")
    assert desk.post("/logout", data={"csrf_token": page_csrf(desk, "/")}).status_code in (200, 303)
    desk.cookies.set("wg_session", copied)
    assert desk.get("/api/v1/me").status_code == 401


def test_a_disabled_account_has_no_log_in_session_or_token(desk, capsys, server_settings, monkeypatch):
    if server_settings.database_url:
        monkeypatch.setenv("DATABASE_URL", server_settings.database_url)
    token = accounts.make_token("wby")
    assert log_in(desk, "wby").status_code == 303
    data = str(server_settings.data_dir)
    assert main(["server", "user", "disable", "--data", data, "--username", "wby", "--json"]) == 0
    assert desk.get("/api/v1/me").status_code == 401                                   # the session
    assert desk.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert log_in(desk, "wby").status_code == 401                                      # like a wrong password


def test_tokens_can_be_revoked(desk, capsys, server_settings, monkeypatch):
    if server_settings.database_url:
        monkeypatch.setenv("DATABASE_URL", server_settings.database_url)
    token = accounts.make_token("wby")
    assert desk.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert main(["server", "token", "--data", str(server_settings.data_dir), "--username", "wby",
                 "--revoke", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["revoked"] == 1
    assert desk.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_no_other_site_may_frame_the_desk(desk):
    answer = desk.get("/login")
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
