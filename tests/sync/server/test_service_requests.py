"""Service requests through their states (services.service_requests): review, reject,
dispatch, decline, time-out, 抢单 by two teams at once, every illegal transition refused
with its code, transitions and audit rows, phone numbers masked by who asks, hours
credited for review, phone numbers erased a set time after closing. Both backends."""

from __future__ import annotations

import threading

import pytest

from sync.order_numbers import order_number
from sync.server.db import reading
from sync.server.models import AuditEntry, Device, HoursSession, RequestTransition, ServiceRequest
from sync.server.services import ServiceError, accounts, sites
from sync.server.services import service_requests as sr
from sync.server.services.scope import scope_for
from sync.server.services.volunteers import import_csv
from tests.sync.server.center import add, load_network
from tests.sync.server.conftest import enrol
from tests.sync.server.helpers import T0

PHONE = "13812348000"


def scope(username: str):
    return scope_for(accounts.get_user(username))


@pytest.fixture
def center(api):
    """The demo network; coordinators of WBY, HYL and PC; teams at WBY, PC and YGZ with a
    leader each; a kiosk at WBY."""
    accounts.reset_limits()
    load_network()
    for name, site in [("wby", "WBY"), ("hyl", "HYL"), ("pc", "PC")]:
        add(name, site)
    teams = {}
    for leader, site, team in [("lead_wby", "WBY", "党员服务队"), ("lead_pc", "PC", "巾帼志愿队"),
                               ("lead_ygz", "YGZ", "军魂闪耀")]:
        add(leader, site, "team_leader")
        teams[leader] = sites.add_team(site, team).id
        sr.set_team(leader, teams[leader])
    add("lead_none", "WBY", "team_leader")          # a leader without a team
    import_csv(scope_for(accounts.get_user("wby")), "WBY",
                      "vid,name\n14020200001,林建国\n14020200002,王秀英\n".encode(), actor="wby")
    kiosk = enrol(api, "WBY")
    return {"kiosk": kiosk, "teams": teams}


def order(center, counter: int = 1, phone: str = PHONE) -> str:
    kiosk = center["kiosk"]
    with reading():
        number = order_number("261130", Device.get_by_id(kiosk.device_id).kiosk_number, kiosk.device_id, counter)
    event = kiosk.event("service_request", {"number": number, "service": "家电维修", "phone": phone, "at": T0})
    assert kiosk.statuses([event]) == [("stored", None)]
    return event["id"]


def state_of(rid: str) -> str:
    with reading():
        return ServiceRequest.get_by_id(rid).state


def refused(code: str, fn, *args, **kw):
    with pytest.raises(ServiceError) as caught:
        fn(*args, **kw)
    assert caught.value.code == code, caught.value.message


def test_a_request_through_its_whole_life(center):
    rid = order(center)
    assert state_of(rid) == "submitted"
    wby, lead = scope("wby"), scope("lead_wby")
    team = center["teams"]["lead_wby"]
    assert {t["id"] for t in sr.teams_for(wby, rid)} == {team, center["teams"]["lead_pc"]}   # not YGZ's
    sr.act(wby, rid, "review")
    sr.act(wby, rid, "dispatch", team=team)
    assert sr.queue(lead)["items"][0]["phone"] == PHONE            # the holding team sees it whole
    sr.act(lead, rid, "accept")
    sr.act(lead, rid, "complete", report="换了电源线", minutes=90, volunteers=["14020200001", "14020200002"])
    assert sr.rate(sr.get(wby, rid)["number"], "8000", 5, ["准时到达", "技术专业"])["state"] == "rated"
    sr.act(wby, rid, "close")
    got = sr.get(wby, rid)
    assert got["state"] == "closed" and got["rating"] == 5 and got["comments"] == ["准时到达", "技术专业"]
    assert [(t["action"], t["from"], t["to"], t["actor"]) for t in got["transitions"]] == [
        ("review", "submitted", "reviewed", "wby"), ("dispatch", "reviewed", "dispatched", "wby"),
        ("accept", "dispatched", "accepted", "lead_wby"), ("complete", "accepted", "completed", "lead_wby"),
        ("rate", "completed", "rated", "resident"), ("close", "rated", "closed", "wby")]
    assert all(t["at"] for t in got["transitions"])
    with reading():
        audited = [a.action for a in AuditEntry.select().where(AuditEntry.object_id == rid).order_by(AuditEntry.id)]
        credited = list(HoursSession.select().where(HoursSession.flags == "service_request"))
    assert audited == ["request.review", "request.dispatch", "request.accept", "request.complete", "request.rate",
                       "request.close"]
    # Hours: each volunteer who delivered it, 90 minutes, waiting in the review queue.
    assert sorted((s.vid, s.minutes, s.state, s.station) for s in credited) == [
        ("14020200001", 90, "review", "WBY"), ("14020200002", 90, "review", "WBY")]
    from sync.server.services import review
    assert {i["vid"] for i in review.queue(wby)["items"]} == {"14020200001", "14020200002"}


