"""Pull: pages, the cursor, station scope, and what each service publishes."""

from __future__ import annotations

from sync.roster import RosterEntry
from sync.server.services import changes
from tests.sync.server.conftest import enrol
from tests.sync.server.helpers import T0


def pull_all(kiosk, limit=None) -> list[dict]:
    cursor, seen = 0, []
    while True:
        body = kiosk.pull(cursor, limit).json()
        seen += body["changes"]
        assert body["cursor"] >= cursor
        cursor = body["cursor"]
        if not body["more"]:
            return seen


def test_pages_follow_the_cursor_and_say_more(kiosk):
    changes.import_roster([RosterEntry(f"V{i:04d}", f"志愿者{i}") for i in range(25)], station="s1")
    first = kiosk.pull(0, limit=10).json()
    assert len(first["changes"]) == 10 and first["more"] is True
    assert first["cursor"] == first["changes"][-1]["version"]
    versions = [c["version"] for c in pull_all(kiosk, limit=10)]
    assert versions == sorted(set(versions))
    everything = pull_all(kiosk)
    assert [c["version"] for c in everything] == versions
    last = kiosk.pull(versions[-1]).json()
    assert (last["changes"], last["cursor"], last["more"]) == ([], versions[-1], False)


def test_a_kiosk_sees_global_rows_and_its_own_station_only(api, kiosk):
    other = enrol(api, "s2")
    changes.import_roster([RosterEntry("V0001", "林建国", team="邻里")], station="s1")
    changes.import_roster([RosterEntry("V0002", "王芳")], station="s2")
    changes.upsert_activity("a-all", "全市活动", T0, T0 + 3600)
    changes.upsert_activity("a-s2", "义诊", T0, T0 + 3600, station="s2", place="二楼", rules={"rounding_minutes": 30})
    mine = {(c["kind"], c["key"]): c["data"] for c in pull_all(kiosk)}
    assert mine[("volunteer", "V0001")] == {"name": "林建国", "team": "邻里", "role": "volunteer"}
    assert ("volunteer", "V0002") not in mine and ("activity", "a-s2") not in mine
    assert mine[("activity", "a-all")]["title"] == "全市活动"
    assert mine[("station", "s1")]["name"] == "站点 s1" and ("station", "s2") not in mine
    theirs = {(c["kind"], c["key"]): c["data"] for c in pull_all(other)}
    activity = theirs[("activity", "a-s2")]
    assert (activity["place"], activity["rules"], activity["ends_at"]) == ("二楼", {"rounding_minutes": 30}, T0 + 3600)


def test_revocation_and_public_keys_show_in_pull(kiosk, server_settings):
    changes.revoke_badge(17, vid="V0001", now=T0)
    seen = {(c["kind"], c["key"]): c["data"] for c in pull_all(kiosk)}
    assert seen[("revocation", "17")] == {"vid": "V0001", "revoked_at": T0}
    kid = (server_settings.keys_dir / "current").read_text().strip()
    assert set(seen[("public_key", kid)]) == {"public_key"}
    changes.lift_revocation(17)
    last = pull_all(kiosk)[-1]
    assert (last["kind"], last["key"], last["data"]) == ("revocation", "17", None)


def test_rules_reach_a_station_merged(kiosk):
    changes.set_rules({"rounding_minutes": 30}, station="s1")
    changes.set_rules({"min_credit_minutes": 60})
    rules = [c for c in pull_all(kiosk) if c["kind"] == "rules"]
    # The last rules row a kiosk applies is its station's, with the center's merged in.
    assert rules[-1]["data"] == {"min_credit_minutes": 60, "rounding_minutes": 30}


def test_a_volunteer_who_moves_leaves_the_old_station(api, kiosk):
    other = enrol(api, "s2")
    changes.import_roster([RosterEntry("V0001", "林建国")], station="s1")
    changes.import_roster([RosterEntry("V0001", "林建国")], station="s2")
    mine = [c for c in pull_all(kiosk) if c["kind"] == "volunteer"]
    assert mine[-1]["data"] is None
    assert [c for c in pull_all(other) if c["kind"] == "volunteer"][-1]["data"]["name"] == "林建国"


def test_bad_query_is_422(kiosk):
    for params in ({"cursor": -1}, {"cursor": "x"}, {"limit": 0}, {"limit": 10_000}):
        answer = kiosk.api.get("/api/v1/changes", params=params, headers=kiosk.headers)
        assert answer.status_code == 422 and answer.json()["server_time"]
