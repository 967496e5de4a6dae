"""The kiosk's journeys, driven through the real window (see conftest.py and journeys.py):
assertions on what the screen said and on the rows in the kiosk database."""

from __future__ import annotations

import json

import pytest

from tests.kiosk.ui.conftest import ok

pytestmark = pytest.mark.ui


def flat(texts):
    """Labels as one line each: big words wrap between words (" · " parts lose their dot at a
    break, Chinese breaks after punctuation), so a test reads them unwrapped."""
    out = []
    for t in texts:
        out += [t.replace("\n", ""), t.replace("\n", " · "), t.replace("\n", " ")]
    return out


def test_check_in_then_out_then_repeat(journeys):
    j = ok(journeys["check_in_out"])
    assert any(t.startswith("签到成功 ") for t in j["checkin_labels"])
    assert "林*国，您好" in j["checkin_labels"] and "义诊体检" in j["checkin_labels"]
    assert j["checkin_background"][1] > j["checkin_background"][0]          # green
    assert "签退成功 · 本次 2.5 小时 · 今年累计 2.5 小时" in flat(j["checkout_labels"])
    assert "感谢您的服务！下次参加活动时再扫码签到" in flat(j["checkout_labels"])     # the next step
    assert "已签退" in j["repeat_labels"]
    assert j["returned_home"] is True
    # the start-up's objects are out of the collector's walks (a full collection held the GIL ≈ 40 ms)
    assert j["frozen_at_start"] > 20000
    # the frame the check-in arrives in lays out its words; the fade to them starts a frame later
    assert j["decision_frame"][0] == "home" and j["decision_frame"][1].startswith("签到成功 ")
    sessions = j.rows("SELECT vid, activity_id, minutes, closed_by FROM attendance")
    assert sessions == [("14020200001", "a1", 150, "scan")]
    assert j.rows("SELECT type FROM outbox ORDER BY seq") == [("checkin",), ("checkout",)]


def test_badge_held_20_seconds_gives_one_check_in(journeys):
    j = ok(journeys["held_20s"])
    assert any(t.startswith("签到成功") for t in j["checkin_labels"])
    assert j["frames"] >= 290                                    # 20 s at 15 fps went through the camera path
    assert j["decoder"]["decoded"] >= 20
    assert j["scans"]["decided"] == 1                            # the app's sliding de-dupe
    assert j.rows("SELECT COUNT(*) FROM attendance") == [(1,)]
    assert j.rows("SELECT type FROM outbox") == [("checkin",)]


def test_refusals_say_what_to_do_and_record_nothing(journeys):
    j = ok(journeys["refusals"])
    assert "证件已挂失，请联系站点管理员" in flat(j["revoked_labels"])
    assert j["revoked_background"][0] > 0.6                      # red
    assert any("不是微光志愿者码" in t for t in j["foreign_labels"])
    # the USB wedge (keyboard) scanner checked in the third volunteer
    assert any(t.startswith("签到成功") for t in j["wedge_labels"]) and "欧**娜，您好" in j["wedge_labels"]
    assert j.rows("SELECT vid FROM attendance") == [("14020200003",)]


def test_two_open_activities_tap_one(journeys):
    j = ok(journeys["two_open"])
    assert "请选择您参加的活动" in j["choose_labels"]
    assert any(t.startswith("文明交通劝导\n") for t in j["choose_labels"])
    assert any(t.startswith("义诊体检\n") for t in j["choose_labels"])
    assert "文明交通劝导" in j["checkin_labels"]
    assert j.rows("SELECT vid, activity_id FROM attendance") == [("14020200001", "a2")]