def test_rejection_needs_a_reason_and_ends_the_request(center):
    rid = order(center)
    wby = scope("wby")
    refused("reason_required", sr.act, wby, rid, "reject", reason="  ")
    sr.act(wby, rid, "reject", reason="不在服务范围")
    got = sr.get(wby, rid)
    assert got["state"] == "rejected" and got["reason"] == "不在服务范围" and got["closed_at"]
    for action in ("review", "dispatch", "open", "close", "reject"):
        refused("illegal_transition", sr.act, wby, rid, action, team=center["teams"]["lead_wby"], reason="x")


def test_decline_and_time_out_send_it_back_to_dispatch(center):
    rid = order(center)
    wby, lead, pc_lead = scope("wby"), scope("lead_wby"), scope("lead_pc")
    sr.act(wby, rid, "review")
    sr.act(wby, rid, "dispatch", team=center["teams"]["lead_wby"])
    refused("not_found", sr.act, pc_lead, rid, "accept")           # dispatched to another team
    sr.act(lead, rid, "decline", reason="人手不够")
    got = sr.get(wby, rid)
    assert got["state"] == "reviewed" and got["team"] is None
    refused("not_found", sr.get, lead, rid)                        # no longer theirs
    # Dispatched again, to the institute's team; nobody accepts within the time limit.
    sr.act(wby, rid, "dispatch", team=center["teams"]["lead_pc"], now=T0)
    assert sr.expire_dispatches(now=T0 + sr.DISPATCH_TIMEOUT_SECONDS - 1) == []
    assert state_of(rid) == "dispatched"
    assert sr.expire_dispatches(now=T0 + sr.DISPATCH_TIMEOUT_SECONDS + 1) == [rid]
    got = sr.get(wby, rid)
    assert got["state"] == "reviewed" and got["team"] is None
    assert got["transitions"][-1]["actor"] == "system" and got["transitions"][-1]["action"] == "expire"
    # The queue read does it too (no timer needed).
    sr.act(wby, rid, "dispatch", team=center["teams"]["lead_wby"], now=T0)
    assert sr.queue(wby, state="reviewed")["total"] == 1


def test_two_teams_grab_an_open_request_at_once_one_wins(center):
    for attempt in range(3):
        rid = order(center, counter=attempt + 1)
        wby = scope("wby")
        sr.act(wby, rid, "review")
        sr.act(wby, rid, "open")
        leaders = [scope("lead_wby"), scope("lead_pc")]
        assert all(rid in [i["id"] for i in sr.queue(s, state="open")["items"]] for s in leaders)
        assert rid not in [i["id"] for i in sr.queue(scope("lead_ygz"))["items"]]   # another area
        barrier, results = threading.Barrier(2), {}

        def grab(s):
            barrier.wait()
            try:
                results[s.username] = sr.act(s, rid, "grab")["state"]
            except ServiceError as exc:
                results[s.username] = exc.code

        threads = [threading.Thread(target=grab, args=(s,)) for s in leaders]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results.values()) == ["accepted", "already_taken"], results
        winner = next(u for u, r in results.items() if r == "accepted")
        with reading():
            row = ServiceRequest.get_by_id(rid)
            steps = RequestTransition.select().where(RequestTransition.request_id == rid).count()
        assert row.team == center["teams"][winner] and steps == 3


