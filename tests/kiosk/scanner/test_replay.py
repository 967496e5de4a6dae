"""kiosk.scanner.replay: image directories, single images and videos played as camera frames."""

from itertools import islice

import cv2
import numpy as np
import pytest
from PIL import Image

from kiosk.scanner.decoder import decode
from kiosk.scanner.replay import ReplaySource

from .helpers import qr_rgb

TEXTS = ["WG1:AAAA1111", "WG1:BBBB2222", "WG1:CCCC3333"]


@pytest.fixture
def badge_dir(tmp_path):
    # Names sort in a different order than they are written, and a non-image file sits among them.
    for name, text in zip(["b.png", "c.jpg", "a.png"], [TEXTS[1], TEXTS[2], TEXTS[0]]):
        Image.fromarray(qr_rgb(text, box=5)).save(tmp_path / name, quality=95)
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def test_directory_holds_each_image_then_a_blank(badge_dir):
    frames = list(ReplaySource(badge_dir, fps=10, hold_seconds=0.5))
    assert len(frames) == 3 * 5 + 2  # 5 frames per image, a blank between images
    for f in frames:
        assert f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3
    assert [decode(frames[i]) for i in (0, 4, 5, 6, 11, 12, 16)] == [
        [TEXTS[0]], [TEXTS[0]], [], [TEXTS[1]], [], [TEXTS[2]], [TEXTS[2]],
    ]


def test_no_blank_frames_and_frames_are_read_only(badge_dir):
    frames = list(ReplaySource(badge_dir, fps=4, hold_seconds=1.0, blank_frames=0))
    assert len(frames) == 12
    with pytest.raises(ValueError):
        frames[0][0, 0, 0] = 1  # one array yielded many times: no consumer may scribble on it


def test_loop_repeats_forever(badge_dir):
    src = ReplaySource(badge_dir, fps=2, hold_seconds=1.0, loop=True)
    frames = list(islice(src, 30))  # one pass is 3*2 + 3 blanks = 9 frames when looping
    assert len(frames) == 30
    assert decode(frames[9]) == [TEXTS[0]]


def test_single_image(tmp_path):
    path = tmp_path / "one.png"
    Image.fromarray(qr_rgb(TEXTS[0])).save(path)
    frames = list(ReplaySource(path, fps=15, hold_seconds=2.0))
    assert len(frames) == 30
    assert decode(frames[-1]) == [TEXTS[0]]


def test_video_round_trip(tmp_path):
    path = tmp_path / "badge.avi"
    badge = qr_rgb(TEXTS[1], box=6)
    h, w = badge.shape[:2]
    h, w = h + h % 2, w + w % 2
    badge = np.pad(badge, ((0, h - badge.shape[0]), (0, w - badge.shape[1]), (0, 0)), constant_values=240)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (w, h))
    assert writer.isOpened()
    for i in range(20):
        frame = badge if 5 <= i < 15 else np.full_like(badge, 128)
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()

    frames = list(ReplaySource(path))
    assert len(frames) == 20
    assert frames[0].shape == (h, w, 3)
    hits = [i for i, f in enumerate(frames) if decode(f) == [TEXTS[1]]]
    assert hits == list(range(5, 15))


def test_missing_and_bad_paths(tmp_path):
    with pytest.raises(FileNotFoundError):
        ReplaySource(tmp_path / "nope")
    with pytest.raises(ValueError, match="no image"):
        ReplaySource(tmp_path)  # empty directory
    bogus = tmp_path / "clip.mp4"
    bogus.write_bytes(b"this is not a video")
    with pytest.raises(ValueError, match="cannot open"):
        ReplaySource(bogus)
