"""The plain logic behind the kiosk's big words and its time picker (no Kivy here)."""

from __future__ import annotations

from kiosk.textfit import estimate, fit, pieces, wrap
from kiosk.timepick import STEPS, TimePick, step_label


def test_a_headline_breaks_at_its_dots_and_drops_them():
    lines, whole = wrap("签退成功 · 本次 2.5 小时 · 今年累计 100 小时 · 一星志愿者", 900, estimate, 80)
    assert whole
    assert lines == ["签退成功", "本次 2.5 小时", "今年累计 100 小时", "一星志愿者"]
    lines, _ = wrap("签退成功 · 本次 2.5 小时 · 今年累计 100 小时 · 一星志愿者", 1400, estimate, 80)
    assert lines == ["签退成功 · 本次 2.5 小时", "今年累计 100 小时 · 一星志愿者"]
    assert not any(line.startswith("·") or line.endswith("·") for line in lines)


def test_chinese_never_breaks_inside_a_word():
    # 8 characters, a line of about 5: the words shrink rather than break 志愿者
    size, lines = fit("请出示志愿者证件", 420, estimate, biggest=80, smallest=28, max_lines=1)
    assert lines == ["请出示志愿者证件"] and size < 80
    # after punctuation it may break
    lines, whole = wrap("证件已挂失，请联系站点管理员", 500, estimate, 60)
    assert whole and lines == ["证件已挂失，", "请联系站点管理员"]


def test_english_keeps_no_break_spaces_together():
    text = "Checked out · 2.5 h this time · 100\u00a0h this year"
    for width in (500, 700, 900, 1200):
        lines, _ = wrap(text, width, estimate, 60)
        joined = "\n".join(lines)
        assert "2.5\nh" not in joined and "2.5 h" in joined.replace("\n", " ")
        for line in lines:
            assert not line.rstrip().endswith("2.5") and not line.startswith("h ")


def test_a_word_wider_than_the_line_breaks_only_outside_protected_words():
    lines, whole = wrap("一二三四五六七八志愿者九十", 6 * 100 / 0.97 + 1, estimate, 100)
    assert not whole
    assert all("志愿" not in line or "志愿者" in line for line in lines), lines
    assert "".join(lines) == "一二三四五六七八志愿者九十"


def test_pieces_and_glue():
    assert pieces("A · B c，d\u200be") == [("A", " · "), ("B", " "), ("c，", ""), ("d", ""), ("e", "")]
    # a time or a ratio is one word: no break after an ASCII colon
    assert pieces("Checked in at 01:32") == [("Checked", " "), ("in", " "), ("at", " "), ("01:32", "")]
    lines, whole = wrap("Checked in at 01:32", 400, estimate, 80)
    assert whole and "01:32" in lines[-1]


def test_fit_picks_the_largest_size_that_fits():
    size, lines = fit("签到成功 08:30", 2000, estimate, biggest=80, smallest=28)
    assert size == 80 and lines == ["签到成功 08:30"]


def test_time_pick_steps_and_bounds():
    check_in, now = 1_000_000 * 60, 1_000_000 * 60 + 3 * 3600
    pick = TimePick.for_session("check_out", check_in, None, now)
    assert pick.value == now                          # an open session: now
    assert pick.step(3600).value == now               # never after now
    assert pick.step(-600).step(-60).value == now - 660
    assert pick.step(-10 * 3600).value == check_in + 60   # never before the check-in
    pin = TimePick.for_session("check_in", check_in, check_in + 7200, now)
    assert pin.value == check_in
    assert pin.step(3 * 3600).value == check_in + 7200    # never after the check-out
    assert pin.step(-3600).value == check_in - 3600
    assert pin.at_bound(-2 * 86400) is False and pin.step(-2 * 86400).value == check_in - 86400
    assert [step_label(s) for s in STEPS] == ["-1 小时", "-10 分", "-1 分", "+1 分", "+10 分", "+1 小时"]
    assert step_label(-600, "en") == "-10 min"


def test_fewer_lines_win_when_they_cost_little():
    size, lines = fit("Already checked out", 1000, estimate, biggest=108, smallest=40, max_lines=2)
    assert lines == ["Already checked out"] and size >= 108 * 0.8
    # ... but not at any price: a long headline keeps its lines and its size
    size, lines = fit("签退成功 · 本次 2.5 小时 · 今年累计 100 小时", 700, estimate, biggest=64, smallest=28)
    assert len(lines) >= 2 and size > 50