def test_browse_activities_and_order_a_service(journeys):
    j = ok(journeys["browse"])
    assert "本站活动" in j["list_labels"] and "健康义诊" in j["list_labels"]
    assert any(t.startswith("城市垃圾捡拾") for t in j["list_labels"])
    assert not any(t.startswith("城市垃圾捡拾") for t in j["health_labels"])   # filtered by category
    for text in ("文博苑社区卫生室", "邻里关照志愿服务队", "18", "手机扫码报名"):
        assert text in j["detail_labels"], text
    assert j["qr_size"][0] > 100
    for service in ("上门关怀", "家电维修", "理发", "助餐送餐", "陪诊就医", "法律咨询", "心理疏导", "代购代办"):
        assert service in j["menu_labels"], service                # the default menu (none pulled yet)
    assert j["bad_phone_message"] == "请输入11位手机号码（1开头）"
    assert j["typed_phone"] == "13912345678"
    assert j["order_number"] in j["order_message"] and j["order_number"] in j["receipt_labels"]
    assert "您的服务单号" in j["receipt_labels"]
    assert j.rows("SELECT service, phone, note FROM servicerequest") == [("家电维修", "13912345678", "冰箱不制冷")]
    assert "Show your volunteer code here" in flat(j["english_home"])


def test_coordinator_unlock_and_lockout(journeys):
    j = ok(journeys["coordinator_unlock"])
    assert any(t.startswith("管理模式\n") for t in j["choice_labels"])
    assert any(t.startswith("签到 / 签退\n") for t in j["choice_labels"])
    # no PIN from the center yet: no pad to choose one, the screen says whom to ask
    assert j["nopin_message"] == "管理密码由中心设置，请联系中心为您设置，同步后即可使用"
    assert j["nopin_pad"] == "none" and "尚无管理密码" in j["nopin_labels"]
    assert "管理模式 · 赵春燕" in j["coordinator_labels"]          # after the PIN: the full name
    assert j["wrong_messages"][:4] == [f"密码错误，还可尝试 {n} 次" for n in (4, 3, 2, 1)]
    assert j["wrong_messages"][4] == j["locked_message"] == "错误次数过多，请 5 分钟后再试"
    assert j["screen_after_lock"] == "unlock"                     # the right PIN does not help while locked
    (pins,) = j.rows("SELECT value FROM setting WHERE key = 'center_pins'")[0]
    assert "$argon2" in pins and "2468" not in pins
    (locks,) = j.rows("SELECT value FROM setting WHERE key = 'pin_locks'")[0]
    assert list(json.loads(locks)) == ["14020200009"]             # the lockout is this coordinator's
    assert j.rows("SELECT COUNT(*) FROM attendance") == [(0,)]   # managing is not attending


def test_coordinator_corrects_a_time_and_checks_out(journeys):
    j = ok(journeys["correct_time"])
    # coordinator mode names people in full (public screens mask them: 林*国)
    assert "林建国  ·  站点值班  ·  " in " ".join(j["here_labels"]) and "*" not in " ".join(j["here_labels"])
    assert any(t.startswith("林建国  ") for t in j["recent_labels"])
    # before a record is picked: no time preselected, nothing to save, the prompt points up
    before = j["before_pick"]
    assert before["field"] == "" and before["in"] == before["out"] == "normal"
    assert before["save_disabled"] and before["picker_disabled"]
    assert before["prompt"] == "请先在上方记录中点选要更正的一条" and before["records_y"] > before["prompt_y"]
    # the picker: -1 h +10 min +10 min +1 min -1 min
    assert j["new_check_in"] == j["picker_start"] - 40 * 60
    assert j["checkout_message"].startswith("已签退")
    assert j["corrected_message"] == "已更正"
    (check_in,) = j.rows("SELECT check_in_at FROM attendance WHERE vid = '14020200001'")[0]
    assert check_in == j["new_check_in"]
    from kiosk.ui.services import set_station_tz
    from zoneinfo import ZoneInfo
    set_station_tz(ZoneInfo("Asia/Shanghai"))
    from kiosk.ui.services import day_time
    assert j["picker_shown"] == day_time(check_in)
    assert j.rows("SELECT closed_by FROM attendance WHERE vid = '14020200003'") == [("coordinator",)]
    events = [t for (t,) in j.rows("SELECT type FROM outbox ORDER BY seq")]
    assert events == ["checkin", "checkin", "checkout", "correction"]
    (payload,) = j.rows("SELECT payload FROM outbox WHERE type = 'correction'")[0]
    assert "14020200009" in payload
    # the reason came from a chip, one tap, and is what the correction carries
    assert j["reason_before_chip"] == "" and j["reason_after_chip"] == "忘记扫码"
    assert json.loads(payload)["reason"] == "忘记扫码"


