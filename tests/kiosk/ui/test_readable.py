"""Readable from two metres, designed for every screen (issue 11), measured in the real
window under Xvfb: the `audit` journey (journeys.py) shows every screen and stage at
1280x800, 1080x1920 and 720x1280 in both languages, and measures each one:

- every visible label's font size in px (a markup [size=N] inside counts too): none under
  28 px, in coordinator mode too;
- every touch target (a button or a card that is one): at least 60 dp on its short side;
- how much of the window the visible content covers (words as drawn, buttons, images,
  inputs, icons; not backgrounds): vertically and horizontally. The screens a resident
  browses (home, activities, an activity, an order, the coordinator's unlock) leave no
  more than a third empty;
- the headlines' line breaks: between words, never inside one.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.kiosk.ui.conftest import ok, run_journey

pytestmark = pytest.mark.ui

SIZES = ["1280x800", "1080x1920", "720x1280"]
LANGS = ["zh_CN", "en"]
MIN_PX = 28
MIN_TARGET_DP = 60
DESIGNED = ["home", "activities", "activity-detail", "order", "unlock-choice", "unlock-pin", "unlock-no-pin"]
SCREENS = ["home", "home-large", "feedback-checked-in", "feedback-repeat-in", "feedback-zero",
           "feedback-checked-out", "feedback-repeat-out", "feedback-refused", "feedback-choose", "activities",
           "activity-detail", "order", "request-status", "my-hours-prompt", "my-hours-shown", "unlock-choice", "unlock-pin", "unlock-no-pin",
           "coordinator-here", "coordinator-correct", "coordinator-activities", "coordinator-sync",
           "coordinator-device", "coordinator-unenrol"]


@pytest.fixture(scope="module")
def audits(xdisplay, tmp_path_factory):
    base = tmp_path_factory.mktemp("audit")
    runs = [(size, lang) for lang in LANGS for size in SIZES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {run: pool.submit(run_journey, xdisplay, base / f"{run[0]}-{run[1]}", "audit", size=run[0],
                                    lang=run[1], timeout=240) for run in runs}
        return {run: ok(f.result()) for run, f in futures.items()}


def test_every_screen_was_measured(audits):
    for run, j in audits.items():
        assert sorted(j["audit"]) == sorted(SCREENS), run
        for name, screen in j["audit"].items():
            assert screen["labels"], (run, name)


def test_no_label_under_28_px_on_any_screen_at_any_size(audits):
    small = [(run, name, label["text"][:40], round(label["px"], 1))
             for run, j in audits.items() for name, screen in j["audit"].items()
             for label in screen["labels"] if label["px"] < MIN_PX - 0.01]
    assert not small, small


def test_text_scales_with_the_screen(audits):
    def smallest(run, name):
        return min(label["px"] for label in audits[run]["audit"][name]["labels"])
    for lang in LANGS:
        assert smallest(("1080x1920", lang), "activities") > smallest(("1280x800", lang), "activities") * 1.2


def test_the_large_text_switch_makes_every_text_larger(audits):
    for run, j in audits.items():
        if run[1] == "zh_CN":      # the English prompt may fill its card's width already
            assert j["large_prompt_px"] > j["normal_prompt_px"] * 1.1, run
        normal = min(label["px"] for label in j["audit"]["home"]["labels"])
        large = min(label["px"] for label in j["audit"]["home-large"]["labels"])
        assert large >= normal * 1.25, (run, normal, large)


def test_touch_targets_at_least_60_dp(audits):
    tiny = [(run, name, target["text"][:30], round(target["w_dp"]), round(target["h_dp"]))
            for run, j in audits.items() for name, screen in j["audit"].items()
            for target in screen["targets"] if min(target["w_dp"], target["h_dp"]) < MIN_TARGET_DP]
    assert not tiny, tiny


def test_no_touch_target_lies_over_another(audits):
    """Two buttons drawn over each other: a finger cannot tell which it presses (a row of
    buttons taller than the row it was given spills onto the next one). A dialog is a layer
    over the screen: only its own buttons can be pressed while it is open."""
    def over(a, b):
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = a["rect"], b["rect"]
        return min(ax1, bx1) - max(ax0, bx0) > 1 and min(ay1, by1) - max(ay0, by0) > 1
    overlaps = [(run, name, a["text"][:30], b["text"][:30])
                for run, j in audits.items() for name, screen in j["audit"].items()
                for i, a in enumerate(screen["targets"]) for b in screen["targets"][i + 1:]
                if a["layer"] == b["layer"] and a["id"] not in b["inside"] and b["id"] not in a["inside"]
                and over(a, b)]
    assert not overlaps, overlaps


def test_no_designed_screen_more_than_a_third_empty(audits):
    empty = [(run, name, round(screen["cover_y"], 2), round(screen["cover_x"], 2))
             for run, j in audits.items() for name, screen in j["audit"].items()
             if name in DESIGNED and min(screen["cover_y"], screen["cover_x"]) < 2 / 3]
    assert not empty, empty


# Words that must never be cut by a line break (the toolkit cut "志愿 / 者" and "2.5 / h").
UNBROKEN = ["志愿者", "小时", "签到", "签退", "二维码", "摄像头"]


def test_headlines_break_between_words_never_inside_one(audits):
    checked = 0
    for run, j in audits.items():
        for name, screen in j["audit"].items():
            for label in screen["labels"]:
                if not label["wrap"]:
                    continue
                checked += 1
                text = label["text"]
                for line in text.split("\n"):
                    assert not line.strip().startswith("·") and not line.strip().endswith("·"), (run, name, text)
                for word in UNBROKEN:
                    for cut in range(1, len(word)):
                        assert word[:cut] + "\n" + word[cut:] not in text, (run, name, text)
                assert not re.search(r"\d\nh\b", text), (run, name, text)        # "2.5 / h this year"
                assert not re.search(r"\d\n(小时|分)", text), (run, name, text)
                assert not re.search(r"\d:\n\d", text), (run, name, text)          # "01: / 32"
    assert checked > 100


def test_the_scan_prompt_stays_on_one_line(audits):
    for size in SIZES:
        prompts = [label["text"] for label in audits[(size, "zh_CN")]["audit"]["home"]["labels"]
                   if label["text"] == "出示志愿者码"]
        assert prompts, size
        prompts = [label["text"] for label in audits[(size, "en")]["audit"]["home"]["labels"]
                   if label["text"].replace("\n", " ") == "Show your volunteer code here"]
        assert prompts and prompts[0].count("\n") <= 1, (size, prompts)


def test_each_outcome_says_what_to_do_next(audits):
    j = audits[("1280x800", "zh_CN")]
    # distinct icons: a clock for "already checked in", two checks for "already checked out"
    assert j["repeat_in_icon"] == "repeat" and j["repeat_out_icon"] == "repeat_out"
    assert "无需再扫" in j["repeat_out_next"] and "下次" in j["repeat_out_next"]
    assert "不足最短计时" in j["zero_next"]                 # a 0-hour check-out says why
    assert j["choose_done_text"] == "取消"                   # choosing an activity: the way out cancels
    texts = {name: [label["text"].replace("\n", "") for label in screen["labels"]]
             for name, screen in j["audit"].items()}
    assert "离开时请再次扫码签退" in texts["feedback-checked-in"]
    assert any("离开时再扫码签退" in t for t in texts["feedback-repeat-in"])
    assert any("本次 0 小时" in t for t in texts["feedback-zero"])
    en = audits[("720x1280", "en")]
    assert en["choose_done_text"] == "Cancel" and "minimum" in en["zero_next"]
