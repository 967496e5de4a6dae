"""QR decoding for the kiosk, on zxing-cpp.

    from kiosk.scanner.decoder import Frame, decode

    decode(Image.open("badge.png"))                 # a PIL image
    decode(rgb_array)                               # numpy uint8: HxW gray, HxWx3 RGB, HxWx4 RGBA
    decode(Frame(texture.pixels, w, h, "rgba", bottom_up=True))   # a Kivy camera texture
    decode(Frame(bgr_array, w, h, "bgr"))           # OpenCV's camera frames: BGR order

`decode` returns the text of every QR code found, each text once (an empty list when there is none) and raises
ValueError on input it cannot interpret. Only QR Model 2 codes are searched for, the symbology our
badges use: not looking for 1-D and other 2-D symbologies is both faster and rules out misreads as
e.g. a barcode. It is pinned to `BarcodeFormat.QRCodeModel2`, not `QRCode`: in zxing-cpp 3.x `QRCode`
also means Micro QR and rMQR, and on a tilted badge it once read a Micro QR "7430" out of the
badge's own finder pattern. Results of any other format are dropped as well, in case a later
version widens the name again.

The first read skips zxing's light-on-dark pass (our badges are dark on light; on a frame without a
code that pass costs more than the plain one). A frame where it finds nothing gets a second attempt
(kiosk/scanner/second_attempt.py: the found-but-undecoded symbol cut out and upscaled, a sharpened
frame, a deblurred frame, a softly deblurred one for washed-out frames, in the order the frame calls
for), paid from a budget: what is left of 1.5x raw zxing-cpp's time
once the first read is paid, raw's time measured now and then in the same process (Budget in
second_attempt.py), so the average stays within 1.5x of raw zxing-cpp (bench/bench_decode.py).
`read_raw` is the one call into the decoding library, the seam for another backend: the first read,
the calibration read and every step of the second attempt go through it.

Colour is turned into grey with the true channel order: arrays and PIL images are RGB(A); a Frame
says its order (`rgb`, `rgba`, `bgr`, `bgra`), and the camera path (kiosk/camera.py) hands OpenCV's
BGR frames over as `bgr` Frames. Reading BGR as RGB gives the wrong grey weights (blue counted as
red): a badge under coloured light reads worse.

Pixels are not copied on the way in where zxing-cpp can read them in place: camera bytes are wrapped
in numpy views / zxing ImageViews that honour the row stride, and a bottom-up gray frame is flipped by
a negative-stride view. zxing-cpp takes no negative stride for colour (its ImageView rejects one, and
its ndarray path reads 3 channels as BGR and refuses 4). So a bottom-up colour frame, which is what a
Kivy texture gives, is turned into gray by OpenCV (same luma weights as zxing's) straight from the
bottom-up bytes, and that gray is flipped by a view: this pass replaces the RGBA->luma pass zxing
would make anyway, so it costs nothing (about 1.0x raw zxing in bench/bench_decode.py), where a
flipped RGBA copy measured 1.2x (memory-bound: 3.7 MB per 720p frame). Reading the frame unflipped
would also decode, as zxing accepts mirrored QR, but would hand zxing a mirror image of the scene.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
import time
from typing import Any

import numpy as np

from kiosk.scanner.backend import zxingcpp  # the zxing-cpp wheel, or its C API through ctypes (backend.py)

from kiosk.scanner.second_attempt import Budget, second_attempt

__all__ = ["Frame", "decode", "read_raw"]

_QR_ONLY = zxingcpp.BarcodeFormat.QRCodeModel2
# What zxing-cpp 3.1 reports for a Model 2 symbol read with QRCodeModel2 is `QRCode`.
_ACCEPTED = frozenset({zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.QRCodeModel2})
_BYTES_PER_PIXEL = {"gray": 1, "rgb": 3, "rgba": 4, "bgr": 3, "bgra": 4}
_ZX_COLOUR = {3: zxingcpp.ImageFormat.RGB, 4: zxingcpp.ImageFormat.RGBA}
_ZX_FORMAT = {"rgb": zxingcpp.ImageFormat.RGB, "rgba": zxingcpp.ImageFormat.RGBA,
              "bgr": zxingcpp.ImageFormat.BGR, "bgra": zxingcpp.ImageFormat.BGRA}
_CV_TO_GRAY = {"rgb": "COLOR_RGB2GRAY", "rgba": "COLOR_RGBA2GRAY", "bgr": "COLOR_BGR2GRAY", "bgra": "COLOR_BGRA2GRAY"}
BUDGET = Budget()  # the second attempt's time, shared by every decode() in this process
# The budget counts this thread's CPU time, not the wall clock: a kiosk shares its CPU, and a read
# the scheduler interrupted must not count as a slow one.
_clock = time.thread_time


@dataclass(frozen=True, slots=True)
class Frame:
    """Raw camera pixels, as a Kivy texture (or most camera APIs) hands them over.

    stride is the number of bytes per row (None: width * bytes-per-pixel, i.e. no padding);
    bottom_up means the first row in `data` is the bottom of the picture (OpenGL textures).
    """

    data: bytes | bytearray | memoryview
    width: int
    height: int
    fmt: str = "rgba"
    stride: int | None = None
    bottom_up: bool = False


def decode(source: Any) -> list[str]:
    """Texts of the QR codes in `source` (a PIL image, a uint8 numpy array or a Frame)."""
    entered, spent = _clock(), BUDGET.spent
    texts, first = _decode(source)
    # What this call cost beyond its first read and what the budget already paid (the calibration
    # read, the second attempt): the wrapper's own work (wrapping the pixels, the grey copy, the
    # budget's bookkeeping) is paid from the budget too, so the whole call stays within the target.
    BUDGET.pay(max(0.0, (_clock() - entered) - first - (BUDGET.spent - spent)))
    return texts


def _decode(source: Any) -> tuple[list[str], float]:
    # `keep` holds whatever buffer the zxing image points into: an ImageView does not keep its
    # buffer alive by itself.
    image, keep = _zxing_image(source)
    # Now and then the raw read too, to know what the budget is; before or after the first read in
    # turn, as whichever comes second finds the frame in the CPU's cache.
    calibration = BUDGET.wants_calibration()
    raw_texts, raw_time = [], 0.0
    if calibration == "before":
        t1 = _clock()
        raw_texts, _ = read_raw(image)
        raw_time = _clock() - t1
    t0 = _clock()
    texts, boxes = read_raw(image, try_invert=False)  # no light-on-dark pass (module docstring)
    first = _clock() - t0
    if calibration == "after":
        t1 = _clock()
        raw_texts, _ = read_raw(image)
        raw_time = _clock() - t1
    if calibration:
        BUDGET.calibrate(first, raw_time)
        texts = texts or raw_texts  # a light-on-dark code: read, so not thrown away
    BUDGET.earn(first)
    if texts or not BUDGET.available():
        return texts, first
    gray = image if isinstance(image, np.ndarray) and image.ndim == 2 else _gray(source)
    texts = second_attempt(gray, read_raw, boxes, BUDGET)
    del keep
    return texts, first


def read_raw(image: Any, *, try_invert: bool = True, binarizer: str = "local") -> tuple[list[str], list[tuple]]:
    """The decoding library's plain read: (texts of the QR Model 2 symbols read, each once; boxes
    (x0, y0, x1, y1) of symbols found whose error correction failed). Every read of the decoder,
    first or second attempt, goes through here."""
    results = zxingcpp.read_barcodes(
        image, formats=_QR_ONLY, try_invert=try_invert, return_errors=True,
        binarizer=zxingcpp.Binarizer.GlobalHistogram if binarizer == "global" else zxingcpp.Binarizer.LocalAverage,
    )
    texts, boxes = [], []
    for r in results:
        if r.format not in _ACCEPTED:
            continue
        if r.valid:
            texts.append(r.text)
        else:
            p = r.position
            xs = (p.top_left.x, p.top_right.x, p.bottom_right.x, p.bottom_left.x)
            ys = (p.top_left.y, p.top_right.y, p.bottom_right.y, p.bottom_left.y)
            boxes.append((min(xs), min(ys), max(xs), max(ys)))
    # zxing can report one symbol twice (found again by a rotated or inverted pass); a
    # frame holding one badge must give one text.
    return list(dict.fromkeys(texts)), boxes


def _gray(source: Any) -> np.ndarray:
    """The source as an HxW uint8 grey array, upright, with its true channel order (second attempt)."""
    import cv2

    if isinstance(source, Frame):
        bpp = _BYTES_PER_PIXEL[source.fmt]
        stride = source.stride or source.width * bpp
        buf = np.frombuffer(source.data, dtype=np.uint8)
        pixels = np.lib.stride_tricks.as_strided(
            buf, shape=(source.height, source.width, bpp), strides=(stride, bpp, 1), writeable=False)
        if bpp == 1:
            gray = np.ascontiguousarray(pixels[:, :, 0])
        else:
            gray = cv2.cvtColor(np.ascontiguousarray(pixels), getattr(cv2, _CV_TO_GRAY[source.fmt]))
        return gray[::-1] if source.bottom_up else gray
    if isinstance(source, np.ndarray):
        arr = source[:, :, 0] if source.ndim == 3 and source.shape[2] == 1 else source
        if arr.ndim == 2:
            return np.ascontiguousarray(arr)
        code = cv2.COLOR_RGB2GRAY if arr.shape[2] == 3 else cv2.COLOR_RGBA2GRAY
        return cv2.cvtColor(np.ascontiguousarray(arr), code)
    return np.asarray(source.convert("L"))


def _zxing_image(source: Any) -> tuple[Any, Any]:
    if isinstance(source, Frame):
        return _from_frame(source)
    if isinstance(source, np.ndarray):
        return _from_array(source)
    if _is_pil_image(source):
        if source.width == 0 or source.height == 0:
            raise ValueError(f"empty image: {source.width}x{source.height}")
        # zxing-cpp reads PIL's L/RGB/RGBA in their true channel order and converts other modes.
        return source, source
    raise ValueError(f"cannot decode a {type(source).__name__}: expected a PIL image, a numpy array or a Frame")


def _is_pil_image(obj: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a base dependency
        return False
    return isinstance(obj, Image.Image)


def _from_array(arr: np.ndarray) -> tuple[Any, Any]:
    if arr.dtype != np.uint8:
        raise ValueError(f"image array must be uint8, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        channels = 1
    elif arr.ndim == 3 and arr.shape[2] in (3, 4):
        channels = arr.shape[2]
    else:
        raise ValueError(f"image array must be HxW, HxWx3 (RGB) or HxWx4 (RGBA), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"empty image array: shape {arr.shape}")
    if channels == 1:
        # zxing reads a 2-D uint8 array in place, with any (even negative) strides.
        return arr, arr
    # Colour goes through an ImageView so zxing knows the channel order (its ndarray path would take
    # 3 channels for OpenCV's BGR). An ImageView needs one flat buffer with positive strides.
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    return zxingcpp.ImageView(arr, w, h, _ZX_COLOUR[channels]), arr


def _from_frame(f: Frame) -> tuple[Any, Any]:
    bpp = _BYTES_PER_PIXEL.get(f.fmt)
    if bpp is None:
        raise ValueError(f"unknown frame format {f.fmt!r}: expected one of {sorted(_BYTES_PER_PIXEL)}")
    if not (isinstance(f.width, Integral) and isinstance(f.height, Integral)) or f.width <= 0 or f.height <= 0:
        raise ValueError(f"frame size must be positive integers, got {f.width!r}x{f.height!r}")
    row = f.width * bpp
    stride = row if f.stride is None else f.stride
    if not isinstance(stride, Integral) or stride < row:
        raise ValueError(f"frame stride {f.stride!r} is smaller than a row of {f.width} {f.fmt} pixels ({row} bytes)")
    try:
        buf = np.frombuffer(f.data, dtype=np.uint8)  # a view, not a copy
    except (TypeError, ValueError) as exc:
        raise ValueError(f"frame data must be a contiguous bytes-like object: {exc}") from None
    if buf.size != stride * f.height:
        raise ValueError(
            f"frame data is {buf.size} bytes, expected stride*height = {stride}*{f.height} = {stride * f.height}"
        )
    if bpp == 1:
        gray = np.lib.stride_tricks.as_strided(buf, shape=(f.height, f.width), strides=(stride, 1), writeable=False)
        return (gray[::-1] if f.bottom_up else gray), buf
    if not f.bottom_up:
        return zxingcpp.ImageView(buf, f.width, f.height, _ZX_FORMAT[f.fmt], stride), buf
    # Bottom-up colour: convert to gray as stored, then flip the gray by a view (module docstring).
    import cv2  # imported here: only this path needs OpenCV

    pixels = np.lib.stride_tricks.as_strided(
        buf, shape=(f.height, f.width, bpp), strides=(stride, bpp, 1), writeable=False
    )
    gray = cv2.cvtColor(pixels, getattr(cv2, _CV_TO_GRAY[f.fmt]))
    return gray[::-1], gray