def test_every_illegal_transition_is_refused_with_its_code(center):
    """From each state, each action not allowed there is refused illegal_transition (by an
    actor who could do it from the right state), and the state stays."""
    team = center["teams"]["lead_wby"]
    wby, lead = scope("wby"), scope("lead_wby")
    paths = {"submitted": [], "reviewed": ["review"], "rejected": ["reject"],
             "dispatched": ["review", "dispatch"], "open": ["review", "open"],
             "accepted": ["review", "dispatch", "accept"], "completed": ["review", "dispatch", "accept", "complete"],
             "rated": ["review", "dispatch", "accept", "complete", "rate"],
             "closed": ["review", "dispatch", "accept", "complete", "close"]}
    counter = 0
    for state, path in paths.items():
        counter += 1
        rid = order(center, counter=counter)
        number = sr.get(wby, rid)["number"]
        for action in path:
            if action == "rate":
                sr.rate(number, "8000", 4)
            else:
                sr.act(lead if action in ("accept", "complete") else wby, rid, action, team=team,
                       reason="原因", report="完成", minutes=30)
        assert state_of(rid) == state
        for action, (starts, _to, who) in sr.ACTIONS.items():
            if state in starts or who == "system":
                continue
            if who == "resident":
                refused("illegal_transition", sr.rate, number, "8000", 5)
                continue
            # For a grab, a leader of the area; for the team's actions, the holding team (if any).
            actor = lead if who in ("team", "area_team") else wby
            if who in ("team", "area_team") and state not in ("dispatched", "accepted", "completed", "rated",
                                                              "closed"):
                continue                  # no team holds it: it does not exist for a leader (not_found)
            refused("illegal_transition", sr.act, actor, rid, action, team=team, reason="原因", report="完成",
                    minutes=30)
            assert state_of(rid) == state


def test_who_may_act_and_see(center):
    rid = order(center)
    wby, hyl, pc = scope("wby"), scope("hyl"), scope("pc")
    refused("not_found", sr.get, hyl, rid)                         # another station: does not exist
    refused("not_found", sr.act, hyl, rid, "review")
    assert sr.queue(hyl)["total"] == 0
    refused("not_found", sr.get, scope("lead_wby"), rid)           # not dispatched to them yet
    refused("not_found", sr.get, scope("lead_none"), rid)
    # Phone numbers: whole for the station's coordinators, masked for the institute's.
    assert sr.get(wby, rid)["phone"] == PHONE and sr.get(pc, rid)["phone"] == "138****8000"
    sr.act(pc, rid, "review")
    refused("bad_team", sr.act, wby, rid, "dispatch", team=center["teams"]["lead_ygz"])   # another area
    refused("bad_team", sr.act, wby, rid, "dispatch", team=None)
    sr.act(wby, rid, "dispatch", team=center["teams"]["lead_pc"])
    assert sr.get(scope("lead_pc"), rid)["phone"] == PHONE
    refused("not_found", sr.act, scope("lead_wby"), rid, "accept")
    refused("forbidden", sr.act, scope("lead_pc"), rid, "review")   # a leader does not review
    refused("bad_action", sr.act, wby, rid, "rate")
    refused("bad_action", sr.act, wby, rid, "expire")
    sr.act(scope("lead_pc"), rid, "accept")
    refused("bad_minutes", sr.act, scope("lead_pc"), rid, "complete", report="好", minutes=0)
    refused("reason_required", sr.act, scope("lead_pc"), rid, "complete", report="", minutes=10)
    refused("unknown_volunteer", sr.act, scope("lead_pc"), rid, "complete", report="好", minutes=10,
            volunteers=["99999999999"])
    # The resident: number + last four digits; anything else finds nothing.
    number = sr.get(wby, rid)["number"]
    refused("not_found", sr.status_for_resident, number, "0000")
    assert sr.status_for_resident(number, "8000")["phone"] == "138****8000"
    refused("bad_rating", sr.rate, number, "8000", 6)


def test_phone_numbers_are_erased_a_set_time_after_closing(center):
    rid, other = order(center, 1), order(center, 2)
    wby = scope("wby")
    sr.act(wby, rid, "reject", reason="重复", now=T0)
    assert sr.erase_phones(now=T0 + sr.PHONE_RETENTION_SECONDS - 10) == []
    assert sr.erase_phones(now=T0 + sr.PHONE_RETENTION_SECONDS + 10) == [rid]
    with reading():
        assert ServiceRequest.get_by_id(rid).phone == "" and ServiceRequest.get_by_id(other).phone == PHONE
    assert sr.get(wby, rid)["phone"] == ""
    refused("not_found", sr.status_for_resident, sr.get(wby, rid)["number"], "8000")


