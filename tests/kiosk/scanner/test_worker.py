"""kiosk.scanner.worker: decoding off the caller's thread, newest frame wins."""

import threading
import time

import numpy as np
import pytest

from kiosk.scanner.decoder import Frame
from kiosk.scanner.worker import FrameDecoder

from .helpers import BADGE, qr_rgb


class Recorder:
    def __init__(self):
        self.calls = []  # (texts, frame_id, thread)
        self.lock = threading.Lock()

    def __call__(self, texts, frame_id):
        with self.lock:
            self.calls.append((texts, frame_id, threading.current_thread()))


@pytest.fixture
def worker_factory():
    made = []

    def make(**kw):
        w = FrameDecoder(**kw)
        made.append(w)
        return w

    yield make
    for w in made:
        w.stop()


def test_latest_frame_wins(worker_factory):
    gate, started = threading.Event(), threading.Event()

    def slow_decode(frame):
        if frame == 0:  # hold the worker busy on the first frame while the rest pour in
            started.set()
            assert gate.wait(5)
        return [f"text-{frame}"]

    rec = Recorder()
    w = worker_factory(on_result=rec, decode=slow_decode)
    assert w.submit(0) == 1
    assert started.wait(5)
    ids = [w.submit(i) for i in range(1, 50)]
    gate.set()
    assert w.wait_idle(5)
    assert ids[-1] == 50
    assert [(t, i) for t, i, _ in rec.calls] == [(["text-0"], 1), (["text-49"], 50)]
    assert (w.submitted, w.decoded, w.dropped, w.failed) == (50, 2, 48, 0)


def test_results_come_from_the_worker_thread_only_when_found(worker_factory):
    rec = Recorder()
    w = worker_factory(on_result=rec, decode=lambda f: [] if f == "blank" else [f])
    w.submit("blank")
    w.wait_idle(5)
    w.submit("WG1:X")
    assert w.wait_idle(5)
    assert [(t, i) for t, i, _ in rec.calls] == [(["WG1:X"], 2)]
    assert rec.calls[0][2] is not threading.current_thread()
    assert w.decoded == 2


def test_fast_stream_of_real_frames(worker_factory):
    rgb = qr_rgb()
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    h, w_ = rgba.shape[:2]
    frame = Frame(rgba.tobytes(), w_, h, "rgba")
    rec = Recorder()
    w = worker_factory(on_result=rec)  # the real decoder
    t0 = time.perf_counter()
    last = 0
    for _ in range(200):
        last = w.submit(frame)
    assert time.perf_counter() - t0 < 0.5  # submit never waits for a decode
    assert w.wait_idle(10)
    assert w.dropped > 0
    assert rec.calls[-1][:2] == ([BADGE], last)
    assert w.submitted == w.decoded + w.dropped + w.failed == 200


def test_decode_errors_are_counted_and_the_worker_survives(worker_factory):
    def flaky(frame):
        if frame == "bad":
            raise ValueError("boom")
        return [frame]

    rec = Recorder()
    w = worker_factory(on_result=rec, decode=flaky)
    w.submit("bad")
    w.wait_idle(5)
    w.submit("good")
    assert w.wait_idle(5)
    assert w.failed == 1 and w.decoded == 1
    assert [t for t, _, _ in rec.calls] == [["good"]]


def test_stop_joins_and_refuses_more_frames():
    w = FrameDecoder(on_result=lambda t, i: None, decode=lambda f: [])
    assert w.alive
    w.stop()
    assert not w.alive
    with pytest.raises(RuntimeError):
        w.submit("late")
