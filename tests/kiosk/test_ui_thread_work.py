"""Work that must not run on the kiosk's UI thread: the store's thread check, the page QR drawn
on the DB worker, the live camera read on its own thread (kiosk.capture)."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import numpy as np
import pytest

from kiosk.store import db
from kiosk.ui.services import KioskServices
from sync import mylink
from tests.kiosk.conftest import at


def test_thread_check_sees_statements_of_the_watched_thread_only(store):
    seen = []
    me = threading.get_ident()
    db.watch_thread(me, seen.append)
    try:
        store.count_pending()
        other = threading.Thread(target=store.count_refused)
        other.start()
        other.join()
    finally:
        db.unwatch_thread(me)
    store.count_pending()
    assert len(seen) == 1 and "outbox" in seen[0]       # this thread's one statement, not the other's


def test_a_check_out_carries_its_page_qr_drawn_off_the_ui_thread(store, badge):
    """The feedback screen only uploads pixels: the QR of the volunteer's page link is drawn by
    the DB worker with the decision (it used to be drawn on the UI thread)."""
    import zxingcpp
    store.settings.set(server_url="http://center.example:8000",
                       page_key=base64.urlsafe_b64encode(mylink.station_key("center secret", "WBY")).decode())
    clock = {"now": at("2026-11-30 09:00")}
    store.clock = lambda: clock["now"]
    services = KioskServices(store)
    token = badge("14020200001")
    workers = []

    def decide():
        workers.append(threading.get_ident())
        return services._decide(token, None, True)
    try:
        first = services._db.submit(decide).result(10)
        clock["now"] = at("2026-11-30 11:30")
        second = services._db.submit(decide).result(10)
    finally:
        services.shutdown()
    assert first.result == "checked_in" and getattr(first, "page_qr", None) is None
    assert second.result == "checked_out" and second.page_url.startswith("http://center.example:8000/me/")
    qr = second.page_qr
    assert workers and threading.get_ident() not in workers
    pixels = np.frombuffer(qr.rgb, np.uint8).reshape(qr.height, qr.width, 3)
    assert [r.text for r in zxingcpp.read_barcodes(pixels)] == [second.page_url]



def test_my_hours_carries_its_page_qr_drawn_off_the_ui_thread(store, badge):
    """我的时长 shows the same page QR: drawn by the DB worker with the answer, not on the UI thread."""
    import zxingcpp
    store.settings.set(server_url="http://center.example:8000",
                       page_key=base64.urlsafe_b64encode(mylink.station_key("center secret", "WBY")).decode())
    store.clock = lambda: at("2026-11-30 09:00")
    services = KioskServices(store)
    workers = []

    def decide():
        workers.append(threading.get_ident())
        return services._decide(badge("14020200001"), None, True)
    try:
        services.arm_my_hours(30)
        answer = services._db.submit(decide).result(10)
    finally:
        services.shutdown()
    assert answer.result == "my_hours" and answer.page_url.startswith("http://center.example:8000/me/")
    assert workers and threading.get_ident() not in workers
    qr = answer.page_qr
    pixels = np.frombuffer(qr.rgb, np.uint8).reshape(qr.height, qr.width, 3)
    assert [r.text for r in zxingcpp.read_barcodes(pixels)] == [answer.page_url]
    assert store.count_pending() == 0                     # nothing recorded

def _video(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    cv2 = pytest.importorskip("cv2")
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def test_capture_reads_a_recorded_camera_on_its_own_thread_and_loops(tmp_path):
    from kiosk.capture import Capture
    frames = [np.full((120, 160, 3), v, np.uint8) for v in (30, 220)]
    cap = Capture(str(_video(tmp_path / "cam.avi", frames)), fps=200, loop=True).start()
    try:
        seen = set()
        last = 0
        for _ in range(12):
            last, frame = cap.wait_frame(last, timeout=5)
            assert frame.shape == (120, 160, 3)
            seen.add(int(frame.mean()) // 100)          # dark (0) and light (2): both frames, again and again
        assert seen == {0, 2} and cap.frames_read >= 12 > len(frames)
        assert cap._thread.name == "weiguang-camera" and cap._thread is not threading.current_thread()
    finally:
        cap.stop()
    assert not cap.alive


def test_capture_reuses_its_frame_buffers_but_never_one_still_held(tmp_path):
    """Frames are read into buffers the capture reuses (no 900 KB array per frame left in the
    heaps), and a frame somebody still holds (the preview, the decoder) is never written over."""
    from kiosk.capture import Capture
    frames = [np.full((48, 64, 3), 10 * k, np.uint8) for k in range(20)]   # each frame its own grey
    cap = Capture(str(_video(tmp_path / "cam.avi", frames)), fps=400, loop=True).start()
    try:
        held, seen_at_take, last = [], [], 0
        for _ in range(9):                     # more than the pool keeps: it must read into new arrays then
            last, frame = cap.wait_frame(last, timeout=5)
            held.append(frame)
            seen_at_take.append(frame.copy())
        for _ in range(25):                    # the camera reads on meanwhile
            last, _frame = cap.wait_frame(last, timeout=5)
        _frame = None
        assert len({id(f) for f in held}) == 9                     # nine frames, nine arrays
        for frame, copy in zip(held, seen_at_take):
            assert np.array_equal(frame, copy)                     # none written over while held
        reused_before = cap.pool.reused
        held.clear()
        for _ in range(25):
            last, frame = cap.wait_frame(last, timeout=5)
        frame = None
        assert cap.pool.reused > reused_before                     # let go of: read into again
        assert len(cap.pool._buffers) <= cap.pool.size
        assert cap.backend == "CV_MJPEG"                           # OpenCV's own MJPEG reader, not ffmpeg
    finally:
        cap.stop()


def test_capture_reads_other_recordings_through_ffmpeg(tmp_path):
    cv2 = pytest.importorskip("cv2")
    from kiosk.capture import Capture
    path = tmp_path / "cam.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48))
    for v in (40, 200, 40):
        writer.write(np.full((48, 64, 3), v, np.uint8))
    writer.release()
    cap = Capture(str(path), fps=500, loop=False).start()
    try:
        cap._thread.join(5)
        assert cap.ended and cap.frames_read == 3 and cap.backend == "FFMPEG"
    finally:
        cap.stop()


def test_capture_of_a_missing_camera_says_so(tmp_path):
    from kiosk.capture import Capture, CaptureError
    with pytest.raises(CaptureError):
        Capture(str(tmp_path / "no-such-video.avi")).start()


def test_capture_of_a_file_ends_without_loop(tmp_path):
    from kiosk.capture import Capture
    frames = [np.full((64, 64, 3), 128, np.uint8)] * 3
    cap = Capture(str(_video(tmp_path / "cam.avi", frames)), fps=500, loop=False).start()
    try:
        cap._thread.join(5)
        assert cap.ended and cap.frames_read == 3
    finally:
        cap.stop()


def test_background_threads_run_below_the_ui_thread():
    import os
    import sys

    from kiosk.threads import lower_priority
    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread priorities are Linux's")
    seen = {}
    started = threading.Event()
    release = threading.Event()

    def work():
        seen["ok"] = lower_priority(10)
        started.set()
        release.wait(5)
    t = threading.Thread(target=work)
    t.start()
    started.wait(5)
    try:
        mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        theirs = os.getpriority(os.PRIO_PROCESS, t.native_id)
    finally:
        release.set()
        t.join()
    assert seen["ok"] and theirs == min(19, mine + 10)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine   # this thread untouched


def test_an_app_that_ends_on_an_exception_while_the_camera_reads_exits_with_its_traceback(tmp_path):
    """Python ending while the camera thread is inside OpenCV's read: without the exit hook
    glibc aborted the process (SIGABRT, "FATAL: exception not rethrown") and the exit code
    said a crash in C, not the app's exception."""
    import subprocess
    import sys
    frames = [np.full((240, 320, 3), v, np.uint8) for v in (30, 220)]
    video = _video(tmp_path / "cam.avi", frames * 20)
    script = ("import sys\n"
              "from kiosk.capture import Capture\n"
              f"cap = Capture({str(video)!r}, fps=100000, loop=True).start()\n"
              "cap.wait_frame(0, timeout=5)\n"
              "raise SystemExit(3)\n")
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                              cwd=Path(__file__).resolve().parents[2])
        assert done.returncode == 3, (done.returncode, done.stderr[-2000:])
        assert "FATAL" not in done.stderr
