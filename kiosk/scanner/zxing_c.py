"""zxing-cpp's C API (ZXingC.h) through ctypes: the decoder backend where the zxing-cpp wheel is absent.

The zxing-cpp wheel has no Android build and python-for-android has no recipe for it; zxing-cpp's own
C API, built as a small shared library (libZXing.so: readers only, QR only), works everywhere a C++
compiler does. This module offers the part of the wheel's Python API that kiosk.scanner.decoder uses,
under the same names, so the decoder's code is one and the same over either backend:

    from kiosk.scanner import zxing_c as zxingcpp
    zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)   # PIL image, ndarray or ImageView
    zxingcpp.ImageView(buf, width, height, zxingcpp.ImageFormat.RGBA, row_stride)

Images are read in place, as the wheel reads them: a PIL image in modes L/RGB/RGBA (other modes are
converted to L, as the wheel does), a uint8 ndarray of 2 dimensions (gray) or 3 (3 channels are BGR,
as in the wheel; 4 channels refused) with its own strides, or an ImageView over a buffer.

The library is found, in this order: $WEIGUANG_ZXING_C_LIB (a path), the build of
tools/android/build_zxing_c.sh in the checkout (.build/zxing-c-VERSION/libZXing.so), `libZXing.so` by
name (on Android python-for-android puts it in the app's library directory), ctypes.util.find_library.
ctypes releases the GIL during each C call, as the wheel does during a read.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import enum
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, NamedTuple

import numpy as np

__all__ = [
    "Barcode", "BarcodeFormat", "Binarizer", "EanAddOnSymbol", "ImageFormat", "ImageView", "TextMode", "read_barcode",
    "ZXingCUnavailable", "available", "library_path", "read_barcodes", "version",
]

ZXING_VERSION = "3.1.1"  # what tools/android/build_zxing_c.sh and the p4a recipe build
_REPO_BUILD = Path(__file__).resolve().parents[2] / ".build" / f"zxing-c-{ZXING_VERSION}" / "libZXing.so"


class ZXingCUnavailable(ImportError):
    """libZXing (the C API) could not be loaded: the message says where it was looked for."""


def _bcf(sym: str, var: str) -> int:
    # ZX_BCF_ID(SYM, VAR) in BarcodeFormat.h: the symbology letter in the low byte, the variant above.
    return ord(sym) | (ord(var) << 8)


class BarcodeFormat(enum.IntEnum):
    """The QR family of zxing-cpp 3.x's formats (the library is built with QR only)."""

    QRCode = _bcf("Q", " ")
    QRCodeModel1 = _bcf("Q", "1")
    QRCodeModel2 = _bcf("Q", "2")
    MicroQRCode = _bcf("Q", "m")
    RMQRCode = _bcf("Q", "r")


class ImageFormat(enum.IntEnum):
    Lum = 0x01000000
    LumA = 0x02000000
    RGB = 0x03000102
    BGR = 0x03020100
    RGBA = 0x04000102
    ARGB = 0x04010203
    BGRA = 0x04020100
    ABGR = 0x04030201


class Binarizer(enum.IntEnum):
    LocalAverage = 0
    GlobalHistogram = 1
    FixedThreshold = 2
    BoolCast = 3


class EanAddOnSymbol(enum.IntEnum):
    Ignore = 0
    Read = 1
    Require = 2


class TextMode(enum.IntEnum):
    Plain = 0
    ECI = 1
    HRI = 2
    Escaped = 3
    Hex = 4
    HexECI = 5


class _PointI(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int)]


class _Position(ctypes.Structure):
    _fields_ = [("topLeft", _PointI), ("topRight", _PointI), ("bottomRight", _PointI), ("bottomLeft", _PointI)]


class Point(NamedTuple):
    x: int
    y: int


class Position(NamedTuple):
    top_left: Point
    top_right: Point
    bottom_right: Point
    bottom_left: Point


@dataclass(frozen=True, slots=True)
class Barcode:
    """One read, with the wheel's attribute names for what the kiosk uses."""

    text: str
    bytes: bytes
    format: Any
    valid: bool
    error: str | None
    position: Position
    orientation: int
    is_inverted: bool
    is_mirrored: bool
    symbology_identifier: str


