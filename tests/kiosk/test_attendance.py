"""Scan -> decision -> record, against a real SQLite file."""

import json
from datetime import date

import pytest

from kiosk.attendance import Attendance, mask_name
from kiosk.store import MIGRATIONS, Activity, OutboxEvent, Revocation, Session, Volunteer, db, open_store
from sync import hours
from sync.badges import generate_key, issue

from .conftest import at


def events(type_=None):
    query = OutboxEvent.select().order_by(OutboxEvent.seq)
    rows = [(e.type, json.loads(e.payload)) for e in query]
    return [r for r in rows if type_ is None or r[0] == type_]


def test_in_repeat_out_round_trip(desk, badge, store):
    Volunteer.create(vid="14020200001", name="林建国", team="邻里关照")
    token = badge()
    first = desk.scan(token, at=at("2026-11-30 09:00"))
    assert (first.result, first.name, first.activity_id) == ("checked_in", "林*国", None)  # station duty
    again = desk.scan(token, at=at("2026-11-30 09:00:40"))
    assert (again.result, again.code) == ("repeat", "already_checked_in")
    out = desk.scan(token, at=at("2026-11-30 11:02"))
    assert (out.result, out.minutes, out.year_minutes) == ("checked_out", 120, 120)
    session = Session.get()
    assert (session.check_in_at, session.check_out_at, session.minutes) == (
        at("2026-11-30 09:00"), at("2026-11-30 11:02"), 120)
    assert [t for t, _ in events()] == ["checkin", "checkout"]
    assert [e.seq for e in OutboxEvent.select().order_by(OutboxEvent.seq)] == [1, 2]


