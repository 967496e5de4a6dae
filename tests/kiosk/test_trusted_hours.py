"""Issue 7 at the kiosk: no phantom hours, atomic decisions, clocks that jumped, one rule set."""

import json
import multiprocessing
from pathlib import Path

from kiosk.attendance import Attendance
from kiosk.store import OutboxEvent, Session, TrustedKey, open_store
from sync import hours
from sync.badges import public_key_b64

from .conftest import at


def payloads(type_):
    return [json.loads(e.payload) for e in OutboxEvent.select().where(OutboxEvent.type == type_)
            .order_by(OutboxEvent.seq)]


def test_scan_after_the_automatic_close_is_the_late_check_out_not_a_new_session(desk, badge):
    # 09:00 station duty; the 4-hour duty cap closes it at 13:00; the volunteer leaves at 17:40.
    token = badge()
    assert desk.scan(token, at=at("2026-11-30 09:00")).result == "checked_in"
    late = desk.scan(token, at=at("2026-11-30 17:40"))
    assert (late.result, late.code, late.state) == ("checked_out", "late_checkout", "review")
    assert set(late.flags) >= {hours.FLAG_AUTO_CLOSED, hours.FLAG_LATE_CHECKOUT}
    # Nothing credited until a coordinator says so; the proposal is shown apart.
    assert (late.year_minutes, late.year_pending_minutes) == (0, late.minutes) and late.minutes > 0
    assert Session.select().count() == 1
    session = Session.get()
    assert (session.check_out_at, session.state, session.closed_by) == (at("2026-11-30 17:40"), "review", "late")
    assert [p["closed_by"] for p in payloads("checkout")] == ["auto", "late"]
    # The next day a scan is a check-in again.
    assert desk.scan(token, at=at("2026-12-01 09:00")).result == "checked_in"


def test_auto_closed_session_counts_in_no_total(desk, badge):
    token = badge()
    desk.scan(token, at=at("2026-11-30 09:00"))
    assert desk.close_overdue(now=at("2026-11-30 14:00")) == 1
    session = Session.get()
    assert (session.state, session.minutes) == ("review", 240)
    assert desk.year_minutes(session.vid, at("2026-11-30 15:00")) == (0, 240)


def test_a_correction_at_the_kiosk_is_the_approval_of_an_auto_closed_session(desk, badge):
    token = badge()
    desk.scan(token, at=at("2026-11-30 09:00"))
    desk.close_overdue(now=at("2026-11-30 14:00"))
    fixed = desk.correct(Session.get().id, "check_out", at("2026-11-30 12:00"), "忘记签退", by_vid="C001")
    assert (fixed.state, fixed.minutes) == ("closed", 180)
    assert hours.split_flags(fixed.flags) == {hours.FLAG_AUTO_CLOSED, hours.FLAG_CORRECTED}


def test_a_correction_never_stacks_computed_flags(desk, badge, store):
    # A 60-minute session over a 30-minute cap, corrected: "capped,corrected", not "capped,capped,corrected".
    store.settings.set(rules={"max_credit_minutes": 30, "min_credit_minutes": 0})
    token = badge()
    desk.scan(token, at=at("2026-11-30 09:00"))
    assert desk.scan(token, at=at("2026-11-30 10:00")).flags == ["capped"]
    fixed = desk.correct(Session.get().id, "check_in", at("2026-11-30 08:55"), "早到", by_vid="C001")
    assert fixed.flags == "capped,corrected" and fixed.minutes == 30


def test_coordinator_check_out_carries_the_coordinator(desk, badge):
    desk.scan(badge(), at=at("2026-11-30 09:00"))
    desk.check_out(Session.get().id, by_vid="C001", at=at("2026-11-30 10:00"))
    (checkout,) = payloads("checkout")
    assert (checkout["closed_by"], checkout["by_vid"]) == ("coordinator", "C001")


def test_a_clock_that_ran_a_year_ahead_locks_nobody_out(desk, badge):
    token = badge()
    desk.scan(token, at=at("2027-11-30 09:00"))          # the clock was a year ahead
    back = desk.scan(token, at=at("2026-11-30 09:05"))   # set right: a check-in, not out_of_order
    assert back.result == "checked_in"
    future = Session.get(Session.check_in_at == at("2027-11-30 09:00"))
    assert (future.state, hours.FLAG_FUTURE_TIME in future.flags, future.minutes) == ("review", True, 0)
    out = desk.scan(token, at=at("2026-11-30 11:05"))
    assert (out.result, out.minutes) == ("checked_out", 120)


def test_a_replay_within_the_window_is_still_out_of_order(desk, badge):
    token = badge()
    desk.scan(token, at=at("2026-11-30 09:00"))
    assert desk.scan(token, at=at("2026-11-30 08:50")).code == "out_of_order"


def _scan_all(db_path: str, tokens: list[str], when: int, start, results) -> None:
    store = open_store(db_path)
    desk = Attendance(store)
    desk.keyring()
    start.wait()
    results.extend([(t, desk.scan(t, at=when).result) for t in tokens])


def test_two_processes_scanning_the_same_badges_at_once_give_one_check_in_each(tmp_path, key, badge):
    path = tmp_path / "kiosk.db"
    store = open_store(path)
    TrustedKey.create(kid=key.kid, public_key=public_key_b64(key.public_key))
    store.settings.set(station={"code": "WBY", "name": "文博苑社区", "timezone": "Asia/Shanghai"})
    tokens = [badge(vid=f"1402020{i:04d}") for i in range(25)]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start, results = manager.Event(), manager.list()
        # Each process walks the badges from another starting point, so they meet on every badge.
        workers = [context.Process(target=_scan_all, args=(str(path), tokens[i * 8:] + tokens[:i * 8],
                                                           at("2026-11-30 09:00"), start, results))
                   for i in range(3)]
        for w in workers:
            w.start()
        start.set()
        for w in workers:
            w.join(120)
            assert w.exitcode == 0
        outcomes = list(results)
    open_store(path)
    assert len(outcomes) == 75
    for token in tokens:
        mine = sorted(r for t, r in outcomes if t == token)
        assert mine == ["checked_in", "repeat", "repeat"]
    assert Session.select().count() == 25
    assert OutboxEvent.select().count() == 25
