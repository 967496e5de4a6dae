"""The decoder's second attempt: what to try on a frame where the plain read found nothing.

    texts = second_attempt(gray, read, hints, budget)

`gray` is the frame as an HxW uint8 array; `read(image, **options)` is the backend's raw decode
call (kiosk.scanner.decoder.read_raw: zxing-cpp's wheel, or another backend behind the same call),
answering (texts, boxes): the texts of the QR codes it read, and the boxes (x0, y0, x1, y1) of
symbols it found but could not decode; `hints` are those boxes from the first read.

The steps answer the failures measured on generated camera frames of our badges (bench/camera_frames.py,
seed 2026; the bench measures on seed 2027):

1. `found_box_upscaled`: a symbol was found but not decoded (curved cards, strong tilt): its box,
   cut out with a margin, contrast stretched, sharpened and upscaled 2x, so the sampling grid lands
   on modules again. Cheap: the box is a small part of the frame.
2. `sharpened`: tiny modules, sensor noise, phone screens: the whole frame through an unsharp mask
   (sigma 1.5, amount 1.5); then what that read found but did not decode, cut out and upscaled.
3. `deblurred`: out of focus: the whole frame through a Wiener deconvolution of a Gaussian blur of
   sigma 1.75 px (noise-to-signal 0.02), separable, 11 taps (it reads blurs up to about 0.6 of a
   module, where an unsharp mask stops at about 0.5; a motion blur longer than about 1.5 modules
   is beyond both).
4. `denoised_deblurred`: washed out (low contrast, dim light): the same filter for sigma 1.5 px
   assuming more noise (0.08): it lifts the local contrast of module-sized detail without lifting
   the noise as much; it reads more washed-out frames than CLAHE (`contrast_equalised`, the step it
   replaced: 15 of 18 against 11 of 18 on the tuning frames) in half the time.

Which of 2-4 comes first is decided per frame from two numbers that cost about 1/10 of a read
(step_order): how steep the frame's steepest edges are against its grey range (a blurred or
washed-out frame has none as steep as a sharp one, whatever is in it) and the grey range itself.
Later steps run only while the budget has credit for them (see second_attempt). A sharp-looking
frame, where the steps read least often (on the tuning frames about 1 in 3; it is also what most
frames without a code look like), gets its first step only while the budget holds SHARP_RESERVE
frames' earnings; a blurred or washed-out one on any credit.

Every step reads with the same backend and the same QR Model 2-only format as the first read, and
keeps the error correction: a text comes only from a symbol whose Reed-Solomon check passed, so a
step can fail to read but cannot invent a text (tests/kiosk/scanner/test_second_attempt.py feeds it
thousands of images without a QR code).

Light-on-dark codes are not searched by default: the first read skips zxing's inverted pass (which
costs 1.5x to 4x the plain pass on a frame without a code) and so does every step, because our badges
are printed dark on light and a phone shows the badge image as it is (no corpus photo needs it
either). The step "inverted" exists for a caller that wants it (steps=ALL_STEPS).

`Budget` keeps the average cost (CPU time of the decoding thread) in bounds: each frame earns what
is left of 1.5x the raw decoder's time on it once the first read is paid. The raw decoder's time is
estimated from the first read's by the ratio of their sums over the last 20 of every 12th frame,
where the raw read is made too (a read paid from the budget; each counted at most 3x its first
read, against the scheduler's hiccups). A step runs only while the earned time is positive, and each
step's actual time is paid from it (a step may overdraw; later frames pay the debt). So over any run
of frames the decoder costs about 1.5x what raw zxing-cpp would have, plus at most one step. The
decoder pays its own wrapper's work from the budget as well (decoder.decode), so nothing it does is
left out of the sum; the raw time is estimated with the light-on-dark pass zxing-cpp makes by
default, and bench/bench_decode.py measures 1.34-1.43x against raw zxing-cpp in the same run.
Savings are capped (`max_frames` frames' worth), so a kiosk idling on empty frames does not bank a
burst.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["ALL_STEPS", "Budget", "STEPS", "UNLIMITED", "second_attempt"]

Box = tuple[int, int, int, int]
Read = Callable[..., tuple[list[str], list[Box]]]

STEPS = ("found_box_upscaled", "sharpened", "deblurred", "denoised_deblurred")
ALL_STEPS = STEPS + ("contrast_equalised", "inverted")


class Budget:
    """Time the second attempt may spend, earned by the first reads (see module docstring).

    share=None (the kiosk's): each frame earns what is left of `target` times the raw decoder's time
    on it once the first read is paid, target*k - 1 times the first read's time, where k, the raw
    read's cost over the first read's, is measured in the same process: every `calibrate_every`th
    frame the caller also makes the raw read (read_raw with every default) and reports both times to
    calibrate(), which pays for that read too. Before the first calibration k is taken as 1 (the
    first read does less than the raw one, so this is the cautious side). A number for share fixes
    the gain at share times the first read's time, with no calibration (the tests).
    """

    def __init__(self, share: float | None = None, max_frames: float = 20.0, target: float = 1.5,
                 calibrate_every: int = 12) -> None:
        self.share = share
        self.target = target
        self.max_frames = max_frames
        self.calibrate_every = calibrate_every
        self._credit = 0.0
        self._avg: float | None = None
        self._lock = threading.Lock()
        self._frames = 0
        self._calibrations = 0
        self._samples: list[tuple[float, float]] = []
        self.spent = 0.0
        self.earned = 0.0

    @property
    def raw_over_first(self) -> float:
        """k: the raw read's time over the first read's, measured (1 until measured; 1..3)."""
        if not self._samples:
            return 1.0
        # a ratio of sums (what the budget is about is total time), each raw read counted at
        # most 3x its first read: one read slowed down by the scheduler must not open the gates
        first = sum(f for f, _ in self._samples)
        raw = sum(min(r, 3 * f) for f, r in self._samples)
        return min(3.0, max(1.0, raw / first))

    def wants_calibration(self) -> str:
        """On every calibrate_every-th frame (the first included) when share is not fixed: "before"
        or "after" in turn (when to make the raw read: the one made second finds the frame in the
        CPU's cache); "" on the others."""
        with self._lock:
            self._frames += 1
            if self.share is not None or self._frames % self.calibrate_every != 1 % self.calibrate_every:
                return ""
            self._calibrations += 1
            return "after" if self._calibrations % 2 else "before"

    def calibrate(self, first_read_seconds: float, raw_read_seconds: float) -> None:
        with self._lock:
            # the last 20: the ratio follows the frames (resolution, scene) the kiosk sees
            if first_read_seconds > 0:
                self._samples = (self._samples + [(first_read_seconds, raw_read_seconds)])[-20:]
            self._credit -= raw_read_seconds
            self.spent += raw_read_seconds

    def earn(self, first_read_seconds: float) -> None:
        with self._lock:
            share = self.share if self.share is not None else self.target * self.raw_over_first - 1
            gain = max(0.0, share) * first_read_seconds
            self.earned += gain
            # the cap: max_frames frames' worth at the recent average (not this frame's: one quick
            # frame must not wipe out what slower ones saved)
            self._avg = gain if self._avg is None else 0.9 * self._avg + 0.1 * gain
            self._credit = min(self._credit + gain, self.max_frames * self._avg)

    def available(self, reserve: float = 0.0) -> bool:
        """Whether the credit is above `reserve` seconds (0: any credit at all)."""
        with self._lock:
            return self._credit > reserve

    def pay(self, seconds: float) -> None:
        with self._lock:
            self._credit -= seconds
            self.spent += seconds

    def savings(self, frames: float) -> float:
        """`frames` frames' earnings at the recent average, in seconds."""
        with self._lock:
            return frames * (self._avg or 0.0)


class _Unlimited:
    def available(self, reserve: float = 0.0) -> bool:
        return True

    def pay(self, seconds: float) -> None:
        pass

    def savings(self, frames: float) -> float:
        return 0.0


UNLIMITED = _Unlimited()


def _cv2():
    import cv2  # imported on first use: a frame that reads at once never needs OpenCV

    return cv2


def _stretch(img: np.ndarray) -> np.ndarray:
    """Map the 1st..99th percentile of the grey levels onto 0..255."""
    cv2 = _cv2()
    hist = cv2.calcHist([img], [0], None, [256], [0, 256]).ravel()
    cdf = np.cumsum(hist)
    total = cdf[-1]
    lo = int(np.searchsorted(cdf, total * 0.01))
    hi = int(np.searchsorted(cdf, total * 0.99))
    if hi - lo < 4:
        return img
    scale = 255.0 / (hi - lo)
    return cv2.convertScaleAbs(img, alpha=scale, beta=-lo * scale)


SHARPEN_BOX = 0  # 0: Gaussian


def _sharpen(img: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    cv2 = _cv2()
    if SHARPEN_BOX:
        return cv2.addWeighted(img, 1 + 2.5, cv2.blur(img, (SHARPEN_BOX, SHARPEN_BOX)), -2.5, 0)
    return cv2.addWeighted(img, 1 + amount, cv2.GaussianBlur(img, (0, 0), sigma), -amount, 0)


def _wiener_taps(sigma: float, nsr: float, radius: int) -> np.ndarray:
    """A 1-D Wiener deconvolution filter for a Gaussian blur of `sigma` pixels: H / (H^2 + nsr) in
    frequency, H the blur's transfer function, as 2*radius+1 taps summing to 1."""
    n = 256
    f = np.fft.rfftfreq(n)
    h = np.exp(-2 * np.pi ** 2 * sigma ** 2 * f ** 2)
    k = np.fft.irfft(h / (h * h + nsr), n)
    k = np.concatenate([k[-radius:], k[:radius + 1]]).astype(np.float32)
    return k / k.sum()


# (sigma, noise-to-signal ratio, radius): chosen on bench/camera_frames.py's frames, seed 2026
DEBLUR = (1.75, 0.02, 5)
DEBLUR_SOFT = (1.5, 0.08, 5)
_taps: dict[tuple, np.ndarray] = {}


def _deblur(img: np.ndarray, params: tuple = DEBLUR) -> np.ndarray:
    """Undo an out-of-focus blur of about params[0] pixels: the Wiener filter, separable (rows then
    columns), 11 taps: a fraction of a read's time."""
    taps = _taps.get(params)
    if taps is None:
        taps = _taps[params] = _wiener_taps(*params)
    return _cv2().sepFilter2D(np.ascontiguousarray(img), -1, taps, taps)


def _crop(gray: np.ndarray, box: Box, margin: float = 0.15) -> np.ndarray | None:
    h, w = gray.shape
    x0, y0, x1, y1 = box
    mx, my = int((x1 - x0) * margin) + 4, int((y1 - y0) * margin) + 4
    x0, y0, x1, y1 = max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)
    if x1 - x0 < 12 or y1 - y0 < 12:
        return None
    return gray[y0:y1, x0:x1]


def _box_upscaled(crop: np.ndarray, read: Read) -> list[str]:
    cv2 = _cv2()
    # Enough pixels per module after the 2x, but never a huge image (a box that fills the frame).
    f = 2.0 if max(crop.shape) <= 480 else 960.0 / max(crop.shape)
    img = _sharpen(_stretch(np.ascontiguousarray(crop)), 1.0, 1.0)
    img = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    texts, _ = read(img, try_invert=False)
    return texts


def _triage(gray: np.ndarray) -> tuple[float, int]:
    """(sharpness, grey range) of the frame, in about 1/10 of a read's time: the 99.5th percentile
    of the difference between neighbouring pixels along a row, over the 1st..99th percentile range
    of the grey levels, both on every 8th row. A washed-out frame has a narrow range (below 140 of
    255 on the generated frames, where the others have 150 and more); of the others, a sharp frame
    has edges nearly as steep as its range (badge modules, text, noise: 0.23 and more) and an
    out-of-focus one has none (0.13-0.17 where a step can read it)."""
    cv2 = _cv2()
    rows = np.ascontiguousarray(gray[:: max(1, min(8, gray.shape[0] // 32))])
    dx = cv2.absdiff(rows[:, 1:], rows[:, :-1])
    steep = cv2.calcHist([dx], [0], None, [256], [0, 256]).ravel().cumsum()
    levels = cv2.calcHist([rows], [0], None, [256], [0, 256]).ravel().cumsum()
    d = int(np.searchsorted(steep, steep[-1] * 0.995))
    lo, hi = int(np.searchsorted(levels, levels[-1] * 0.01)), int(np.searchsorted(levels, levels[-1] * 0.99))
    return d / max(hi - lo, 1), hi - lo


SHARP_RESERVE = 2.0  # frames' earnings a sharp-looking frame leaves in the budget (second_attempt)
NARROW_RANGE = 140  # grey range below which a frame is taken for washed out (_triage)
SOFT_EDGES = 0.2  # sharpness below which another frame is taken for blurred


def step_order(gray: np.ndarray, steps: Sequence[str] = STEPS) -> list[str]:
    return _step_order(gray, steps)[0]


def _step_order(gray: np.ndarray, steps: Sequence[str]) -> tuple[list[str], bool]:
    """The whole-frame steps in the order this frame calls for (_triage): a sharp frame (small
    modules, noise, a phone screen, a bent card) is sharpened first; a blurred one deblurred; a
    washed-out one gets the soft deblur (a Wiener filter assuming more noise, which stretches the
    local contrast without raising the noise as much). The found box, when there is one, always
    comes first (it is cheap); the CLAHE and light-on-dark steps, when asked for, last."""
    sharpness, spread = _triage(gray)
    if spread < NARROW_RANGE:  # washed out (its noise may look like sharp edges, against so little range)
        wanted = ["denoised_deblurred", "sharpened", "deblurred"]
    elif sharpness < SOFT_EDGES:
        wanted = ["deblurred", "denoised_deblurred", "sharpened"]
    else:
        wanted = ["sharpened", "denoised_deblurred", "deblurred"]
    order = [s for s in ("found_box_upscaled",) if s in steps] + [s for s in wanted if s in steps]
    return order + [s for s in steps if s not in order], wanted[0] != "sharpened"


def second_attempt(gray: np.ndarray, read: Read, hints: Sequence[Box] = (), budget=UNLIMITED,
                   steps: Sequence[str] = STEPS) -> list[str]:
    """Texts found by the steps above, stopping at the first that reads; [] when none does or the
    budget runs out. `budget=UNLIMITED` (the default) runs every step (the tests).

    The frame's first whole-frame step runs whenever the budget has credit; each later one only
    while the credit left is at least what the previous step cost, so that when time is short
    every frame gets the step it most likely needs before any frame gets a second one."""
    if gray.ndim != 2 or gray.dtype != np.uint8 or min(gray.shape) < 21:
        return []
    unknown = [s for s in steps if s not in ALL_STEPS]
    if unknown:
        raise ValueError(f"unknown step {unknown[0]!r}: expected one of {ALL_STEPS}")
    reserve = [0.0]

    def run(fn) -> list[str]:
        if not budget.available(reserve[0]):
            return []
        t0 = time.thread_time()
        try:
            return fn()
        finally:
            cost = time.thread_time() - t0
            budget.pay(cost)
            reserve[0] = max(reserve[0], cost)

    def whole(image_fn) -> Callable[[], list[str]]:
        return lambda: read(image_fn(), try_invert=False)[0]

    more_hints: list[Box] = []
    t0 = time.thread_time()
    order, soft = _step_order(gray, steps) if len(steps) > 1 else (list(steps), True)
    budget.pay(time.thread_time() - t0)
    for step in order:
        if step == "found_box_upscaled":
            for box in list(hints)[:2]:
                crop = _crop(gray, box)
                if crop is not None and (texts := run(lambda: _box_upscaled(crop, read))):
                    return texts
            # The found box is cheap. The first whole-frame step runs on any credit on a blurred or
            # washed-out frame, where it reads most often; on a sharp-looking one (small modules,
            # a bent card, noise, most frames without a code) only while the credit holds
            # SHARP_RESERVE frames' earnings, so that they cannot starve the others.
            reserve[0] = 0.0 if soft else budget.savings(SHARP_RESERVE)
        elif step == "sharpened":
            def sharpened() -> list[str]:
                texts, boxes = read(_sharpen(gray, 1.5, 1.5), try_invert=False)
                more_hints.extend(boxes)
                return texts

            if texts := run(sharpened):
                return texts
            for box in more_hints[:1]:
                crop = _crop(gray, box)
                if crop is not None and (texts := run(lambda: _box_upscaled(crop, read))):
                    return texts
        elif step == "deblurred":
            if texts := run(whole(lambda: _deblur(gray))):
                return texts
        elif step == "denoised_deblurred":
            if texts := run(whole(lambda: _deblur(gray, DEBLUR_SOFT))):
                return texts
        elif step == "contrast_equalised":
            clahe = _cv2().createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
            if texts := run(whole(lambda: clahe.apply(np.ascontiguousarray(gray)))):
                return texts
        elif step == "inverted":
            if texts := run(whole(lambda: _cv2().bitwise_not(gray))):
                return texts
    return []
