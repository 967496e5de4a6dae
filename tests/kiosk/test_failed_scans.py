"""The failed-scan log at the kiosk (issue 11): every refusal leaves one row and one outbox
event, the same thing read again within seconds is one row, and a foreign code's text is
never written down."""

import json
from datetime import date

from kiosk.failed_scans import REPEAT_SECONDS, FailedScans
from kiosk.store import FailedScan, OutboxEvent, Revocation, db
from tests.kiosk.conftest import TZ, at

FOREIGN = "https://qr.alipay.com/fkx0secret-payment-code-1234"


def rows():
    return [(f.code, f.vid, f.serial, f.reads) for f in FailedScan.select().order_by(FailedScan.at)]


def failed_events():
    return [json.loads(e.payload) for e in OutboxEvent.select().where(OutboxEvent.type == "failed_scan")
            .order_by(OutboxEvent.seq)]


def file_bytes(path) -> bytes:
    out = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return out + (wal.read_bytes() if wal.exists() else b"")


def test_revoked_expired_and_foreign_each_leave_one_row_and_one_event(store, desk, badge):
    revoked = badge("14020200006", serial=6)
    Revocation.create(serial=6, vid="14020200006", revoked_at=0)
    expired = badge("14020200007", serial=7, expires=date(2026, 1, 1))
    t = at("2026-11-30 09:00")
    assert desk.scan(revoked, at=t).code == "revoked"
    assert desk.scan(expired, at=t + 60).code == "expired"
    assert desk.scan(FOREIGN, at=t + 120).code == "foreign"
    assert rows() == [("revoked", "14020200006", 6, 1), ("expired", "14020200007", 7, 1), ("foreign", None, None, 1)]
    events = failed_events()
    assert [(e["code"], e["vid"], e["serial"], e["at"]) for e in events] == [
        ("revoked", "14020200006", 6, t), ("expired", "14020200007", 7, t + 60), ("foreign", None, None, t + 120)]
    assert {e["id"] for e in events} == {f.id for f in FailedScan.select()}
    db.execute_sql("PRAGMA wal_checkpoint(FULL)")
    assert b"alipay" not in file_bytes(store.path) and b"fkx0secret" not in file_bytes(store.path)


def test_a_refused_badge_held_20_seconds_in_front_of_the_camera_leaves_one_row(store, desk, badge, tmp_path):
    """The camera's path without Kivy: the badge's picture replayed at 15 frames a second for
    20 s, each frame decoded, each text decided as the app does (no screen-level de-duplication)."""
    from kiosk.scanner.decoder import decode
    from kiosk.scanner.replay import ReplaySource
    from sync.printing import qr_image
    token = badge("14020200006", serial=6)
    Revocation.create(serial=6, vid="14020200006", revoked_at=0)
    qr_image(token, box_size=6).save(tmp_path / "held.png")
    t0 = at("2026-11-30 09:00")
    frames = ReplaySource(tmp_path / "held.png", fps=15, hold_seconds=20)
    decided = 0
    for i, frame in enumerate(frames):
        for text in decode(frame) if i % 3 == 0 else []:     # every third frame: 5 decodes a second
            assert desk.scan(text, at=t0 + i // 15).code == "revoked"
            decided += 1
    assert decided >= 90 and t0 + (i // 15) >= t0 + 19
    assert rows() == [("revoked", "14020200006", 6, decided)]
    assert len(failed_events()) == 1


def test_read_again_after_a_pause_is_a_new_failed_scan(store, desk):
    t = at("2026-11-30 09:00")
    desk.scan(FOREIGN, at=t)
    desk.scan(FOREIGN, at=t + REPEAT_SECONDS - 1)             # still held: the same
    desk.scan("https://example.org/poster", at=t + REPEAT_SECONDS)  # another code: another row
    desk.scan(FOREIGN, at=t + 2 * REPEAT_SECONDS + 5)         # shown again later: a new row
    assert [r[3] for r in rows()] == [2, 1, 1]


def test_a_question_and_a_success_are_not_failures(store, desk, badge, activity):
    activity("a", "2026-11-30 08:00", "2026-11-30 12:00")
    activity("b", "2026-11-30 08:30", "2026-11-30 12:00")
    assert desk.scan(badge(), at=at("2026-11-30 09:00")).code == "choose_activity"
    assert desk.scan(badge(), at=at("2026-11-30 09:00"), activity_id="a").result == "checked_in"
    assert rows() == [] and failed_events() == []


def test_a_forged_badge_keeps_no_claimed_number(store, desk, badge):
    token = badge("14020200001")
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    assert desk.scan(forged, at=at("2026-11-30 09:00")).result == "refused"
    [(code, vid, serial, reads)] = rows()
    assert code in ("bad_signature", "malformed") and vid is None and serial is None


def test_today_is_the_station_day(store, desk):
    desk.scan(FOREIGN, at=at("2026-11-29 23:59"))
    desk.scan(FOREIGN, at=at("2026-11-30 00:01"))
    today = FailedScans(store).today(TZ, now=at("2026-11-30 12:00"))
    assert [f.at for f in today] == [at("2026-11-30 00:01")]


def test_the_cli_scan_records_a_failed_scan(tmp_path):
    import subprocess
    import sys
    run = lambda *a: subprocess.run([sys.executable, "-m", "kiosk.cli", *map(str, a)], capture_output=True,
                                    text=True, timeout=60, check=True)
    run("kiosk", "init", "--db", tmp_path / "k.db", "--station", "站")
    run("kiosk", "scan", "--db", tmp_path / "k.db", "WG1:NOTABADGE")
    import sqlite3
    with sqlite3.connect(tmp_path / "k.db") as conn:
        assert conn.execute("SELECT code, vid FROM failed_scans").fetchall() == [("malformed", None)]
        assert conn.execute("SELECT COUNT(*) FROM outbox WHERE type = 'failed_scan'").fetchone() == (1,)


def test_white_space_around_a_badge_is_trimmed_alike_at_both_ends(store, desk, badge):
    """A USB scanner's suffix or a pasted line: a leading space is no more foreign than a
    trailing one (the kiosk decides through sync.badges.verify, which trims both)."""
    token = badge("14020200001")
    t = at("2026-11-30 09:00")
    assert desk.scan(" " + token, at=t).result == "checked_in"
    assert desk.scan(token + " \r\n", at=t + 30).result == "repeat"
    assert desk.scan("\t" + token + "\n", at=t + 3 * 3600).result == "checked_out"
    revoked = badge("14020200006", serial=6)
    Revocation.create(serial=6, vid="14020200006", revoked_at=0)
    assert desk.scan(" " + revoked, at=t).code == desk.scan(revoked + " ", at=t + 1).code == "revoked"
    assert rows() == [("revoked", "14020200006", 6, 2)]      # the same thing read twice: one row


def test_failed_scans_wait_for_a_center_that_takes_them(store, desk, badge):
    """A center from before failed scans answers a batch holding one with 422: a kiosk sends
    them only once the center's pull answer lists the type (PullResponse.event_types)."""
    t = at("2026-11-30 09:00")
    desk.scan(FOREIGN, at=t)
    desk.scan(badge(), at=t + 60)
    assert [e["type"] for e in store.pending_events(10)] == ["checkin"]          # nothing said yet: held
    store.set_sync_state(event_types=["checkin", "checkout"])                   # an older center
    assert [e["type"] for e in store.pending_events(10)] == ["checkin"]
    store.set_sync_state(event_types=["checkin", "checkout", "failed_scan"])    # this one takes them
    assert [e["type"] for e in store.pending_events(10)] == ["failed_scan", "checkin"]
    assert store.count_pending() == 2
