"""Through the real window: a backlog syncing to a real server while a badge is scanned (the
status line follows the sync agent's counters, and the UI thread runs no SQL meanwhile), and
the live camera's path fed by a recorded video."""

from __future__ import annotations

import pytest

from tests.kiosk.ui.conftest import ok, run_journey

pytestmark = pytest.mark.ui


def test_status_line_follows_the_sync_and_the_ui_thread_never_queries(xdisplay, tmp_path):
    j = ok(run_journey(xdisplay, tmp_path / "sync_backlog", "sync_backlog", timeout=240))
    assert j["ui_thread_sql"] == []                       # the store's thread check saw nothing
    assert any(t.startswith("签到成功") for t in j["checkin_labels"])
    assert "正在同步…" in j["net_texts"]
    assert j["net_text"] == "在线"                          # synced: online, nothing pending
    pending = j["pending_seen"]
    assert pending[-1] == 0                                # the worker's counter, read once a second
    assert any(0 < p < 600 for p in pending)               # seen going down batch by batch, not only at the end
    assert j.rows("SELECT COUNT(*) FROM outbox WHERE status = 'pending'") == [(0,)]


def test_a_recorded_camera_video_checks_a_volunteer_in_through_the_capture_thread(xdisplay, tmp_path):
    j = ok(run_journey(xdisplay, tmp_path / "camera_video", "camera_video"))
    assert j["started"] is True and j["source"] == "camera"
    assert any(t.startswith("签到成功") for t in j["checkin_labels"]) and "林*国，您好" in j["checkin_labels"]
    assert j["capture_thread"] == "weiguang-camera" and j["capture_not_ui"]
    assert j["frames_read"] > 0 and j["preview"] == [640, 480]
    assert j["stopped"]
    assert j.rows("SELECT vid FROM attendance") == [("14020200001",)]
