"""Volunteers and badges at the center's desk, through the JSON contract with user API
tokens and through the pages with a session: scope (404 outside), the all-or-nothing
import in UTF-8 ± BOM and GBK, the formula-safe export, masked phones, and badges
(issue, reissue, revoke reaching a kiosk's pull, the PDF sheet)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sync.server.db import reading
from sync.server.models import AuditEntry, Volunteer
from sync.server.services import accounts
from tests.sync.server.center import add, load_network, log_in, page_csrf
from tests.sync.server.conftest import enrol

ROSTER = ("vid,name,team,phone\n"
          "14020200001,林建国,党员志愿服务队；“邻里关照”志愿服务队,13912345678\n"
          "14020200002,王秀英,巾帼志愿服务队,13800001111\n")


@pytest.fixture(autouse=True)
def fresh_limits():
    accounts.reset_limits()


@pytest.fixture
def desk(server_app):
    load_network()
    for name, site, role in [("wby", "WBY", "coordinator"), ("hyl", "HYL", "coordinator"),
                             ("pc", "PC", "coordinator"), ("lead", "WBY", "team_leader")]:
        add(name, site, role)
    with TestClient(server_app) as client:
        client.tokens = {name: {"Authorization": f"Bearer {accounts.make_token(name)}"}
                         for name in ("wby", "hyl", "pc", "lead")}
        yield client


def csv_post(client, site, text, headers, encoding="utf-8"):
    return client.post(f"/api/v1/volunteers/import?site={site}", content=text.encode(encoding),
                       headers={**headers, "Content-Type": "text/csv"})


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_import_and_list_through_the_json_contract(desk, encoding):
    answer = csv_post(desk, "WBY", ROSTER, desk.tokens["wby"], encoding)
    assert answer.status_code == 200 and answer.json() == {"imported": 2}
    body = desk.get("/api/v1/volunteers?site=WBY&q=林", headers=desk.tokens["wby"]).json()
    assert [(v["vid"], v["name"], v["site"]) for v in body["items"]] == [("14020200001", "林建国", "WBY")]
    assert body["items"][0]["teams"] == ["党员志愿服务队", "“邻里关照”志愿服务队"]
    assert body["items"][0]["phone"] == "13912345678"                 # the volunteer's own site's coordinator
    masked = desk.get("/api/v1/volunteers?site=WBY", headers=desk.tokens["pc"]).json()["items"]
    assert masked[0]["phone"] == "139****5678"                        # the district sees it masked
    assert desk.get("/api/v1/volunteers?q=1402020000", headers=desk.tokens["wby"]).json()["total"] == 2


def test_one_bad_row_imports_nothing_and_names_the_row(desk):
    bad = ROSTER + "110101199003077777,张三,,\n" + "14020200004,,,\n"
    answer = csv_post(desk, "WBY", bad, desk.tokens["wby"])
    assert answer.status_code == 422
    rows = answer.json()["rows"]
    assert [r["line"] for r in rows] == [4, 5] and "ID-card" in rows[0]["error"] and "name" in rows[1]["error"]
    with reading():
        assert Volunteer.select().count() == 0
    assert csv_post(desk, "WBY", ROSTER, desk.tokens["wby"]).json() == {"imported": 2}


def test_a_coordinator_cannot_reach_another_stations_volunteers(desk):
    csv_post(desk, "WBY", ROSTER, desk.tokens["wby"])
    hyl = desk.tokens["hyl"]
    assert desk.get("/api/v1/volunteers", headers=hyl).json()["total"] == 0
    for answer in (desk.get("/api/v1/volunteers?site=WBY", headers=hyl),
                   desk.get("/api/v1/volunteers/14020200001", headers=hyl),
                   desk.get("/api/v1/volunteers.csv?site=WBY", headers=hyl),
                   desk.get("/api/v1/badges.pdf?site=WBY", headers=hyl),
                   desk.post("/api/v1/badges/14020200001/issue", headers=hyl),
                   desk.post("/api/v1/badges/14020200001/revoke", headers=hyl),
                   csv_post(desk, "WBY", ROSTER, hyl)):
        assert answer.status_code == 404 and answer.json()["code"] == "not_found", answer.text
    # Taking over another station's volunteer by importing the number is refused too.
    answer = csv_post(desk, "HYL", "vid,name\n14020200001,林建国\n", hyl)
    assert answer.status_code == 422 and "another site" in answer.json()["rows"][0]["error"]
    # The district above both sees both.
    assert desk.get("/api/v1/volunteers/14020200001", headers=desk.tokens["pc"]).status_code == 200


def test_a_team_leader_reads_but_does_not_change(desk):
    csv_post(desk, "WBY", ROSTER, desk.tokens["wby"])
    lead = desk.tokens["lead"]
    assert desk.get("/api/v1/volunteers", headers=lead).json()["total"] == 2
    assert csv_post(desk, "WBY", ROSTER, lead).status_code == 403
    assert desk.post("/api/v1/badges/14020200001/issue", headers=lead).status_code == 403
    # A badge sheet holds signed badges, each as good as the card: not for a reader.
    assert desk.get("/api/v1/badges.pdf?site=WBY", headers=lead).status_code == 403


def test_only_the_centers_administrators_make_a_coordinator(desk):
    # A coordinator badge opens coordinator mode at kiosks (security review #2).
    answer = csv_post(desk, "WBY", "vid,name,role\nC0000001,Boss,coordinator\n", desk.tokens["wby"])
    assert answer.status_code == 422
    assert [r["code"] for r in answer.json()["rows"]] == ["coordinator_by_admin"]
    add("boss", "PC", "center_admin")
    admin = {"Authorization": f"Bearer {accounts.make_token('boss')}"}
    assert csv_post(desk, "WBY", "vid,name,role\nC0000001,Boss,coordinator\n", admin).status_code == 200
    # Re-importing an existing coordinator as coordinator changes nothing and is fine.
    assert csv_post(desk, "WBY", "vid,name,role\nC0000001,Boss,coordinator\n", desk.tokens["wby"]).status_code == 200


def test_export_neutralises_formulas(desk):
    evil = "vid,name,team\n14020200009,=HYPERLINK(\"http://x\"),+SUM(A1)\n14020200008,@cmd,-1\n"
    assert csv_post(desk, "WBY", evil, desk.tokens["wby"]).status_code == 200
    text = desk.get("/api/v1/volunteers.csv?site=WBY", headers=desk.tokens["wby"]).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+SUM(A1)" in text and "'@cmd" in text and "'-1" in text
    for line in text.splitlines()[1:]:
        assert not line.startswith(("=", "+", "-", "@"))


def test_badges_issue_reissue_revoke_reach_the_kiosk(desk, api):
    csv_post(desk, "WBY", ROSTER, desk.tokens["wby"])
    kiosk, other = enrol(api, "WBY"), enrol(api, "HYL")
    wby = desk.tokens["wby"]
    first = desk.post("/api/v1/badges/14020200001/issue", headers=wby).json()
    assert desk.post("/api/v1/badges/14020200001/issue", headers=wby).status_code == 409
    second = desk.post("/api/v1/badges/14020200001/reissue", headers=wby).json()
    assert second["serial"] > first["serial"] and second["revoked_serial"] == first["serial"]
    revoked = desk.post("/api/v1/badges/14020200001/revoke", json={"reason": "丢失"}, headers=wby)
    assert revoked.json() == {"vid": "14020200001", "serial": second["serial"], "revoked": True}
    again = desk.post("/api/v1/badges/14020200001/revoke", headers=wby)              # idempotent
    assert again.json() == revoked.json()
    for k in (kiosk, other):   # a revocation is for every kiosk
        pulled = {(c["kind"], c["key"]) for c in k.pull().json()["changes"]}
        assert {("revocation", str(first["serial"])), ("revocation", str(second["serial"]))} <= pulled
    with reading():
        assert [a.action for a in AuditEntry.select().where(AuditEntry.object_type == "badge")
                .order_by(AuditEntry.id)] == ["badge.issue", "badge.reissue", "badge.revoke"]
    assert desk.post("/api/v1/badges/14020200002/revoke", headers=wby).status_code == 404   # never had one


def test_badge_sheet_pdf(desk, tmp_path):
    csv_post(desk, "WBY", ROSTER, desk.tokens["wby"])
    desk.post("/api/v1/badges/14020200001/issue", headers=desk.tokens["wby"])
    answer = desk.get("/api/v1/badges.pdf?site=WBY", headers=desk.tokens["wby"])
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    import subprocess
    (tmp_path / "b.pdf").write_bytes(answer.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "b.pdf"), "-"], capture_output=True, text=True).stdout
    assert "林建国" in text and "王秀英" not in text          # only volunteers with a badge


def test_pages_import_with_a_bad_row_then_the_fixed_file(desk):
    log_in(desk, "wby")
    token = page_csrf(desk, "/volunteers")
    bad = ROSTER + "14020200003,张伟,,not-a-phone\n"
    answer = desk.post("/volunteers/import", data={"site": "WBY", "csrf_token": token},
                       files={"file": ("roster.csv", bad.encode("gbk"), "text/csv")})
    assert answer.status_code == 422 and "第 4 行" in answer.text
    with reading():
        assert Volunteer.select().count() == 0
    no_token = desk.post("/volunteers/import", data={"site": "WBY"},
                         files={"file": ("roster.csv", ROSTER.encode(), "text/csv")})
    assert no_token.status_code == 403
    answer = desk.post("/volunteers/import", data={"site": "WBY", "csrf_token": token},
                       files={"file": ("roster.csv", ROSTER.encode("utf-8-sig"), "text/csv")})
    assert answer.status_code == 200 and "已导入 2 人" in answer.text and "林建国" in answer.text


def test_pages_keep_other_stations_out(desk):
    csv_post(desk, "WBY", ROSTER, desk.tokens["wby"])
    log_in(desk, "hyl")
    assert "林建国" not in desk.get("/volunteers").text
    for path in ("/volunteers/14020200001", "/volunteers?site=WBY", "/volunteers/export.csv?site=WBY",
                 "/volunteers/badges.pdf?site=WBY"):
        assert desk.get(path).status_code == 404, path
    token = page_csrf(desk, "/volunteers")
    answer = desk.post("/volunteers/14020200001/badge", data={"action": "issue", "csrf_token": token})
    assert answer.status_code == 404


def test_roster_by_team_on_the_page_and_in_json(desk):
    csv_post(desk, "WBY", ROSTER, desk.tokens["wby"])
    body = desk.get("/api/v1/volunteers?team=巾帼志愿服务队", headers=desk.tokens["wby"]).json()
    assert [v["name"] for v in body["items"]] == ["王秀英"]
    log_in(desk, "wby")
    page = desk.get("/volunteers?team=巾帼志愿服务队")
    assert "王秀英" in page.text and "林建国" not in page.text and '<option value="党员志愿服务队"' in page.text
    log_in(desk, "hyl")
    assert "巾帼志愿服务队" not in desk.get("/volunteers").text       # another station's teams are not offered


@pytest.mark.parametrize("method, url, body", [
    ("GET", "/api/v1/volunteers?q=%00", None), ("GET", "/api/v1/volunteers/%00", None),
    ("POST", "/api/v1/review/%00", {"action": "approve"}),
    ("POST", "/api/v1/review", {"action": "approve", "session_ids": ["\u0000"]}),
    ("POST", "/api/v1/activities", {"site": "WBY", "title": "a\u0000b", "starts_at": "2026-12-01T09:00:00+08:00",
                                    "ends_at": "2026-12-01T10:00:00+08:00"}),
])
def test_a_nul_character_is_refused_not_a_500(desk, method, url, body):
    # On PostgreSQL each of these answered 500 (security review #11).
    answer = desk.request(method, url, json=body, headers=desk.tokens["wby"])
    assert (answer.status_code, answer.json()["code"]) == (422, "bad_text")
