"""QR decoding for the kiosk, on zxing-cpp.

    from kiosk.scanner.decoder import Frame, decode

    decode(Image.open("badge.png"))                 # a PIL image
    decode(rgb_array)                               # numpy uint8: HxW gray, HxWx3 RGB, HxWx4 RGBA
    decode(Frame(texture.pixels, w, h, "rgba", bottom_up=True))   # a Kivy camera texture

`decode` returns the text of every QR code found, each text once (an empty list when there is none) and raises
ValueError on input it cannot interpret. Only QR codes are searched for: badges are QR, and not
looking for 1-D and other 2-D symbologies is both faster and rules out misreads as e.g. a barcode.

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
from typing import Any

import numpy as np

from kiosk.scanner.backend import zxingcpp  # the zxing-cpp wheel, or its C API through ctypes (backend.py)

__all__ = ["Frame", "decode"]

_QR_ONLY = zxingcpp.BarcodeFormat.QRCode
_BYTES_PER_PIXEL = {"gray": 1, "rgb": 3, "rgba": 4}
_ZX_COLOUR = {3: zxingcpp.ImageFormat.RGB, 4: zxingcpp.ImageFormat.RGBA}


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
    # `keep` holds whatever buffer the zxing image points into: an ImageView does not keep its
    # buffer alive by itself.
    image, keep = _zxing_image(source)
    results = zxingcpp.read_barcodes(image, formats=_QR_ONLY)
    del keep
    # zxing can report one symbol twice (found again by a rotated or inverted pass); a
    # frame holding one badge must give one text.
    return list(dict.fromkeys(r.text for r in results))


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
        return zxingcpp.ImageView(buf, f.width, f.height, _ZX_COLOUR[bpp], stride), buf
    # Bottom-up colour: convert to gray as stored, then flip the gray by a view (module docstring).
    import cv2  # imported here: only this path needs OpenCV

    pixels = np.lib.stride_tricks.as_strided(
        buf, shape=(f.height, f.width, bpp), strides=(stride, bpp, 1), writeable=False
    )
    gray = cv2.cvtColor(pixels, cv2.COLOR_RGBA2GRAY if bpp == 4 else cv2.COLOR_RGB2GRAY)
    return gray[::-1], gray