def test_ratings_pushed_by_kiosks_are_checked(center):
    """A ``service_rating`` event rates a completed request once; wrong digits, a request
    not completed, a second rating are refused with their codes (and change nothing)."""
    rid = order(center)
    wby, lead = scope("wby"), scope("lead_wby")
    number = sr.get(wby, rid)["number"]
    kiosk = center["kiosk"]

    def rating(last4="8000", stars=5, comments=()):
        return kiosk.event("service_rating", {"number": number, "last4": last4, "rating": stars,
                                              "comments": list(comments), "at": T0})
    assert kiosk.statuses([rating()]) == [("refused", "illegal_transition")]        # not completed yet
    sr.act(wby, rid, "review")
    sr.act(wby, rid, "dispatch", team=center["teams"]["lead_wby"])
    sr.act(lead, rid, "accept")
    sr.act(lead, rid, "complete", report="好", minutes=30)
    good = rating(stars=4, comments=["态度很好"])
    assert kiosk.statuses([rating("1111"), rating(comments=["随便写的"]), good, good, rating(stars=1)]) == [
        ("refused", "unknown_request"), ("refused", "bad_rating"), ("stored", None), ("duplicate", None),
        ("refused", "illegal_transition")]
    # Sent again in a later push (the answer was lost on the way): a duplicate, rated once.
    assert kiosk.statuses([good]) == [("duplicate", None)]
    late = rating(last4="1111")
    assert kiosk.statuses([late, late]) == [("refused", "unknown_request")] * 2
    got = sr.get(wby, rid)
    assert (got["state"], got["rating"], got["comments"]) == ("rated", 4, ["态度很好"])
    assert [t["action"] for t in got["transitions"]].count("rate") == 1
    # The kiosks of the station heard each state (for the resident's lookup there).
    states = [c["data"]["state"] for c in kiosk.pull().json()["changes"] if c["kind"] == "request_state"]
    assert states == ["submitted", "reviewed", "dispatched", "accepted", "completed", "rated"]


def test_a_menu_reaches_the_kiosks_below_it(center, api):
    from sync.server.services import service_menu
    other = enrol(api, "YGZ")
    add("pc_admin", "PC", "center_admin")
    add("yg_admin", "YG", "center_admin")
    refused("bad_menu", service_menu.set_menu, scope("pc_admin"), "PC", [{"service": "", "presets": []}])
    refused("not_found", service_menu.set_menu, scope("yg_admin"), "PC", [{"service": "理发", "presets": []}])
    refused("forbidden", service_menu.set_menu, scope("pc"), "PC", [{"service": "理发", "presets": []}])
    refused("forbidden", service_menu.set_menu, scope("wby"), "WBY", [{"service": "理发", "presets": []}])
    refused("bad_menu", service_menu.set_menu, scope("pc_admin"), "PC",
            [{"service": "理发", "presets": ["上门", "儿童"], "presets_en": ["At home"]}])   # one each
    service_menu.set_menu(scope("pc_admin"), "PC", [{"service": "理发", "presets": ["上门"]}])
    assert service_menu.menu_for("WBY")["items"] == [{"service": "理发", "presets": ["上门"]}]
    assert service_menu.menu_for("YGZ")["site"] is None                          # another center: the default
    mine = [c["data"] for c in center["kiosk"].pull().json()["changes"] if c["kind"] == "service_menu"]
    assert mine == [{"items": [{"service": "理发", "presets": ["上门"]}], "site": "PC"}]
    assert not [c for c in other.pull().json()["changes"] if c["kind"] == "service_menu"]


def test_the_center_erases_a_closed_requests_phone_on_its_own(center):
    """No one calls erase_phones by hand: reading any queue after the retention period does
    it (as the time-out of dispatches), for a request rated and closed as for a rejected one."""
    rid, kept = order(center, 1), order(center, 2)
    wby, lead = scope("wby"), scope("lead_wby")
    sr.act(wby, rid, "review", now=T0)
    sr.act(wby, rid, "dispatch", team=center["teams"]["lead_wby"], now=T0)
    sr.act(lead, rid, "accept", now=T0)
    sr.act(lead, rid, "complete", report="好", minutes=30, now=T0)
    sr.rate(sr.get(wby, rid)["number"], "8000", 5, now=T0)
    sr.act(wby, rid, "close", now=T0)
    assert sr.queue(wby, now=T0 + sr.PHONE_RETENTION_SECONDS - 10)["items"][0]["phone"] == PHONE
    with reading():
        assert ServiceRequest.get_by_id(rid).phone == PHONE
    seen = {i["id"]: i["phone"] for i in sr.queue(lead, now=T0 + sr.PHONE_RETENTION_SECONDS + 10)["items"]}
    assert seen == {rid: ""}                               # the team leader's page read it: gone
    with reading():
        assert ServiceRequest.get_by_id(rid).phone == "" and ServiceRequest.get_by_id(kept).phone == PHONE
        erased = AuditEntry.select().where((AuditEntry.object_id == rid)
                                           & (AuditEntry.action == "request.erase_phone")).count()
    assert erased == 1
    assert sr.queue(wby, now=T0 + 2 * sr.PHONE_RETENTION_SECONDS)["total"] == 2    # nothing else changes
    with reading():
        assert AuditEntry.select().where(AuditEntry.action == "request.erase_phone").count() == 1


