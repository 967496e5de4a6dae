"""我的时长 under Xvfb, in the real app: the home screen's button, then a badge: the screen
shows that volunteer's hours and the QR code of their own page (the signed link a check-out
shows), and no attendance row and no outbox event is written; Cancel returns home and
disarms, so the next badge is an ordinary check-in."""

from __future__ import annotations

import pytest

from tests.kiosk.ui.conftest import ok, run_journey

pytestmark = pytest.mark.ui


def test_my_hours_button_then_badge_shows_the_qr_and_records_nothing(xdisplay, tmp_path):
    j = ok(run_journey(xdisplay, tmp_path / "mine", "my_hours"))
    assert "请出示您的志愿者证" in j["prompt_labels"] and "取消" in j["prompt_labels"], j["prompt_labels"]
    shown = j["shown_labels"]
    assert j["rows_while_shown"] == [0, 0]          # no attendance row, no outbox event
    assert j["screen_while_shown"] == "my_hours" and j["screen_after_badge"] == "my_hours"
    assert "今年累计 97.5 小时 · 共 98 小时\n另有 1.5 小时待审核" in shown, shown
    assert "手机扫码 看我的时长" in shown and j["qr_shown"] and j["shown_seconds"] > 5, shown
    # The QR on the screen is the volunteer's own page: a signed link the center accepts.
    import zxingcpp
    from PIL import Image

    from sync import mylink
    [url] = [r.text for r in zxingcpp.read_barcodes(Image.open(tmp_path / "mine" / "my_hours.png").convert("L"))]
    assert url.startswith("http://center.example:8000/me/14020200001.WBY.")
    token = url.rsplit("/", 1)[1]
    assert mylink.check(mylink.station_key("center secret", "WBY"), token, now=int(token.split(".")[2]) - 60) \
        == "14020200001"
    # Cancel and Done disarm; the badge afterwards is a check-in, the only row written.
    assert j["armed_at_prompt"] is True and j["armed_after_done"] is False and j["armed_after_cancel"] is False
    assert any("签到成功" in t for t in j["after_labels"]), j["after_labels"]
    assert j.rows("SELECT COUNT(*) FROM attendance") == [(1,)]
    assert j.rows("SELECT type, COUNT(*) FROM outbox GROUP BY type") == [("checkin", 1)]


def test_my_hours_in_english(xdisplay, tmp_path):
    j = ok(run_journey(xdisplay, tmp_path / "mine-en", "my_hours", lang="en"))
    assert "Show your volunteer badge" in j["prompt_labels"], j["prompt_labels"]
    assert any(t.startswith("This year 97.5 h · 98 h in all") for t in j["shown_labels"]), j["shown_labels"]
