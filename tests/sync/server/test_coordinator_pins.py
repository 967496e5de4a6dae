"""Coordinators' kiosk PINs set at the center: only for coordinators in the user's scope,
audited without the PIN, stored and published only as argon2 hashes, to the kiosks of the
coordinator's stations only; a real kiosk store applies the pulled hash and checks the PIN."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from sync import protocol
from sync.server.db import reading
from sync.server.models import AuditEntry, ChangeRow, CoordinatorPin
from sync.server.services import accounts
from tests.sync.server.center import add, load_network, log_in, page_csrf
from tests.sync.server.conftest import enrol

ROSTER = ("vid,name,team,role\n"
          "14020200001,林建国,党员志愿服务队,volunteer\n"
          "14020200009,张协调,,coordinator\n")
OTHER = "vid,name,team,role\n14020300009,李协调,,coordinator\n"


@pytest.fixture(autouse=True)
def fresh_limits():
    accounts.reset_limits()


@pytest.fixture
def desk(server_app):
    load_network()
    for name, site, role in [("wby", "WBY", "coordinator"), ("hyl", "HYL", "coordinator"),
                             ("pc", "PC", "coordinator"), ("lead", "WBY", "team_leader"),
                             ("boss", None, "center_admin")]:
        add(name, site, role)
    with TestClient(server_app) as client:
        client.tokens = {name: {"Authorization": f"Bearer {accounts.make_token(name)}"}
                         for name in ("wby", "hyl", "pc", "lead", "boss")}
        for site, text in (("WBY", ROSTER), ("HYL", OTHER)):    # only the center names coordinators
            who = "boss"
            answer = client.post(f"/api/v1/volunteers/import?site={site}", content=text.encode(),
                                 headers={**client.tokens[who], "Content-Type": "text/csv"})
            assert answer.status_code == 200, answer.text
        yield client


def test_set_a_pin_only_its_hash_is_kept_and_reaches_that_stations_kiosks(desk, api, tmp_path):
    kiosk, other = enrol(api, "WBY"), enrol(api, "HYL")
    wby = desk.tokens["wby"]
    assert desk.get("/api/v1/volunteers/14020200009/pin", headers=wby).json()["pin_set"] is False
    answer = desk.post("/api/v1/volunteers/14020200009/pin", json={"pin": "2580", "reason": "新任"}, headers=wby)
    assert answer.status_code == 200, answer.text
    assert answer.json()["pin_set"] is True and answer.json()["stations"] == ["WBY"]
    with reading():
        (row,) = CoordinatorPin.select()
        logged = [(a.action, a.before, a.after, a.reason) for a in AuditEntry.select()
                  .where(AuditEntry.action.startswith("coordinator."))]
        stored = [c.data for c in ChangeRow.select().where(ChangeRow.kind == "coordinator_pin")]
    assert row.pin_hash.startswith("$argon2") and row.set_by == "wby"
    assert logged == [("coordinator.pin_set", '{"pin_set": false}', '{"pin_set": true}', "新任")]
    everything = json.dumps(stored) + str(logged) + row.pin_hash
    assert "2580" not in everything.replace(row.pin_hash, "")          # the PIN itself is nowhere
    # only WBY's kiosks get it
    assert not [c for c in other.pull().json()["changes"] if c["kind"] == "coordinator_pin"]
    pulled = [c for c in kiosk.pull().json()["changes"] if c["kind"] == "coordinator_pin"]
    assert [c["key"] for c in pulled] == ["14020200009"] and pulled[0]["data"]["hash"] == row.pin_hash

    # a real kiosk store applies the page and checks the PIN against that hash
    from kiosk.coordinator import CoordinatorPins
    from kiosk.store import open_store
    store = open_store(tmp_path / "kiosk.db")
    page = kiosk.pull().json()
    store.apply_changes([protocol.Change(**c) for c in page["changes"]], page["cursor"])
    pins = CoordinatorPins(store)
    assert pins.check("14020200009", "1111")["ok"] is False
    assert pins.check("14020200009", "2580")["ok"] is True
    assert pins.state("14020200001")["has_pin"] is False

    # cleared at the center: the kiosk forgets it at its next pull
    assert desk.delete("/api/v1/volunteers/14020200009/pin", headers=wby).json()["pin_set"] is False
    page = kiosk.pull(cursor=page["cursor"]).json()
    store.apply_changes([protocol.Change(**c) for c in page["changes"]], page["cursor"])
    assert pins.state("14020200009")["has_pin"] is False
    assert pins.check("14020200009", "2580") == {"ok": False, "locked_for": 0, "left": 5, "no_pin": True}


def test_bad_and_weak_pins_and_non_coordinators_are_refused(desk):
    wby = desk.tokens["wby"]
    for pin, code in (("12", "bad_pin"), ("12a4", "bad_pin"), ("123456789", "bad_pin"), ("１２３４５", "bad_pin"),
                      ("1234", "weak_pin"), ("7777", "weak_pin")):
        answer = desk.post("/api/v1/volunteers/14020200009/pin", json={"pin": pin}, headers=wby)
        assert answer.status_code == 422 and answer.json()["code"] == code, (pin, answer.text)
    answer = desk.post("/api/v1/volunteers/14020200001/pin", json={"pin": "2580"}, headers=wby)
    assert answer.status_code == 422 and answer.json()["code"] == "not_coordinator"
    assert desk.post("/api/v1/volunteers/14020200009/pin", json={}, headers=wby).status_code == 422
    with reading():
        assert CoordinatorPin.select().count() == 0


def test_scope_other_stations_and_team_leaders(desk):
    hyl, lead, pc = desk.tokens["hyl"], desk.tokens["lead"], desk.tokens["pc"]
    for answer in (desk.post("/api/v1/volunteers/14020200009/pin", json={"pin": "2580"}, headers=hyl),
                   desk.get("/api/v1/volunteers/14020200009/pin", headers=hyl),
                   desk.delete("/api/v1/volunteers/14020200009/pin", headers=hyl)):
        assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert desk.post("/api/v1/volunteers/14020200009/pin", json={"pin": "2580"}, headers=lead).status_code == 403
    # the district above may set it
    assert desk.post("/api/v1/volunteers/14020200009/pin", json={"pin": "2580"}, headers=pc).status_code == 200


def test_the_page_sets_a_pin_with_csrf(desk):
    log_in(desk, "wby")
    page = desk.get("/volunteers/14020200009")
    assert "一体机管理密码" in page.text and "未设置" in page.text
    assert 'id="pin-input"' not in desk.get("/volunteers/14020200001").text     # not a coordinator
    assert desk.post("/volunteers/14020200009/pin", data={"pin": "2580"}).status_code == 403   # no token
    token = page_csrf(desk, "/volunteers/14020200009")
    weak = desk.post("/volunteers/14020200009/pin", data={"pin": "1111", "csrf_token": token})
    assert weak.status_code == 422 and "太容易被猜到" in weak.text
    done = desk.post("/volunteers/14020200009/pin", data={"pin": "2580", "csrf_token": token})
    assert done.status_code == 200 and "密码已设置" in done.text and "已设置（" in done.text
    assert "2580" not in done.text
    log_in(desk, "hyl")
    token = page_csrf(desk, "/volunteers")
    assert desk.post("/volunteers/14020200009/pin", data={"pin": "2580", "csrf_token": token}).status_code == 404


def test_a_coordinator_who_moves_takes_the_pin_to_the_new_stations_kiosks(desk, api):
    from sync.roster import RosterEntry
    from sync.server.services import changes
    wby, hyl = enrol(api, "WBY"), enrol(api, "HYL")
    assert desk.post("/api/v1/volunteers/14020200009/pin", json={"pin": "2580"},
                     headers=desk.tokens["wby"]).status_code == 200
    changes.import_roster([RosterEntry("14020200009", "张协调", "", "coordinator", "")], station="HYL")

    def pins(kiosk):
        return [c["data"] for c in kiosk.pull(limit=500).json()["changes"] if c["kind"] == "coordinator_pin"]
    assert pins(wby)[-1] is None                                  # gone from the old station's kiosks
    assert pins(hyl)[-1]["hash"].startswith("$argon2")           # there at the new one's
