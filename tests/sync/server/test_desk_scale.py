"""What the desk does to stay fast at a city's scale (bench/bench_center.py) must not
change what it shows: the network read once per change, the review queue read from its
indexes in the same order, the whole network's lists the same with or without ?site=."""

from __future__ import annotations

import uuid

import pytest

from sync.server import db
from sync.server.db import reading, writing
from sync.server.models import HoursSession, User, Volunteer
from sync.server.services import review, sites, volunteers
from sync.server.services.scope import CLI, scope_for
from tests.sync.server.center import add, load_network

T0 = 1_780_000_000


def session(station: str, at: int, state: str = "review") -> str:
    sid = str(uuid.uuid4())
    with writing():
        HoursSession.create(id=sid, vid=f"V{station}", serial=1, station=station, device_id="d", check_in_at=at,
                            check_out_at=at + 3600, minutes=60, flags="auto_closed", state=state)
    return sid


def test_the_network_read_follows_changes_made_by_another_process(server_app):
    load_network()
    assert sites.subtree("PC") == ["PC", "PC-XJNL", "HYL", "WBY"]
    first = sites.all_sites()
    assert sites.all_sites() is first                               # unchanged: kept
    with writing():                                                 # as `weiguang server sites import` would
        db.db.execute_sql("INSERT INTO sites (code, name, tier, parent, timezone) VALUES "
                          "('NEW', '新站', 'station', 'PC-XJNL', 'Asia/Shanghai')")
        db.db.execute_sql("UPDATE sites SET name = '文博苑社区（新）' WHERE code = 'WBY'")
    assert sites.subtree("PC") == ["PC", "PC-XJNL", "HYL", "NEW", "WBY"]
    assert sites.all_sites()["WBY"].name == "文博苑社区（新）"
    with pytest.raises(TypeError):
        sites.all_sites()["X"] = None                               # read-only: shared between requests


def test_the_queue_is_oldest_first_the_same_with_or_without_the_root_site(server_app):
    load_network()
    add("city", "DT", "center_admin")
    add("pc", "PC")
    ids = [session(station, T0 + 60 * (n % 4)) for n, station in enumerate(["WBY", "HYL", "YGZ"] * 4)]
    session("WBY", T0 - 60, state="closed")
    session("YGZ", T0 - 60, state="approved")
    with reading():
        expected = [s.id for s in HoursSession.select().where(HoursSession.id.in_(ids))
                    .order_by(HoursSession.check_in_at, HoursSession.id)]
    with reading():
        city = scope_for(User.get_by_id("city"))
        pc = scope_for(User.get_by_id("pc"))
    for scope, site in [(CLI, None), (CLI, "DT"), (city, None), (city, "DT")]:
        whole = review.queue(scope, site=site, limit=100)
        assert [i["session_id"] for i in whole["items"]] == expected and whole["total"] == 12
        pages = [review.queue(scope, site=site, limit=5, offset=o)["items"] for o in (0, 5, 10)]
        assert [i["session_id"] for page in pages for i in page] == expected
    mine = review.queue(pc, site="PC")
    assert {i["station"] for i in mine["items"]} == {"WBY", "HYL"} and mine["total"] == 8
    assert [i["session_id"] for i in mine["items"]] == [i for i in expected if i in
                                                       {x["session_id"] for x in mine["items"]}]


def test_the_whole_networks_roster_is_every_volunteer_with_a_site(server_app):
    load_network()
    with writing():
        Volunteer.insert_many([dict(vid=f"1402{n:04d}", name=f"林{n}", station=st)
                               for n, st in enumerate(["WBY", "HYL", "YGZ", None])]).execute()
    assert volunteers.roster(CLI, site="DT", q="林")["total"] == 3          # site=DT: those with a site
    assert volunteers.roster(CLI, q="林")["total"] == 4                     # the whole scope: all
    assert volunteers.roster(CLI, site="YG", q="林")["total"] == 1


def test_the_review_queue_and_the_roster_have_their_indexes(server_app):
    with reading():
        names = {i.name for i in db.db.get_indexes("sessions")}
        roster = {i.name for i in db.db.get_indexes("volunteer")}
    assert {"hourssession_state_check_in_at_id", "hourssession_station_state_check_in_at_id"} <= names
    assert "hourssession_state" not in names
    assert "volunteer_station_name_vid" in roster and "volunteer_station" not in roster
