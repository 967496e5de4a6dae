"""camera4kivy's frame callback, fed real camera photos, through CameraFeed to the decoder thread.

camera4kivy's Preview cannot be fed without a camera: its analysed pixels are read back from a live
camera texture (CameraX on Android, Kivy's camera provider on a desktop), and this machine has
neither a camera nor Android. So these tests drive the exact body of its analyze_pixels_callback
(kiosk.camera_preview.PixelSink, called by the BadgePreview subclass) with real photographs of QR
codes taken by phone cameras (tests/data/qr-corpus/qrcode-3, ZXing's black-box set), laid out as
camera4kivy lays its pixels out (RGBA, rows top-down), and check the texts come out of the same
CameraFeed.submit_frame -> FrameDecoder path the OpenCV provider and the replay source use.
"""

from __future__ import annotations

import threading
import types
from pathlib import Path

import pytest
from PIL import Image

from kiosk import camera_preview
from kiosk.scanner.decoder import Frame

PHOTOS = Path(__file__).parents[1] / "data" / "qr-corpus" / "qrcode-3"


def camera4kivy_pixels(path: Path) -> tuple[bytes, tuple[int, int], str]:
    """A photo as camera4kivy hands it to analyze_pixels_callback: RGBA bytes, (w, h); and its text."""
    with Image.open(path) as img:
        rgba = img.convert("RGBA")
    expected = path.with_suffix(".txt").read_bytes().decode("utf-8").strip()
    return rgba.tobytes(), rgba.size, expected


def photos(n: int = 4) -> list[Path]:
    return sorted(p for p in PHOTOS.iterdir() if p.suffix in (".jpg", ".png"))[:n]


def test_frame_from_pixels_is_top_down_rgba():
    pixels, size, _ = camera4kivy_pixels(photos(1)[0])
    frame = camera_preview.frame_from_pixels(pixels, size)
    assert (frame.width, frame.height, frame.fmt, frame.bottom_up) == (*size, "rgba", False)
    assert frame.stride * frame.height == len(pixels)


def test_real_frames_reach_the_decoder_thread_through_camera_feed():
    from kiosk.camera import CameraFeed

    seen: list[list[str]] = []
    got = threading.Event()

    def on_texts(texts):
        seen.append(texts)
        got.set()

    feed = CameraFeed(on_texts=on_texts, max_decode_fps=1e9)
    try:
        preview_cls = camera_preview.preview_class()
        from camera4kivy import Preview

        assert issubclass(preview_cls, Preview)
        # The subclass's own callback, on a stand-in instance: a Preview widget needs a camera to exist.
        fake_preview = types.SimpleNamespace(sink=camera_preview.PixelSink(feed.submit_frame))
        for path in photos():
            pixels, size, expected = camera4kivy_pixels(path)
            got.clear()
            seen.clear()
            preview_cls.analyze_pixels_callback(fake_preview, pixels, size, (0, 0), 1.0, False)
            assert got.wait(60), f"{path.name}: no result from the decoder thread"
            feed.decoder.wait_idle(60)
            assert [t.strip() for t in seen[-1]] == [expected], path.name
        assert fake_preview.sink.frames == len(photos()) and fake_preview.sink.dropped == 0
    finally:
        feed.stop()


def test_a_short_frame_is_dropped_not_raised():
    submitted: list[Frame] = []
    sink = camera_preview.PixelSink(submitted.append)
    sink(b"\0" * 100, (8, 8), None, None, False)      # 8x8 RGBA needs 256 bytes
    sink(b"\0" * 256, (8, -8), None, None, False)     # a negative height
    sink(b"\0" * 256, (8, 8), None, None, False)
    assert sink.dropped == 2 and sink.frames == 1 and len(submitted) == 1


@pytest.mark.parametrize("env, platform, camera, expected", [
    ("", "linux", False, False),            # no camera: the OpenCV provider (which finds none either)
    ("", "linux", True, True),              # a desktop with a camera: the Preview
    ("camera4kivy", "linux", False, True),
    ("opencv", "linux", True, False),
    ("", "android", False, True),
    ("opencv", "android", False, False),
])
def test_which_camera_runs(monkeypatch, env, platform, camera, expected):
    import kivy.utils

    monkeypatch.setenv("WEIGUANG_CAMERA", env)
    monkeypatch.setattr(kivy.utils, "platform", platform)
    monkeypatch.setattr(camera_preview, "desktop_camera_present", lambda: camera)
    assert camera_preview.wanted() is expected


def test_without_a_camera_the_preview_gives_way(monkeypatch):
    """Asked for on a desktop with no camera, the Preview does not start and CameraFeed falls through."""
    monkeypatch.setattr(camera_preview, "preview_class", lambda: (_ for _ in ()).throw(RuntimeError("no camera")))
    assert camera_preview.open_preview(lambda f: None) is None
