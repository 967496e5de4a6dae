"""Camera (or replayed frames) -> preview texture + FrameDecoder, for the Kivy app.

    feed = CameraFeed(on_texts=services_submit)     # on_texts(texts) is called on the decoder thread
    feed.start(replay="demo-data/replay")           # or replay=None: the live camera (see below)
    feed.start(video="recorded.avi")                 # a recorded video through the live camera's path
    image.texture = feed.texture                     # bind: feed.bind(texture=...)
    feed.play(ReplaySource(...))                     # switch to another replayed source (tests, demo)
    feed.stop()

Both sources take the same path: each frame is shown in the preview (only when it changed)
and handed to FrameDecoder, which decodes off the UI thread and keeps only the newest frame.
A live frame is never read back from the GPU.

The live camera is camera4kivy's Preview where it runs (Android; a desktop with a camera:
kiosk/camera_preview.py), else kiosk.capture: OpenCV reads the camera on its own
thread (Kivy's own OpenCV provider read it on the UI thread, and knows no OpenCV 5) and the UI
thread takes the newest frame when it ticks. The Preview is
a widget that draws itself (`preview`, shown by the home screen in place of the texture) and hands
its analysed frames to submit_frame on its own thread, like every other source.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import numpy as np
from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from kiosk.scanner.decoder import Frame
from kiosk.scanner.worker import FrameDecoder

log = logging.getLogger(__name__)


class CameraFeed(EventDispatcher):
    texture = ObjectProperty(None, allownone=True)
    running = BooleanProperty(False)
    source = StringProperty("none")          # none / camera / replay
    frames = NumericProperty(0)              # frames shown so far
    preview = ObjectProperty(None, allownone=True)   # camera4kivy's Preview widget, when it is the camera

    def __init__(self, on_texts: Callable[[list[str]], Any], decode: Callable | None = None,
                 camera_index: int = 0, resolution=(640, 480), max_decode_fps: float = 15, **kwargs):
        super().__init__(**kwargs)
        self._on_texts = on_texts
        kw = {"decode": decode} if decode else {}
        self.decoder = FrameDecoder(on_result=lambda texts, frame_id: self._on_texts(texts), **kw)
        from kiosk.threads import DECODER_NICE, lower_priority
        lower_priority(DECODER_NICE, self.decoder._thread)
        self.camera_index = camera_index
        self.resolution = resolution
        self._min_gap = 1.0 / max_decode_fps
        self._last_submit = 0.0
        self._replay_iter = None
        self._replay_event = None
        self._camera = None
        self._last_frame = None
        self._tex = None
        self.decoding = True

    # --- sources ---------------------------------------------------------------------------

    def start(self, replay: str | None = None, fps: float = 15, hold_seconds: float = 3.0, loop: bool = True,
              video: str | None = None) -> bool:
        """replay: image files (or a video) decoded as RGB, paced by the Kivy clock; video: a
        recorded file through the live camera's own path (kiosk.capture); neither: the camera."""
        if video:
            return self._start_camera(video, loop=loop)
        if replay:
            from kiosk.scanner.replay import ReplaySource
            try:
                source = ReplaySource(replay, fps=fps, hold_seconds=hold_seconds, loop=loop, blank_frames=int(fps * 1.5))
            except (ValueError, FileNotFoundError) as exc:
                log.error("replay source %s: %s", replay, exc)
                return False
            self.play(source)
            return True
        return self._start_camera()

    def play(self, source, decode: bool = True) -> None:
        """Replay `source` (an iterable of HxWx3 RGB frames with an `interval`) from now on;
        decode=False only shows it (screenshots)."""
        self._stop_sources()
        self.decoding = decode
        self._replay_iter = iter(source)
        interval = getattr(source, "interval", 1 / 15)
        self._replay_event = Clock.schedule_interval(self._replay_tick, interval)
        self.source, self.running = "replay", True

    def _replay_tick(self, dt) -> bool | None:
        try:
            frame = next(self._replay_iter)
        except StopIteration:
            self._replay_event = None
            self.running = False
            return False
        self.show_frame(frame)
        return None

    def _start_camera(self, source: int | str | None = None, loop: bool = False) -> bool:
        from kiosk import camera_preview

        if source is None and camera_preview.wanted():
            preview = camera_preview.open_preview(self.submit_frame)
            if preview is not None:
                self.preview = preview
                self.decoding = True
                self.source, self.running = "preview", True
                return True
        from kiosk.capture import Capture
        self._stop_sources()
        try:
            cam = Capture(self.camera_index if source is None else source, resolution=self.resolution,
                          loop=loop).start()
        except Exception as exc:  # noqa: BLE001 - no camera: the kiosk still takes wedge scans
            log.warning("no camera: %s", exc)
            self.source, self.running = "none", False
            return False
        self._camera = cam
        self._camera_seen = 0
        self.decoding = True
        # a camera gives 30 frames a second at most; the loop looks twice as often
        self._replay_event = Clock.schedule_interval(self._camera_tick, 1 / 60)
        self.source, self.running = "camera", True
        return True

    def _camera_tick(self, dt) -> None:
        frame_id, frame = self._camera.latest() if self._camera is not None else (0, None)
        if frame_id == self._camera_seen or frame is None:
            return
        self._camera_seen = frame_id
        # OpenCV's BGR: shown as such, and the decoder is told so (grey weights differ by channel)
        self.show_frame(frame, colorfmt="bgr")

    # --- one frame: preview + decode ----------------------------------------------------

    def show_frame(self, frame: np.ndarray, colorfmt: str = "rgb") -> None:
        """Show an HxWx3 frame (RGB, or a camera's BGR) in the preview (if it changed) and hand
        it to the decoder."""
        if frame is not self._last_frame:
            h, w = frame.shape[:2]
            tex = self._tex
            if tex is None or tuple(tex.size) != (w, h):
                tex = self._tex = Texture.create(size=(w, h), colorfmt="rgb")
                tex.flip_vertical()
            # a camera frame is uploaded straight from its memory (no copy on the UI thread);
            # Kivy takes no read-only view, so a replayed (read-only) frame goes as bytes
            if frame.flags.c_contiguous and frame.flags.writeable:
                data = memoryview(frame).cast("B")
            else:
                data = np.ascontiguousarray(frame).tobytes()
            tex.blit_buffer(data, colorfmt=colorfmt, bufferfmt="ubyte")
            self._last_frame = frame
            if tex is not self.texture:
                self.texture = tex
            else:
                self.property("texture").dispatch(self)
        self.frames += 1
        self.hand_to_decoder(frame, colorfmt)

    def hand_to_decoder(self, frame: np.ndarray, colorfmt: str = "rgb") -> None:
        """A bare array is read as RGB: a camera's BGR frame goes as a Frame that says so,
        or the decoder's grey weights are wrong."""
        if colorfmt == "rgb":
            self._submit(frame)
        else:
            h, w = frame.shape[:2]
            self._submit(Frame(np.ascontiguousarray(frame).reshape(-1), w, h, colorfmt))

    def submit_frame(self, frame) -> None:
        """Any camera thread's door to the decoder (rate-limited; the decoder keeps the newest)."""
        self._submit(frame)

    def _submit(self, frame) -> None:
        if not self.decoding:
            return
        now = time.monotonic()
        if now - self._last_submit < self._min_gap:
            return
        self._last_submit = now
        self.decoder.submit(frame)

    # --- stopping ------------------------------------------------------------------------

    def _stop_sources(self) -> None:
        if self._replay_event is not None:
            self._replay_event.cancel()
            self._replay_event = None
        self._replay_iter = None
        if self.preview is not None:
            try:
                self.preview.disconnect_camera()
            except Exception:  # noqa: BLE001
                pass
            self.preview = None
        if self._camera is not None:
            try:
                self._camera.stop()
            except Exception:  # noqa: BLE001
                pass
            self._camera = None
        self.running = False

    def stop(self) -> None:
        self._stop_sources()
        self.decoder.stop()