_P = ctypes.c_void_p
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "ZXing_Version": (ctypes.c_char_p, []),
    "ZXing_LastErrorMsg": (_P, []),
    "ZXing_free": (None, [_P]),
    "ZXing_BarcodeFormatFromString": (ctypes.c_int, [ctypes.c_char_p]),
    "ZXing_ImageView_new": (_P, [_P, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]),
    "ZXing_ImageView_delete": (None, [_P]),
    "ZXing_ReaderOptions_new": (_P, []),
    "ZXing_ReaderOptions_delete": (None, [_P]),
    "ZXing_ReaderOptions_setTryRotate": (None, [_P, ctypes.c_bool]),
    "ZXing_ReaderOptions_setTryInvert": (None, [_P, ctypes.c_bool]),
    "ZXing_ReaderOptions_setTryDownscale": (None, [_P, ctypes.c_bool]),
    "ZXing_ReaderOptions_setIsPure": (None, [_P, ctypes.c_bool]),
    "ZXing_ReaderOptions_setReturnErrors": (None, [_P, ctypes.c_bool]),
    "ZXing_ReaderOptions_setFormats": (None, [_P, ctypes.POINTER(ctypes.c_int), ctypes.c_int]),
    "ZXing_ReaderOptions_setBinarizer": (None, [_P, ctypes.c_int]),
    "ZXing_ReaderOptions_setEanAddOnSymbol": (None, [_P, ctypes.c_int]),
    "ZXing_ReaderOptions_setTextMode": (None, [_P, ctypes.c_int]),
    "ZXing_ReaderOptions_setMaxNumberOfSymbols": (None, [_P, ctypes.c_int]),
    "ZXing_ReadBarcodes": (_P, [_P, _P]),
    "ZXing_Barcodes_delete": (None, [_P]),
    "ZXing_Barcodes_size": (ctypes.c_int, [_P]),
    "ZXing_Barcodes_at": (_P, [_P, ctypes.c_int]),
    "ZXing_Barcode_isValid": (ctypes.c_bool, [_P]),
    "ZXing_Barcode_errorMsg": (_P, [_P]),
    "ZXing_Barcode_format": (ctypes.c_int, [_P]),
    "ZXing_Barcode_text": (_P, [_P]),
    "ZXing_Barcode_bytes": (_P, [_P, ctypes.POINTER(ctypes.c_int)]),
    "ZXing_Barcode_symbologyIdentifier": (_P, [_P]),
    "ZXing_Barcode_position": (_Position, [_P]),
    "ZXing_Barcode_orientation": (ctypes.c_int, [_P]),
    "ZXing_Barcode_isInverted": (ctypes.c_bool, [_P]),
    "ZXing_Barcode_isMirrored": (ctypes.c_bool, [_P]),
}

_lock = threading.Lock()
_loaded: tuple[ctypes.CDLL, str] | None = None


def _candidates() -> list[str]:
    env = os.environ.get("WEIGUANG_ZXING_C_LIB")
    if env:
        return [env]  # an explicit choice: no fallback that would hide a wrong path
    found = [str(_REPO_BUILD)] if _REPO_BUILD.is_file() else []
    found.append("libZXing.so")
    lib = ctypes.util.find_library("ZXing")
    if lib:
        found.append(lib)
    return found


def _load() -> tuple[ctypes.CDLL, str]:
    global _loaded
    if _loaded is not None:
        return _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        errors = []
        for path in _candidates():
            try:
                lib = ctypes.CDLL(path)
            except OSError as exc:
                errors.append(f"{path}: {exc}")
                continue
            try:
                for name, (restype, argtypes) in _SIGNATURES.items():
                    fn = getattr(lib, name)
                    fn.restype, fn.argtypes = restype, argtypes
            except AttributeError as exc:
                errors.append(f"{path}: not zxing-cpp's C API ({exc})")
                continue
            _loaded = (lib, path)
            return _loaded
        raise ZXingCUnavailable(
            "libZXing (zxing-cpp C API) not found; build it with tools/android/build_zxing_c.sh "
            "or set WEIGUANG_ZXING_C_LIB. Tried: " + "; ".join(errors)
        )


def available() -> tuple[bool, str]:
    """(True, library path) or (False, why not)."""
    try:
        return True, _load()[1]
    except ZXingCUnavailable as exc:
        return False, str(exc)


def library_path() -> str:
    return _load()[1]


def version() -> str:
    return _load()[0].ZXing_Version().decode()


