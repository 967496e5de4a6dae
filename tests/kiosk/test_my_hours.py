"""我的时长 without a screen: the desk is armed by the button for a while, takes exactly one
scan, answers it from the badge and the store (the city's figures, the signed page link),
and writes nothing; a bad or revoked badge is refused with the scan's own codes."""

from __future__ import annotations

import base64
import sqlite3

from kiosk.attendance import Attendance
from kiosk.my_hours import ARMED_SECONDS, MyHoursDesk
from kiosk.store import Revocation
from kiosk.ui.sample import FakeClock, make_kiosk
from sync import mylink


def _desk(tmp_path, linked=True):
    clock = FakeClock()
    store, tokens = make_kiosk(tmp_path / "k", activities="none", clock=clock)
    if linked:
        store.settings.set(server_url="http://center.example:8000",
                           page_key=base64.urlsafe_b64encode(mylink.station_key("center secret", "WBY")).decode())
    return store, tokens, MyHoursDesk(Attendance(store))


def _counts(tmp_path):
    with sqlite3.connect(tmp_path / "k" / "kiosk.db") as con:
        return [con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("attendance", "outbox")]


def test_armed_for_one_scan_only(tmp_path):
    _, _, desk = _desk(tmp_path)
    assert not desk.armed(100.0) and not desk.take(100.0)
    desk.arm(100.0)
    assert desk.armed(100.0 + ARMED_SECONDS - 1) and not desk.armed(100.0 + ARMED_SECONDS)
    assert desk.take(101.0) and not desk.take(101.5)        # one scan, then disarmed
    desk.arm(200.0)
    assert not desk.take(200.0 + ARMED_SECONDS + 1)        # too late: an ordinary scan
    desk.arm(300.0)
    desk.disarm()
    assert not desk.take(300.5)


def test_a_badge_gets_its_figures_and_signed_link_and_nothing_is_written(tmp_path):
    store, tokens, desk = _desk(tmp_path)
    answer = desk.answer(tokens["14020200001"])
    assert answer.result == "my_hours" and answer.code == "ok" and answer.name == "林*国"
    token = answer.page_url.rsplit("/", 1)[1]
    assert answer.page_url.startswith("http://center.example:8000/me/14020200001.WBY.")
    assert mylink.check(mylink.station_key("center secret", "WBY"), token, now=answer.at) == "14020200001"
    assert _counts(tmp_path) == [0, 0]
    # After a real check-in and check-out the figures count this kiosk's session.
    att = Attendance(store)
    t0 = int(store.clock())
    att.scan(tokens["14020200001"], at=t0)
    att.scan(tokens["14020200001"], at=t0 + 90 * 60)
    before = _counts(tmp_path)
    again = desk.answer(tokens["14020200001"], at=t0 + 95 * 60)
    assert again.year_minutes == 90 and again.total_minutes == 90
    assert _counts(tmp_path) == before


def test_refusals_and_no_link_before_the_center_sent_a_key(tmp_path):
    store, tokens, desk = _desk(tmp_path, linked=False)
    assert desk.answer("https://weixin.qq.com/pay/not-a-badge").result == "refused"
    assert desk.answer("https://weixin.qq.com/pay/not-a-badge").code == "foreign"
    unlinked = desk.answer(tokens["14020200002"])
    assert unlinked.result == "my_hours" and unlinked.code == "no_link" and unlinked.page_url is None
    Revocation.replace(serial=2, vid="14020200002", revoked_at=0).execute()
    assert (desk.answer(tokens["14020200002"]).result, desk.answer(tokens["14020200002"]).code) == ("refused", "revoked")
    assert _counts(tmp_path) == [0, 0]
