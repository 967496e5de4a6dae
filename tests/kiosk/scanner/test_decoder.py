"""kiosk.scanner.decoder: the ZXing photo corpus, every input form, and bad input.

Every test runs over both zxing-cpp backends (the `decoder` fixture in conftest.py): the wheel and
the C API through ctypes, with the same expected reads, the same refusals and no misread.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .helpers import BADGE, qr_rgb

# The ZXing corpus ships in tests/data (README and licence there); WEIGUANG_QR_CORPUS points at another copy.
CORPUS = Path(os.environ.get("WEIGUANG_QR_CORPUS", Path(__file__).parents[2] / "data" / "qr-corpus"))
# Per set: images x 4 rotations, all decoded by zxing-cpp 3.1.1 (see the corpus README).
EXPECTED = {"qrcode-1": 80, "qrcode-3": 168, "qrcode-5": 76, "qrcode-6": 60}
ROTATIONS = {0: None, 90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_set_decodes_every_rotation(decoder, name):
    assert CORPUS.is_dir(), f"QR corpus not found at {CORPUS}"  # shipped with the tests: missing is a failure
    images = sorted(p for p in (CORPUS / name).iterdir() if p.suffix in (".png", ".jpg", ".jpeg", ".gif"))
    failures, misreads, hits = [], [], 0
    for path in images:
        # Bytes, not read_text(): some expected texts hold "\r\n" that universal newlines would eat.
        expected = path.with_suffix(".txt").read_bytes().decode("utf-8").strip()
        with Image.open(path) as img:
            img.load()
            for degrees, op in ROTATIONS.items():
                texts = decoder.decode(img.transpose(op) if op else img)
                if texts and all(t.strip() == expected for t in texts):
                    hits += 1
                elif texts:
                    misreads.append((path.name, degrees, texts))
                else:
                    failures.append((path.name, degrees))
    assert len(images) * 4 == EXPECTED[name]
    assert not misreads, f"misread: {misreads}"
    assert hits == EXPECTED[name], f"{name}: {hits}/{EXPECTED[name]}, not decoded: {failures}"


def frame_bytes(pixels: np.ndarray, pad: int = 0, bottom_up: bool = False) -> bytes:
    """Raw camera bytes of an HxW or HxWxC picture, with `pad` junk bytes after every row."""
    rows = pixels.reshape(pixels.shape[0], -1)
    if bottom_up:
        rows = rows[::-1]
    junk = np.full((rows.shape[0], pad), 0x5A, np.uint8)  # non-zero, so a stride bug shows
    return np.ascontiguousarray(np.hstack([rows, junk])).tobytes()


def as_fmt(rgb: np.ndarray, fmt: str) -> np.ndarray:
    if fmt == "rgb":
        return rgb
    if fmt == "rgba":
        return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    return np.asarray(Image.fromarray(rgb).convert("L"))


@pytest.mark.parametrize("fmt", ["rgba", "rgb", "gray"])
@pytest.mark.parametrize("pad", [0, 13])
@pytest.mark.parametrize("bottom_up", [False, True])
def test_frame_formats(decoder, fmt, pad, bottom_up):
    pixels = as_fmt(qr_rgb(), fmt)
    h, w = pixels.shape[:2]
    row = pixels[0].size
    data = frame_bytes(pixels, pad, bottom_up)
    frame = decoder.Frame(data, w, h, fmt, stride=row + pad if pad else None, bottom_up=bottom_up)
    assert decoder.decode(frame) == [BADGE]
    # zxing also reads a mirrored QR, so check the orientation itself: what zxing is handed must be
    # the upright picture, padding excluded (bottom-up colour is handed over as its gray).
    image, _keep = decoder._zxing_image(frame)
    seen = np.asarray(image).reshape(h, w, -1).astype(int)
    if bottom_up and fmt != "gray":
        luma = np.asarray(Image.fromarray(pixels[:, :, :3]).convert("L"))
        assert np.abs(seen[:, :, 0] - luma).max() <= 1
    else:
        assert np.array_equal(seen, pixels.reshape(h, w, -1))


def test_frame_accepts_memoryview_and_bytearray(decoder):
    rgba = as_fmt(qr_rgb(), "rgba")
    h, w = rgba.shape[:2]
    assert decoder.decode(decoder.Frame(memoryview(rgba.tobytes()), w, h, "rgba")) == [BADGE]
    assert decoder.decode(decoder.Frame(bytearray(rgba.tobytes()), w, h, "rgba", bottom_up=False)) == [BADGE]


@pytest.mark.parametrize("fmt", ["rgb", "rgba", "gray"])
def test_ndarray_forms(decoder, fmt):
    pixels = as_fmt(qr_rgb(), fmt)
    assert decoder.decode(pixels) == [BADGE]
    assert decoder.decode(pixels[::-1]) == [BADGE]  # negative stride
    assert decoder.decode(pixels[5:-5, 7:-3]) == [BADGE]  # a crop: not contiguous
    if fmt == "gray":
        assert decoder.decode(pixels[:, :, None]) == [BADGE]


@pytest.mark.parametrize("fmt", ["rgb", "rgba"])
def test_colour_is_read_in_rgb_order(decoder, fmt):
    # Colours chosen so the code has contrast read as RGB (luma 29 on 123) and none read as BGR
    # (76 on 76): decoding only works if zxing is told the true channel order.
    pixels = as_fmt(qr_rgb(dark=(0, 0, 255), light=(255, 80, 0)), fmt)
    h, w = pixels.shape[:2]
    assert decoder.decode(pixels) == [BADGE]
    assert decoder.decode(decoder.Frame(pixels.tobytes(), w, h, fmt)) == [BADGE]
    assert decoder.decode(decoder.Frame(frame_bytes(pixels, 5, bottom_up=True), w, h, fmt, pixels[0].size + 5, True)) == [BADGE]
    # The control: the same pixels as BGR must fail, or this test proves nothing.
    assert decoder.zxingcpp.read_barcodes(np.ascontiguousarray(pixels[:, :, :3])) == []


def test_pil_image_modes(decoder):
    rgb = qr_rgb()
    img = Image.fromarray(rgb)
    for mode in ("RGB", "RGBA", "L", "P"):
        assert decoder.decode(img.convert(mode)) == [BADGE], mode
    # Bilevel without dithering (dithered, the tinted dark modules get speckled with white).
    assert decoder.decode(img.convert("1", dither=Image.Dither.NONE)) == [BADGE]


def test_no_qr_returns_empty_list(decoder):
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (480, 640, 4), dtype=np.uint8)
    assert decoder.decode(decoder.Frame(noise.tobytes(), 640, 480, "rgba")) == []
    assert decoder.decode(np.full((480, 640), 200, np.uint8)) == []


def test_two_badges_in_one_frame(decoder):
    a, b = qr_rgb("WG1:AAAA1111"), qr_rgb("WG1:BBBB2222")
    h = max(a.shape[0], b.shape[0])
    both = np.hstack([np.pad(a, ((0, h - a.shape[0]), (0, 0), (0, 0)), constant_values=250),
                      np.pad(b, ((0, h - b.shape[0]), (0, 0), (0, 0)), constant_values=250)])
    assert sorted(decoder.decode(both)) == ["WG1:AAAA1111", "WG1:BBBB2222"]


@pytest.mark.parametrize(
    "source, message",
    [
        (lambda F: F(b"", 0, 0, "rgba"), "size"),
        (lambda F: F(b"\0" * 16, 2, 2, "rgba", stride=-8), "stride"),
        (lambda F: F(b"\0" * 15, 2, 2, "rgba"), "15 bytes"),
        (lambda F: F(b"\0" * 17, 2, 2, "rgba"), "17 bytes"),
        (lambda F: F(b"\0" * 16, 2, 2, "yuv"), "unknown frame format"),
        (lambda F: F(b"\0" * 16, 2, 2, "rgba", stride=6), "stride"),
        (lambda F: F(np.zeros((4, 4), np.uint8)[:, ::2], 2, 4, "gray"), "contiguous"),
        (lambda F: np.zeros((0, 10), np.uint8), "empty"),
        (lambda F: np.zeros((10, 10, 2), np.uint8), "shape"),
        (lambda F: np.zeros((10, 10), np.float32), "uint8"),
        (lambda F: Image.new("RGB", (0, 0)), "empty"),
        (lambda F: "badge.png", "cannot decode a str"),
    ],
)
def test_bad_input_raises_value_error(decoder, source, message):
    with pytest.raises(ValueError, match=message):
        decoder.decode(source(decoder.Frame))
