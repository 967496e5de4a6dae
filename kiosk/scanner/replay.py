"""Replay image files or a video as if they came from the kiosk camera (demo, tests, no webcam).

    for frame in ReplaySource("demo/badges/", fps=15, hold_seconds=2.0):
        decode(frame)                      # HxWx3 RGB uint8 numpy arrays

`path` is a directory of images (played in sorted name order; other files are skipped), a single
image, or a video file (anything OpenCV's VideoCapture opens). Each still image is repeated for
hold_seconds*fps frames, like a badge held in front of the camera, followed by `blank_frames` plain
grey frames (the badge taken away) before the next image. Video frames are yielded once each.
With loop=True the source never ends. Iteration does not sleep: the consumer paces it (every
`interval` seconds, e.g. with a Kivy Clock).

A directory with a `timeline.json` is played as that timeline says (the demo's story,
kiosk.demo_story): ``{"loop": false, "beats": [{"file": "01.png", "hold": 2, "pause": 14}, …]}``,
each picture held `hold` seconds, then `pause` seconds of plain grey; `loop` there wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = ["ReplaySource", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
_BLANK_GREY = 128


class ReplaySource:
    def __init__(
        self,
        path: str | Path,
        fps: float = 15,
        hold_seconds: float = 2.0,
        loop: bool = False,
        blank_frames: int = 1,
    ) -> None:
        if fps <= 0 or hold_seconds < 0 or blank_frames < 0:
            raise ValueError("fps must be > 0, hold_seconds and blank_frames >= 0")
        self.path = Path(path)
        self.fps = fps
        self.interval = 1.0 / fps
        self.loop = loop
        self.blank_frames = blank_frames
        self.hold_frames = max(1, round(hold_seconds * fps))
        self.timeline: list[tuple[Path, int, int]] | None = None
        if self.path.is_dir() and (self.path / "timeline.json").is_file():
            self._read_timeline(self.path / "timeline.json", fps)
            self.images = [image for image, _, _ in self.timeline]
        elif self.path.is_dir():
            self.images = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self.images:
                raise ValueError(f"no image files in {self.path}")
        elif self.path.is_file():
            self.images = [self.path] if self.path.suffix.lower() in IMAGE_SUFFIXES else []
            if not self.images:
                self._check_video()
        else:
            raise FileNotFoundError(f"replay source not found: {self.path}")

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            yield from (self._stills() if self.images else self._video())
            if not self.loop:
                return

    def _read_timeline(self, path: Path, fps: float) -> None:
        import json
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
            beats = [(self.path / b["file"], max(1, round(float(b.get("hold", 2)) * fps)),
                      max(0, round(float(b.get("pause", 0)) * fps))) for b in spec["beats"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} is not a replay timeline: {exc}") from None
        missing = [str(image) for image, _, _ in beats if not image.is_file()]
        if not beats or missing:
            raise ValueError(f"{path}: no beats, or missing pictures {missing}")
        self.timeline = beats
        self.loop = bool(spec.get("loop", self.loop))

    def _stills(self) -> Iterator[np.ndarray]:
        if self.timeline is not None:
            yield from self._timeline()
            return
        for i, path in enumerate(self.images):
            frame = load_rgb(path)
            frame.flags.writeable = False  # the same array is yielded hold_frames times
            for _ in range(self.hold_frames):
                yield frame
            if self.blank_frames and (self.loop or i < len(self.images) - 1):
                blank = np.full_like(frame, _BLANK_GREY)
                blank.flags.writeable = False
                for _ in range(self.blank_frames):
                    yield blank

    def _timeline(self) -> Iterator[np.ndarray]:
        for path, hold, pause in self.timeline:
            frame = load_rgb(path)
            frame.flags.writeable = False
            for _ in range(hold):
                yield frame
            if pause:
                blank = np.full_like(frame, _BLANK_GREY)
                blank.flags.writeable = False
                for _ in range(pause):
                    yield blank

    def _check_video(self) -> None:
        import cv2

        cap = cv2.VideoCapture(str(self.path))
        opened = cap.isOpened()
        cap.release()
        if not opened:
            raise ValueError(f"cannot open {self.path} as an image or a video")

    def _video(self) -> Iterator[np.ndarray]:
        import cv2  # only video replay needs OpenCV

        cap = cv2.VideoCapture(str(self.path))
        try:
            if not cap.isOpened():
                raise ValueError(f"cannot open {self.path} as a video")
            while True:
                ok, bgr = cap.read()
                if not ok:
                    return
                yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        finally:
            cap.release()


def load_rgb(path: str | Path) -> np.ndarray:
    """An image file as an HxWx3 RGB uint8 array."""
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))
