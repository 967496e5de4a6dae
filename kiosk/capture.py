"""The live camera, read on its own thread (OpenCV), newest frame wins.

    cap = Capture(0, resolution=(640, 480))          # a camera index, or a recorded video file
    cap.start()
    frame_id, frame = cap.latest()                   # from the UI thread: never blocks
    cap.stop()

Why not Kivy's own OpenCV camera provider: it calls ``VideoCapture.read()`` on the UI thread,
and a camera's read blocks until its next frame is exposed (up to 1/fps: 33 ms at 30 fps), so the
screen would stall on the camera; and it does not know OpenCV 5 (it picks its constants by the
major version and sets up no device for a 5). Here a daemon thread reads, keeps only the newest
frame (an HxWx3 BGR uint8 array, as OpenCV gives it) and the UI thread takes it when it draws.

A video file (the benchmarks, the demo without a webcam) is read at its own frame rate (or
`fps`), looping when loop=True, through the same VideoCapture: the code path of a real camera.
No Kivy here: cv2 is imported only when a capture starts.

Frames are read into a few buffers the capture keeps and reuses (`read(image=buf)`), a buffer
only once nothing else holds it: a frame handed out stays as it was for as long as anybody
(the preview, the decoder, its waiting slot) keeps it. A new 900 KB array for each of 30–60
frames a second would be cut from the heaps of whichever threads free them, and glibc keeps
that space: about 10 MB of the kiosk's memory in the memory bench (bench/bench_ui.py).
"""

from __future__ import annotations

import atexit
import logging
import sys
import threading
import time
import weakref
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["Capture", "CaptureError"]


class CaptureError(RuntimeError):
    """The camera (or video) could not be opened."""


_RUNNING: "weakref.WeakSet[Capture]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """At exit, before the interpreter finalizes: stop every capture still reading. A daemon
    thread inside OpenCV's read when Python finalizes is ended by a forced unwind that OpenCV's
    C++ swallows, and glibc aborts the process ("FATAL: exception not rethrown"): an app that
    ends on an exception would end on SIGABRT, its traceback's exit code lost."""
    for cap in list(_RUNNING):
        try:
            cap.stop(timeout=2.0)
        except Exception:  # noqa: BLE001 - exiting anyway
            pass


class FramePool:
    """Output buffers for VideoCapture.read, reused once nobody else references them.

    A buffer is free when only the pool refers to it: numpy views (a reshape, a slice, a
    Frame wrapping one) hold a reference to the array they view, so a frame still being
    shown or decoded is never written over. Reference counts are read under the GIL, and a
    reference can only be copied by somebody who holds one: a buffer seen free stays free.
    """

    def __init__(self, size: int = 6):
        self.size = size
        self._buffers: list[Any] = []
        self.reused = 0

    def take(self) -> Any:
        """A free buffer, or None: then read() allocates one (kept while the pool has room)."""
        for i in range(len(self._buffers)):
            # references: the list, getrefcount's argument; anybody else's means in use
            if sys.getrefcount(self._buffers[i]) == 2:
                self.reused += 1
                return self._buffers[i]
        return None

    def keep(self, frame: Any, given: Any) -> None:
        """After a read: keep the array read() made, when it did not fill the one given."""
        if frame is given:
            return
        if given is not None:       # another size (a camera that changed mode): the old one goes
            self._buffers = [frame if b is given else b for b in self._buffers]
        elif len(self._buffers) < self.size:
            self._buffers.append(frame)


class Capture:
    def __init__(self, source: int | str = 0, resolution: tuple[int, int] = (640, 480),
                 fps: float | None = None, loop: bool = False):
        self.source = source
        self.resolution = resolution
        self.fps = fps
        self.loop = loop
        self.is_file = isinstance(source, str)
        self._cond = threading.Condition()
        self._frame: Any = None
        self._frame_id = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._device = None
        self.frames_read = 0
        self.failed_reads = 0
        self.ended = False
        self.pool = FramePool()
        self.backend = ""

    def start(self) -> "Capture":
        import cv2   # only a live camera (or a recorded video) needs OpenCV
        cv2.setNumThreads(1)           # the decoder has its own thread; no OpenCV pool on two cores
        device = None
        if self.is_file:
            # OpenCV's own Motion-JPEG reader: frames decoded by its libjpeg, as a USB camera's
            # MJPEG frames are (V4L2 backend); ffmpeg (≈ 9 MB once touched) only for other files
            device = cv2.VideoCapture(self.source, cv2.CAP_OPENCV_MJPEG)
            if not device.isOpened():
                device.release()
                device = None
        if device is None:
            device = cv2.VideoCapture(self.source)
        if not device.isOpened():
            device.release()
            raise CaptureError(f"cannot open camera {self.source!r}")
        if not self.is_file:
            device.set(cv2.CAP_PROP_FRAME_WIDTH, self.resolution[0])
            device.set(cv2.CAP_PROP_FRAME_HEIGHT, self.resolution[1])
        if self.fps is None and self.is_file:
            rate = device.get(cv2.CAP_PROP_FPS)
            self.fps = rate if 1 < rate < 240 else 30.0
        self._device = device
        self.backend = device.getBackendName()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="weiguang-camera", daemon=True)
        self._thread.start()
        _RUNNING.add(self)
        return self

    def latest(self) -> tuple[int, Any]:
        """(id, frame) of the newest frame read so far; id 0 and None before the first."""
        with self._cond:
            return self._frame_id, self._frame

    def wait_frame(self, after: int = 0, timeout: float | None = None) -> tuple[int, Any]:
        """Block until a frame newer than `after` is read (tests)."""
        with self._cond:
            self._cond.wait_for(lambda: self._frame_id > after or self.ended or self._stopping.is_set(), timeout)
            return self._frame_id, self._frame

    def stop(self, timeout: float = 3.0) -> None:
        self._stopping.set()
        _RUNNING.discard(self)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():   # stuck in the driver: releasing the device under it would crash
                log.warning("the camera thread did not stop within %.1f s", timeout)
                return
        self._thread = None
        if self._device is not None:
            self._device.release()
            self._device = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        import cv2
        device = self._device
        gap = 1.0 / self.fps if self.is_file and self.fps else 0.0
        due = time.monotonic()
        while not self._stopping.is_set():
            buffer = self.pool.take()
            # a camera blocks here until its next frame: this thread, not the UI
            ok, frame = device.read(buffer) if buffer is not None else device.read()
            if ok:
                self.pool.keep(frame, buffer)
            buffer = None   # not a reference of ours: the frame is the one handed out
            if not ok:
                if self.is_file and self.loop and self.frames_read:
                    device.set(cv2.CAP_PROP_POS_FRAMES, 0)
                    continue
                if self.is_file:
                    break
                if not self.failed_reads:
                    log.warning("camera %r gave no frame; trying again every 0.5 s", self.source)
                self.failed_reads += 1
                if self._stopping.wait(0.5):
                    break
                continue
            with self._cond:
                self.frames_read += 1
                self._frame, self._frame_id = frame, self._frame_id + 1
                self._cond.notify_all()
            if gap:                      # a file is read as fast as the disk goes: pace it like a camera
                due += gap
                delay = due - time.monotonic()
                if delay > 0:
                    self._stopping.wait(delay)
                else:
                    due = time.monotonic()
        with self._cond:
            self.ended = True
            self._cond.notify_all()