def test_the_phone_is_whole_only_to_the_holding_team_and_the_stations_coordinators(center):
    """Masked (138****8000) to the teams of the area while the request is open to them, to
    the coordinators above the station, to the resident's own page; whole to the station's
    coordinators and to the team that holds it while it works on it; masked to that team
    again once the work is done and rated."""
    rid = order(center)
    wby, pc, lead_wby, lead_pc = scope("wby"), scope("pc"), scope("lead_wby"), scope("lead_pc")
    masked = "138****8000"

    def phone(s):
        return sr.get(s, rid)["phone"]

    sr.act(wby, rid, "review")
    sr.act(wby, rid, "open")
    assert (phone(wby), phone(pc), phone(lead_wby), phone(lead_pc)) == (PHONE, masked, masked, masked)
    assert {i["phone"] for i in sr.queue(lead_pc, state="open")["items"]} == {masked}
    sr.act(lead_pc, rid, "grab")
    assert (phone(lead_pc), phone(pc)) == (PHONE, masked)
    refused("not_found", sr.get, lead_wby, rid)                    # the team that lost: gone from view
    sr.act(lead_pc, rid, "complete", report="好", minutes=30)
    assert phone(lead_pc) == PHONE
    number = sr.get(wby, rid)["number"]
    assert sr.status_for_resident(number, "8000")["phone"] == masked
    sr.rate(number, "8000", 5)
    assert (phone(lead_pc), phone(wby)) == (masked, PHONE)
    # Nothing else the center keeps about the request holds the number in clear.
    from sync.server.models import ChangeRow
    with reading():
        logged = [str(a.before) + str(a.after) + str(a.reason) for a in
                  AuditEntry.select().where(AuditEntry.object_id == rid)]
        changes = [str(c.data) for c in ChangeRow.select().where(ChangeRow.kind == "request_state")]
        steps = [str(t.note) for t in RequestTransition.select().where(RequestTransition.request_id == rid)]
    assert logged and changes and not any(PHONE in text for text in logged + changes + steps)


def test_done_requests_left_alone_are_closed_then_their_phones_erased(center):
    """Completed but never rated, or rated but never closed: closed by the system 14 days
    after the last step (on any queue read), so the phone number goes a set time later."""
    team = center["teams"]["lead_wby"]
    wby, lead = scope("wby"), scope("lead_wby")
    done, rated, busy = order(center, 1), order(center, 2), order(center, 3)
    for rid in (done, rated, busy):
        sr.act(wby, rid, "review", now=T0)
        sr.act(wby, rid, "dispatch", team=team, now=T0)
        sr.act(lead, rid, "accept", now=T0)
    for rid in (done, rated):
        sr.act(lead, rid, "complete", report="好", minutes=30, now=T0)
    sr.rate(sr.get(wby, rated)["number"], "8000", 5, now=T0 + 86400)
    sr.queue(wby, now=T0 + sr.AUTO_CLOSE_SECONDS - 10)
    assert [state_of(r) for r in (done, rated, busy)] == ["completed", "rated", "accepted"]
    sr.queue(lead, now=T0 + sr.AUTO_CLOSE_SECONDS + 10)
    assert [state_of(r) for r in (done, rated, busy)] == ["closed", "rated", "accepted"]   # rated a day later
    sr.queue(wby, now=T0 + 86400 + sr.AUTO_CLOSE_SECONDS + 10)
    assert [state_of(r) for r in (done, rated, busy)] == ["closed", "closed", "accepted"]
    last = sr.get(wby, rated)["transitions"][-1]
    assert (last["action"], last["actor"], last["from"]) == ("close", "system", "rated")
    states = [c["data"]["state"] for c in center["kiosk"].pull().json()["changes"]
              if c["kind"] == "request_state" and c["data"]["number"] == sr.get(wby, done)["number"]]
    assert states[-1] == "closed"                                   # the kiosks hear it too
    later = T0 + 86400 + sr.AUTO_CLOSE_SECONDS + sr.PHONE_RETENTION_SECONDS + 20
    sr.queue(wby, now=later)
    assert [sr.get(wby, r)["phone"] for r in (done, rated, busy)] == ["", "", PHONE]
