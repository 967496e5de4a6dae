"""A check-out under Xvfb, in the real app, that crosses 100 hours of the city's figures:
the screen shows the year's city total, the part awaiting review, the star level and the
congratulation line, and the QR code of the volunteer's own page."""

from __future__ import annotations

import pytest

from tests.kiosk.ui.conftest import ok, run_journey

pytestmark = pytest.mark.ui


def test_a_check_out_that_crosses_100_hours_shows_the_star(xdisplay, tmp_path):
    j = ok(run_journey(xdisplay, tmp_path / "star", "star_checkout"))
    labels = j["checkout_labels"]
    lines = [t.replace("\n", " · ") for t in labels]
    assert "签退成功 · 本次 2.5 小时 · 今年累计 100 小时 · 一星志愿者" in lines, labels
    unwrapped = [t.replace("\n", "") for t in labels]     # big words wrap between words
    assert any("恭喜！累计服务 100.5 小时，成为一星志愿者" in t for t in unwrapped), labels
    assert any("另有 1.5 小时待审核" in t for t in unwrapped), labels
    assert "手机扫码 看我的时长" in labels and j["qr_shown"] and j["seconds_left"] > 5
    assert j["qr_drawn_by_worker"]            # the UI thread only uploaded its pixels
    # The QR on the screen is the volunteer's own page: a signed link the center accepts.
    import zxingcpp
    from PIL import Image

    from sync import mylink
    [url] = [r.text for r in zxingcpp.read_barcodes(Image.open(tmp_path / "star" / "star.png").convert("L"))]
    assert url.startswith("http://center.example:8000/me/14020200001.WBY.")
    token = url.rsplit("/", 1)[1]
    assert mylink.check(mylink.station_key("center secret", "WBY"), token, now=int(token.split(".")[2]) - 60) \
        == "14020200001"