def test_sync_down_then_up(journeys):
    j = ok(journeys["sync_down_up"])
    assert j["enrol_message"] == "接入成功"
    assert j["home_net_state"] == "offline" and j["home_net"].startswith("未联网") and "待上传 2 条" in j["home_net"]
    assert j["down_pending"] == 2 and j["down_counts"].startswith("待上传 2 条")
    assert "上次失败：" in j["down_sync_text"] and "连不上中心服务器" in j["down_sync_text"]
    assert j["up_counts"].startswith("待上传 0 条") and "已上传 2 条" in j["up_counts"], j.rows("SELECT status, code, payload FROM outbox")
    assert j["up_status"]["ok"] and j["up_status"]["pending"] == 0
    assert j["up_status"]["last_success"] > j["up_status"]["last_failure"]
    assert "上次成功：" in j["up_sync_text"] and "上次成功：—" not in j["up_sync_text"]
    assert j["stats"]["events"] == {"checkin": 2} and j["stats"]["devices"] == 1
    assert j.rows("SELECT status, COUNT(*) FROM outbox GROUP BY status") == [("stored", 2)]


def test_look_up_a_request_and_rate_it(journeys):
    j = ok(journeys["status_and_rating"])
    assert j["wrong_digits_message"].startswith("暂时查不到")
    assert j["found_message"] == "家电维修：服务已完成"
    assert j["rated_message"].startswith("谢谢您的评价")
    import json
    [(payload,)] = j.rows("SELECT payload FROM outbox WHERE type = 'service_rating'")
    rating = json.loads(payload)
    assert (rating["number"], rating["last4"], rating["rating"], rating["comments"]) == \
        ("261130-17-001", "8000", 4, ["态度很好"])


def test_language_mark_large_text_and_the_unenrol_dialog(xdisplay, tmp_path):
    from tests.kiosk.ui.conftest import run_journey
    j = ok(run_journey(xdisplay, tmp_path / "settings", "settings_and_unenrol"))
    # the active language is marked (pressed, brand colour), the other is not
    assert (j["marks_zh"]["zh"], j["marks_zh"]["en"]) == ("down", "normal")
    assert j["marks_zh"]["zh_bg"] != j["marks_zh"]["en_bg"]
    assert (j["marks_zh_again"]["zh"], j["marks_zh_again"]["lang"]) == ("down", "zh_CN")
    assert (j["marks_en"]["zh"], j["marks_en"]["en"], j["marks_en"]["lang"]) == ("normal", "down", "en")
    assert j["device_marks"] == {"zh": "normal", "en": "down"}
    # 大字: the words larger still
    # (the English prompt fills its card's width already: it may only not shrink)
    assert j["prompt_px_large"] >= j["prompt_px_normal"] and j["list_px_large"] > j["list_px_normal"] * 1.25
    # no developer address on the device screen
    assert j["server_input"]["text"] == "" and "127.0.0.1" not in j["server_input"]["hint"]
    assert j["reset_below_enroll"] is True                   # set apart, after everything else
    # 解除接入 asks first; Cancel keeps the enrolment, Yes ends it
    assert any("Unenrol?" in t for t in j["dialog_labels"]) and "Yes, unenrol" in j["dialog_labels"]
    assert j["enrolled_while_asked"] is True and j["enrolled_after_cancel"] is True
    assert j["enrolled_after_yes"] is False and j["reset_message"]
