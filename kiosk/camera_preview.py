"""camera4kivy's `Preview` as a camera source of CameraFeed: CameraX on Android, a desktop camera elsewhere.

camera4kivy (MIT, archived upstream: we own what we use of it) hands every analysed frame to one
method, `analyze_pixels_callback(pixels, image_size, image_pos, image_scale, mirror)`, on its own
analysis thread: `pixels` are the RGBA bytes of an Fbo it drew the camera texture into upside down,
so the rows come top-down, `image_size` is (width, height). This adapter turns them into a
kiosk.scanner.decoder.Frame and gives it to CameraFeed.submit_frame, the same door the OpenCV provider
and the replay source use, so the decoder thread sees one kind of input whichever camera runs.

Which source runs (CameraFeed._start_camera): the Preview on Android, and on a desktop that has a
camera (a /dev/video* device) and camera4kivy installed; else the existing OpenCV provider.
WEIGUANG_CAMERA=opencv or =camera4kivy forces one. The replay source stays for tests and the demo. The Preview cannot be fed without a camera (its pixels come from a live
camera texture), so tests drive `PixelSink` with real recorded frames, the exact callback body.
"""

from __future__ import annotations

import glob
import importlib.util
import logging
import os
from typing import Any, Callable

from kiosk.scanner.decoder import Frame

log = logging.getLogger(__name__)


def frame_from_pixels(pixels: bytes, image_size: tuple[int, int]) -> Frame:
    """camera4kivy's analysed pixels (RGBA, top-down, no row padding) as a decoder Frame."""
    w, h = (int(v) for v in image_size)
    return Frame(pixels, w, h, "rgba", stride=w * 4, bottom_up=False)


class PixelSink:
    """The body of analyze_pixels_callback: frame in, CameraFeed.submit_frame out. Bad frames are
    logged and dropped: the analysis thread must never die on one frame."""

    def __init__(self, submit: Callable[[Frame], Any]):
        self._submit = submit
        self.frames = 0
        self.dropped = 0

    def __call__(self, pixels: bytes, image_size, image_pos=None, image_scale=None, mirror=False) -> None:
        try:
            frame = frame_from_pixels(pixels, image_size)
            if len(pixels) != frame.stride * frame.height:
                raise ValueError(f"{len(pixels)} bytes for a {frame.width}x{frame.height} RGBA frame")
        except (TypeError, ValueError) as exc:
            self.dropped += 1
            log.warning("camera4kivy frame dropped: %s", exc)
            return
        self.frames += 1
        self._submit(frame)


def desktop_camera_present() -> bool:
    return bool(glob.glob("/dev/video*"))


def wanted() -> bool:
    """Should the live camera be camera4kivy's Preview here? Android; a desktop with a camera and
    camera4kivy; WEIGUANG_CAMERA=camera4kivy|opencv decides outright."""
    choice = os.environ.get("WEIGUANG_CAMERA", "")
    if choice in ("opencv", "camera4kivy"):
        return choice == "camera4kivy"
    from kivy.utils import platform

    if platform == "android":
        return True
    return desktop_camera_present() and importlib.util.find_spec("camera4kivy") is not None


def preview_class() -> type:
    """camera4kivy.Preview with the kiosk's analyze_pixels_callback (imported on first use)."""
    from camera4kivy import Preview

    class BadgePreview(Preview):
        sink: PixelSink | None = None

        def analyze_pixels_callback(self, pixels, image_size, image_pos, image_scale, mirror):
            if self.sink is not None:
                self.sink(pixels, image_size, image_pos, image_scale, mirror)

    return BadgePreview


def open_preview(submit: Callable[[Frame], Any], resolution: int = 720, camera_id: str = "back"):
    """A connected Preview widget feeding `submit`, or None when it cannot run here (logged)."""
    try:
        preview = preview_class()(aspect_ratio="4:3")
        preview.sink = PixelSink(submit)
        preview.connect_camera(camera_id=camera_id, enable_analyze_pixels=True,
                               analyze_pixels_resolution=resolution)
    except Exception as exc:  # noqa: BLE001 - no camera4kivy / no camera: the OpenCV provider is next
        log.warning("camera4kivy preview unavailable: %s", exc)
        return None
    return preview
