"""A check-out under Xvfb, in the real app, that crosses 100 hours of the city's figures:
the screen shows the year's city total, the part awaiting review, the star level and the
congratulation line."""

from __future__ import annotations

import pytest

from tests.kiosk.ui.conftest import ok, run_journey

pytestmark = pytest.mark.ui


def test_a_check_out_that_crosses_100_hours_shows_the_star(xdisplay, tmp_path):
    j = ok(run_journey(xdisplay, tmp_path / "star", "star_checkout"))
    labels = j["checkout_labels"]
    assert "签退成功 · 本次 2.5 小时 · 今年累计 100 小时 · 一星志愿者" in labels, labels
    assert any("恭喜！累计服务 100.5 小时，成为一星志愿者" in t for t in labels), labels
    assert any("另有 1.5 小时待审核" in t for t in labels), labels
    assert (tmp_path / "star" / "star.png").stat().st_size > 10_000
