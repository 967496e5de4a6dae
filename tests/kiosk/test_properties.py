"""Property tests: random scan sequences at random times keep the attendance invariants."""

from hypothesis import HealthCheck, given, settings, strategies as st

from kiosk.attendance import Attendance
from kiosk.store import Activity, OutboxEvent, Session, TrustedKey, open_store
from sync.badges import generate_key, issue, public_key_b64

from .conftest import at

KEY = generate_key()
VIDS = ["14020200001", "14020200002", "14020200003"]
TOKENS = {vid: issue(KEY, vid, i + 1) for i, vid in enumerate(VIDS)}
START = at("2026-11-30 07:00")

scan_sequences = st.lists(
    st.tuples(st.sampled_from(VIDS),
              # gaps: same instant, seconds (held badge), minutes, hours, a day
              st.one_of(st.just(0), st.integers(1, 10), st.integers(60, 3 * 3600), st.integers(20 * 3600, 30 * 3600)),
              st.booleans()),  # whether the volunteer picks the second activity when asked
    min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scan_sequences)
def test_random_scans_keep_the_invariants(tmp_path_factory, sequence):
    store = open_store(tmp_path_factory.mktemp("p") / "kiosk.db")
    TrustedKey.create(kid=KEY.kid, public_key=public_key_b64(KEY.public_key))
    Activity.create(id="a1", title="义诊", starts_at=at("2026-11-30 09:00"), ends_at=at("2026-11-30 11:00"))
    Activity.create(id="a2", title="交通", starts_at=at("2026-11-30 10:00"), ends_at=at("2026-11-30 16:00"))
    desk = Attendance(store)
    now, accepted = START, []
    for vid, gap, pick_second in sequence:
        now += gap
        decision = desk.scan(TOKENS[vid], at=now)
        if decision.code == "choose_activity":
            choice = decision.open_activities[1 if pick_second else 0]["id"]
            decision = desk.scan(TOKENS[vid], at=now, activity_id=choice)
        assert decision.result in ("checked_in", "checked_out", "repeat"), decision
        if decision.recorded:
            accepted.append(decision)

    # every accepted scan is in the store, as decided
    for d in accepted:
        row = Session.get_by_id(d.session_id)
        assert (row.check_in_at if d.result == "checked_in" else row.check_out_at) == d.at
    # each recorded change has exactly one outbox event, in a gapless sequence
    seqs = [e.seq for e in OutboxEvent.select().order_by(OutboxEvent.seq)]
    assert seqs == list(range(1, len(seqs) + 1))
    # an automatic close writes its own event (a late check-out after it, one more)
    auto_closed = Session.select().where(Session.flags.contains("auto_closed")).count()
    assert len(seqs) == len(accepted) + auto_closed
    for vid in VIDS:
        sessions = list(Session.select().where(Session.vid == vid).order_by(Session.check_in_at))
        for earlier, later in zip(sessions, sessions[1:]):
            # sessions never overlap, and only the latest may be open
            assert earlier.check_out_at is not None and earlier.check_out_at <= later.check_in_at
        for s in sessions:
            if s.check_out_at is not None:
                # credited minutes never exceed the wall-clock time between the scans
                assert 0 <= s.minutes <= (s.check_out_at - s.check_in_at) // 60