def _take_string(lib: ctypes.CDLL, ptr: int | None) -> str:
    """A char* the library handed over: decode it and give it back with ZXing_free."""
    if not ptr:
        return ""
    try:
        return ctypes.string_at(ptr).decode("utf-8", errors="replace")
    finally:
        lib.ZXing_free(ptr)


def _last_error(lib: ctypes.CDLL) -> str:
    return _take_string(lib, lib.ZXing_LastErrorMsg()) or "unknown error"


class ImageView:
    """Pixels in a buffer, with their layout: the wheel's zxingcpp.ImageView, over the C API.

    The buffer is kept alive by this object; numpy.asarray(view) shows the pixels zxing reads.
    """

    __slots__ = ("_arr", "width", "height", "format", "row_stride", "pix_stride")

    def __init__(self, data: Any, width: int, height: int, format: ImageFormat, row_stride: int = 0, pix_stride: int = 0):
        fmt = ImageFormat(format)
        channels = (int(fmt) >> 24) & 0xFF
        if width <= 0 or height <= 0:
            raise ValueError(f"invalid size {width}x{height}")
        pix_stride = pix_stride or channels
        row_stride = row_stride or width * pix_stride
        if row_stride < 0 or pix_stride < channels:
            raise ValueError(f"invalid strides: row {row_stride}, pixel {pix_stride}")
        buf = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data.reshape(-1)
        need = (height - 1) * row_stride + (width - 1) * pix_stride + channels
        if buf.size < need:
            raise ValueError(f"buffer of {buf.size} bytes is too small: {need} needed")
        shape = (height, width) if channels == 1 else (height, width, channels)
        strides = (row_stride, pix_stride) if channels == 1 else (row_stride, pix_stride, 1)
        self._arr = np.lib.stride_tricks.as_strided(buf, shape=shape, strides=strides, writeable=False)
        self.width, self.height, self.format = width, height, fmt
        self.row_stride, self.pix_stride = row_stride, pix_stride

    def __array__(self, dtype=None, copy=None):
        return self._arr if dtype is None else self._arr.astype(dtype)


def _as_view(image: Any) -> tuple[np.ndarray, ImageFormat]:
    """The pixels of `image` as a strided uint8 array (not copied where avoidable) and their format."""
    if isinstance(image, ImageView):
        return image._arr, image.format
    fmt = None
    if type(image).__module__.startswith("PIL."):
        image.load()
        if image.mode not in ("L", "RGB", "RGBA"):
            image = image.convert("L")  # what the wheel does with other modes
        fmt = {"L": ImageFormat.Lum, "RGB": ImageFormat.RGB, "RGBA": ImageFormat.RGBA}[image.mode]
    try:
        arr = np.asarray(image)
    except Exception as exc:
        raise TypeError(f"Invalid input: {type(image).__name__} does not support the buffer protocol.") from exc
    if arr.dtype != np.uint8:
        raise TypeError(f"Incompatible buffer format '{arr.dtype}': expected a uint8_t array.")
    if arr.ndim not in (2, 3):
        raise TypeError(f"Incompatible buffer dimension {arr.ndim} (needs to be 2 or 3).")
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    if fmt is None:
        if channels == 1:
            fmt = ImageFormat.Lum
        elif channels == 3:
            fmt = ImageFormat.BGR  # the wheel's reading of a 3-channel array (OpenCV's order)
        else:
            raise ValueError(f"Unsupported number of channels for buffer: {channels}")
    if arr.ndim == 3 and arr.strides[2] != 1:
        arr = np.ascontiguousarray(arr)
    return arr, fmt


def _formats_array(formats: Any) -> tuple[Any, int]:
    if formats is None:
        return None, 0
    items = [int(formats)] if isinstance(formats, (int, enum.IntEnum)) else [int(f) for f in formats]
    return (ctypes.c_int * len(items))(*items), len(items)