def test_badge_held_in_front_of_the_camera_for_20s_is_one_check_in(desk, badge):
    token = badge()
    start = at("2026-11-30 09:00")
    # 15 frames a second for 20 s, then the badge is taken away
    results = {desk.scan(token, at=start + i // 15).result for i in range(20 * 15)}
    assert results == {"checked_in", "repeat"}
    assert Session.select().count() == 1 and len(events()) == 1


def test_held_badge_after_check_out_stays_checked_out(desk, badge):
    token = badge()
    desk.scan(token, at=at("2026-11-30 09:00"))
    out_at = at("2026-11-30 12:00")
    assert desk.scan(token, at=out_at).result == "checked_out"
    later = [desk.scan(token, at=out_at + s) for s in range(0, 30, 1)]
    assert {d.result for d in later} == {"repeat"} and later[0].code == "already_checked_out"
    assert Session.select().count() == 1


def test_one_open_activity_gets_the_check_in(desk, badge, activity):
    activity("a1", "2026-11-30 09:00", "2026-11-30 11:00", title="义诊体检")
    decision = desk.scan(badge(), at=at("2026-11-30 08:45"))  # 15 minutes early is allowed
    assert (decision.result, decision.activity_id, decision.activity_title) == ("checked_in", "a1", "义诊体检")


def test_two_open_activities_ask_then_record_the_choice(desk, badge, activity):
    activity("a1", "2026-11-30 09:00", "2026-11-30 11:00", title="义诊体检")
    activity("a2", "2026-11-30 09:30", "2026-11-30 12:00", title="文明交通劝导")
    token = badge()
    ask = desk.scan(token, at=at("2026-11-30 09:40"))
    assert (ask.result, ask.code) == ("refused", "choose_activity")
    assert [a["id"] for a in ask.open_activities] == ["a1", "a2"]
    assert Session.select().count() == 0 and events() == []
    chosen = desk.scan(token, at=at("2026-11-30 09:40:03"), activity_id="a2")
    assert (chosen.result, chosen.activity_id) == ("checked_in", "a2")
    assert events("checkin")[0][1]["activity_id"] == "a2"


def test_picking_a_closed_or_unknown_activity_is_refused(desk, badge, activity):
    activity("a1", "2026-11-30 09:00", "2026-11-30 11:00", closed=True)
    assert desk.scan(badge(), at=at("2026-11-30 09:30"), activity_id="a1").code == "activity_not_open"
    assert desk.scan(badge(), at=at("2026-11-30 09:30"), activity_id="nope").code == "activity_not_open"


def test_forgotten_check_out_is_auto_closed_and_flagged(desk, badge, activity):
    activity("a1", "2026-11-30 09:00", "2026-11-30 11:00")
    token = badge()
    desk.scan(token, at=at("2026-11-30 09:00"))
    # the next morning the volunteer scans again: yesterday closes at end + 30 min grace
    decision = desk.scan(token, at=at("2026-12-01 09:00"))
    assert decision.result == "checked_in"
    closed = Session.get(Session.activity_id == "a1")
    assert closed.check_out_at == at("2026-11-30 11:30") and closed.closed_by == "auto"
    assert closed.minutes == 150 and hours.FLAG_AUTO_CLOSED in closed.flags


def test_close_overdue_sweeps_open_sessions(desk, badge, activity):
    activity("a1", "2026-11-30 09:00", "2026-11-30 11:00")
    desk.scan(badge("14020200001"), at=at("2026-11-30 09:00"))
    desk.scan(badge("14020200002"), at=at("2026-11-30 10:00"))
    assert desk.close_overdue(at("2026-11-30 11:10")) == 0  # within the grace period
    assert desk.close_overdue(at("2026-11-30 11:31")) == 2
    assert Session.select().where(Session.check_out_at.is_null()).count() == 0
    assert len(events("checkout")) == 2


def test_activity_rules_override_station_rules(desk, badge, activity, store):
    store.settings.set(rules={"rounding_minutes": 30})
    activity("a1", "2026-11-30 09:00", "2026-11-30 18:00", rules=json.dumps({"max_credit_minutes": 120}))
    token = badge()
    desk.scan(token, at=at("2026-11-30 09:00"))
    out = desk.scan(token, at=at("2026-11-30 12:20"))
    assert (out.minutes, out.flags) == (120, [hours.FLAG_CAPPED])
    other = badge("14020200009")
    Activity.update(closed=True).where(Activity.id == "a1").execute()
    desk.scan(other, at=at("2026-11-30 13:00"))       # station duty: station rules only
    assert desk.scan(other, at=at("2026-11-30 14:50")).minutes == 90  # 110 min rounded down to 30s


def test_too_short_a_session_credits_nothing(desk, badge):
    token = badge()
    desk.scan(token, at=at("2026-11-30 09:00"))
    out = desk.scan(token, at=at("2026-11-30 09:10"))
    assert (out.result, out.minutes, out.flags) == ("checked_out", 0, [hours.FLAG_BELOW_MINIMUM])


def test_revoked_badge_from_the_store_is_refused(desk, badge):
    token = badge(serial=42)
    Revocation.create(serial=42, vid="14020200001")
    decision = desk.scan(token, at=at("2026-11-30 09:00"))
    assert (decision.result, decision.code) == ("refused", "revoked")
    assert Session.select().count() == 0


@pytest.mark.parametrize("text, code", [
    ("https://mp.weixin.qq.com/s/abc", "foreign"), ("", "foreign"), ("WG1:" + "7" * 3000, "malformed"),
    ("WG1:\x00\x1b[2J", "malformed"),
])
def test_refusals_record_nothing_but_a_failed_scan(desk, text, code):
    decision = desk.scan(text, at=at("2026-11-30 09:00"))
    assert (decision.result, decision.code) == ("refused", code)
    assert Session.select().count() == 0
    [(kind, payload)] = events()          # the failed-scan log (kiosk.failed_scans): never the text
    assert kind == "failed_scan" and payload["code"] == code and payload["vid"] is None
    assert not text or text[4:12] not in json.dumps(payload)


def test_unknown_key_and_expired_and_bad_signature(desk, badge):
    stranger = issue(generate_key(), "14020200001", 1)
    assert desk.scan(stranger, at=at("2026-11-30 09:00")).code == "unknown_key"
    expired = badge(expires=date(2026, 11, 29))
    assert desk.scan(expired, at=at("2026-11-30 09:00")).code == "expired"
    token = badge()
    forged = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    assert desk.scan(forged, at=at("2026-11-30 09:00")).code == "bad_signature"


def test_replayed_scan_older_than_the_last_record_is_refused(desk, badge):
    token = badge()
    desk.scan(token, at=at("2026-11-30 09:00"))
    desk.scan(token, at=at("2026-11-30 11:00"))
    assert desk.scan(token, at=at("2026-11-30 10:00")).code == "out_of_order"


def test_year_minutes_counts_this_year_only(desk, badge):
    token = badge()
    desk.scan(token, at=at("2025-12-31 09:00"))
    desk.scan(token, at=at("2025-12-31 12:00"))
    desk.scan(token, at=at("2026-01-01 09:00"))
    out = desk.scan(token, at=at("2026-01-01 10:00"))
    assert (out.minutes, out.year_minutes) == (60, 60)


def test_coordinator_check_out_correction_and_close(desk, badge, activity):
    activity("a1", "2026-11-30 09:00", "2026-11-30 17:00")
    a = desk.scan(badge("14020200001"), at=at("2026-11-30 09:00"))
    b = desk.scan(badge("14020200002"), at=at("2026-11-30 09:05"))
    c = desk.scan(badge("14020200003"), at=at("2026-11-30 09:10"))
    desk.check_out(a.session_id, by_vid="C001", at=at("2026-11-30 10:00"))
    assert Session.get_by_id(a.session_id).closed_by == "coordinator"
    fixed = desk.correct(a.session_id, "check_in", at("2026-11-30 08:00"), "忘记扫码，提前到岗", by_vid="C001")
    assert (fixed.minutes, hours.FLAG_CORRECTED in fixed.flags) == (120, True)
    with pytest.raises(ValueError):
        desk.correct(a.session_id, "check_out", at("2026-11-30 07:00"), "typo", by_vid="C001")
    with pytest.raises(ValueError):
        desk.correct(a.session_id, "check_out", at("2026-11-30 11:00"), "  ", by_vid="C001")
    assert desk.close_activity("a1", by_vid="C001", at=at("2026-11-30 12:00")) == 2
    assert {Session.get_by_id(s).check_out_at for s in (b.session_id, c.session_id)} == {at("2026-11-30 12:00")}
    assert Activity.get_by_id("a1").closed
    assert [t for t, _ in events()] == ["checkin"] * 3 + ["checkout", "correction", "checkout", "checkout",
                                                          "activity_closed"]


def test_a_failed_write_leaves_neither_row_nor_event(store):
    def write():
        Session.create(id="s1", vid="v", serial=1, check_in_at=1)
        raise RuntimeError("power cut in the middle")
    with pytest.raises(RuntimeError):
        store.record("checkin", {"session_id": "s1"}, write)
    assert Session.select().count() == 0 and OutboxEvent.select().count() == 0


def test_reopening_runs_no_migration_twice(tmp_path):
    path = tmp_path / "k.db"
    open_store(path)
    device = open_store(path).settings.get("device_id")
    assert open_store(path).settings.get("device_id") == device
    assert [r[0] for r in db.execute_sql("select name from migration")] == [name for name, _ in MIGRATIONS]
    assert db.execute_sql("pragma synchronous").fetchone()[0] == 2
    assert db.execute_sql("pragma journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("name, masked", [("林建国", "林*国"), ("王芳", "王*"), ("欧阳娜娜", "欧**娜"), ("李", "李")])
def test_names_are_masked(name, masked):
    assert mask_name(name) == masked