def read_barcodes(
    image: Any,
    formats: int | Iterable[int] | None = None,
    try_rotate: bool = True,
    try_downscale: bool = True,
    try_invert: bool = True,
    text_mode: TextMode = TextMode.HRI,
    binarizer: Binarizer = Binarizer.LocalAverage,
    is_pure: bool = False,
    ean_add_on_symbol: EanAddOnSymbol = EanAddOnSymbol.Ignore,
    return_errors: bool = False,
    max_number_of_symbols: int = 0xFF,
) -> list[Barcode]:
    """Every barcode zxing finds in `image`, with the wheel's defaults and argument names."""
    lib, _path = _load()
    arr, fmt = _as_view(image)
    h, w = arr.shape[:2]
    if h == 0 or w == 0:
        raise ValueError(f"empty image: {w}x{h}")
    if any(abs(n) > 0x7FFFFFFF for n in (w, h, *arr.strides[:2])):
        # ctypes would cut these to C ints without a word: refuse instead of reading elsewhere.
        raise ValueError(f"image too large for zxing: {w}x{h}, strides {arr.strides[:2]}")
    opts = lib.ZXing_ReaderOptions_new()
    if not opts:
        raise MemoryError(_last_error(lib))
    iv = None
    try:
        fmts, count = _formats_array(formats)
        if count:
            lib.ZXing_ReaderOptions_setFormats(opts, fmts, count)
        lib.ZXing_ReaderOptions_setTryRotate(opts, try_rotate)
        lib.ZXing_ReaderOptions_setTryDownscale(opts, try_downscale)
        lib.ZXing_ReaderOptions_setTryInvert(opts, try_invert)
        lib.ZXing_ReaderOptions_setTextMode(opts, int(text_mode))
        lib.ZXing_ReaderOptions_setBinarizer(opts, int(binarizer))
        lib.ZXing_ReaderOptions_setIsPure(opts, is_pure)
        lib.ZXing_ReaderOptions_setEanAddOnSymbol(opts, int(ean_add_on_symbol))
        lib.ZXing_ReaderOptions_setReturnErrors(opts, return_errors)
        lib.ZXing_ReaderOptions_setMaxNumberOfSymbols(opts, int(max_number_of_symbols))
        # arr.ctypes.data is the address of pixel (0, 0), whatever the sign of the strides.
        iv = lib.ZXing_ImageView_new(arr.ctypes.data, w, h, int(fmt), arr.strides[0], arr.strides[1])
        if not iv:
            raise ValueError(f"zxing refused the image: {_last_error(lib)}")
        barcodes = lib.ZXing_ReadBarcodes(iv, opts)  # GIL released by ctypes for the call
        if not barcodes:
            raise RuntimeError(f"zxing failed: {_last_error(lib)}")
        try:
            return [_barcode(lib, lib.ZXing_Barcodes_at(barcodes, i)) for i in range(lib.ZXing_Barcodes_size(barcodes))]
        finally:
            lib.ZXing_Barcodes_delete(barcodes)
    finally:
        if iv:
            lib.ZXing_ImageView_delete(iv)
        lib.ZXing_ReaderOptions_delete(opts)
        del arr  # the pixels stay alive until zxing is done with them


def _barcode(lib: ctypes.CDLL, b: int) -> Barcode:
    n = ctypes.c_int(0)
    ptr = lib.ZXing_Barcode_bytes(b, ctypes.byref(n))
    try:
        raw = ctypes.string_at(ptr, n.value) if ptr and n.value > 0 else b""
    finally:
        if ptr:
            lib.ZXing_free(ptr)
    valid = bool(lib.ZXing_Barcode_isValid(b))
    error = None if valid else _take_string(lib, lib.ZXing_Barcode_errorMsg(b))
    code = lib.ZXing_Barcode_format(b)
    try:
        fmt: Any = BarcodeFormat(code)
    except ValueError:
        fmt = code
    p = lib.ZXing_Barcode_position(b)
    pos = Position(*(Point(q.x, q.y) for q in (p.topLeft, p.topRight, p.bottomRight, p.bottomLeft)))
    return Barcode(
        text=_take_string(lib, lib.ZXing_Barcode_text(b)),
        bytes=raw,
        format=fmt,
        valid=valid,
        error=error,
        position=pos,
        orientation=lib.ZXing_Barcode_orientation(b),
        is_inverted=bool(lib.ZXing_Barcode_isInverted(b)),
        is_mirrored=bool(lib.ZXing_Barcode_isMirrored(b)),
        symbology_identifier=_take_string(lib, lib.ZXing_Barcode_symbologyIdentifier(b)),
    )


def read_barcode(image: Any, formats: int | Iterable[int] | None = None, **options: Any) -> Barcode | None:
    """The first barcode found, or None (the wheel's read_barcode)."""
    found = read_barcodes(image, formats, max_number_of_symbols=1, **options)
    return found[0] if found else None
