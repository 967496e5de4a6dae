"""Benchmark: how long the kiosk decoder takes per camera frame, against raw zxing-cpp.

Run:  python bench/bench_decode.py      (or call main() from a Makefile target)

It synthesises camera-like frames (640x480 and 1280x720) of a volunteer badge held at arm's length:
a QR (error correction M) of a ~150-character uppercase alphanumeric token on a white card, on a
textured grey background, rotated a little, in mild perspective, blurred and with sensor noise.
It then times, over 300 frames each (ours and raw interleaved call by call):

  ours Frame   decode(Frame(rgba bytes, bottom_up=True))  - what a Kivy camera texture hands us
  ours ndarray decode(HxWx3 RGB ndarray)
  ours Frame   decode(Frame(rgba bytes))                  - the same, rows top-down
  raw          zxingcpp.read_barcodes on the same prepared pixels (an ImageView over the same RGBA
               bytes / the RGB array itself), with the one option we set (formats=QRCode), so the
               ratio is our wrapper's overhead. For bottom-up bytes raw reads the picture mirrored
               (zxing accepts mirrored QR) while we hand zxing an upright gray (see decoder.py).

and prints p50/p99 in ms with ours/raw ratios (goal <= 1.2x).
"""

from __future__ import annotations

import base64
from importlib import metadata
import os
import statistics
import sys
import time

import cv2
import numpy as np
import qrcode
import zxingcpp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from kiosk.scanner.decoder import Frame, decode  # noqa: E402

N_FRAMES = 300
N_DEFAULTS = 40  # the slow all-formats reference needs fewer samples
N_VARIANTS = 8  # distinct synthetic frames per resolution, cycled through the timed loop
RESOLUTIONS = [(640, 480), (1280, 720)]


def badge_token(rng: np.random.Generator) -> str:
    # "WG1:" + base32 of random bytes, padding stripped so it stays in QR alphanumeric mode.
    body = base64.b32encode(rng.bytes(91)).decode("ascii").rstrip("=")
    return "WG1:" + body


def qr_module_image(text: str) -> np.ndarray:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    return np.asarray(qr.make_image().get_image().convert("L"), dtype=np.uint8)


def camera_frame(text: str, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """An RGB uint8 frame of a badge with `text` as a camera at arm's length would see it."""
    # Background: a desk / wall - grey with low-frequency shading and fine texture.
    small = rng.normal(128, 25, (height // 40 + 2, width // 40 + 2)).astype(np.float32)
    bg = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    bg += rng.normal(0, 12, (height, width)).astype(np.float32)
    bg = np.clip(bg, 30, 220)

    # Badge: white card with the QR; the QR spans ~30% of the frame height.
    modules = qr_module_image(text)
    qr_px = int(height * 0.3)
    qr = cv2.resize(modules, (qr_px, qr_px), interpolation=cv2.INTER_NEAREST).astype(np.float32)
    card = np.full((int(qr_px * 1.5), int(qr_px * 1.2)), 235, np.float32)
    y0, x0 = int(qr_px * 0.1), int(qr_px * 0.1)
    card[y0:y0 + qr_px, x0:x0 + qr_px] = np.where(qr > 127, 235.0, 25.0)

    # Place it at a modest angle with mild perspective, somewhere near the middle.
    ch, cw = card.shape
    src = np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]])
    angle = np.deg2rad(rng.uniform(-15, 15))
    cx = width / 2 + rng.uniform(-0.15, 0.15) * width
    cy = height / 2 + rng.uniform(-0.1, 0.1) * height
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = (src - [cw / 2, ch / 2]) @ rot.T
    corners += rng.uniform(-0.04, 0.04, corners.shape) * ch  # slight tilt of the card
    dst = np.float32(corners + [cx, cy])
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(card, m, (width, height), flags=cv2.INTER_LINEAR, borderValue=-1)
    mask = cv2.warpPerspective(np.ones_like(card), m, (width, height), flags=cv2.INTER_LINEAR)
    img = bg * (1 - mask) + np.maximum(warped, 0) * mask

    # Lens blur, warm tint, sensor noise.
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    rgb = np.stack([img * 1.04, img, img * 0.93], axis=-1)
    rgb += rng.normal(0, 4, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def percentiles(samples: list[float]) -> tuple[float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49], qs[98]


def time_pair(ours_fn, ours_in: list, raw_fn, raw_in: list, n: int):
    """Per-call wall times (ms) of ours and raw, interleaved call by call so that whatever else the
    machine is doing hits both alike, and taking turns at going first: the first call on a frame
    pays for pulling it into the CPU cache. Also how many calls found a QR."""
    ours_fn(ours_in[0]), raw_fn(raw_in[0])  # warm-up
    times = {"ours": [], "raw": []}
    hits = {"ours": 0, "raw": 0}
    for i in range(n):
        k = i % len(ours_in)
        calls = [("ours", ours_fn, ours_in[k]), ("raw", raw_fn, raw_in[k])]
        for name, fn, x in calls if i % 2 == 0 else calls[::-1]:
            t0 = time.perf_counter()
            found = fn(x)
            times[name].append((time.perf_counter() - t0) * 1000)
            hits[name] += bool(found)
    return times["ours"], times["raw"], hits["ours"], hits["raw"]


def main() -> int:
    rng = np.random.default_rng(2024)
    token = badge_token(rng)
    rows, defaults = [], []
    for width, height in RESOLUTIONS:
        rgb_frames = [camera_frame(token, width, height, rng) for _ in range(N_VARIANTS)]
        rgba = [np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]) for f in rgb_frames]
        rgba_top_down = [a.tobytes() for a in rgba]
        # What Kivy gives: RGBA bytes, rows bottom-up (OpenGL origin).
        rgba_bottom_up = [np.ascontiguousarray(a[::-1]).tobytes() for a in rgba]
        frames_td = [Frame(b, width, height, "rgba") for b in rgba_top_down]
        frames_bu = [Frame(b, width, height, "rgba", bottom_up=True) for b in rgba_bottom_up]
        qr_only = zxingcpp.BarcodeFormat.QRCode

        def raw_rgba(b, w=width, h=height):
            view = zxingcpp.ImageView(b, w, h, zxingcpp.ImageFormat.RGBA)
            return zxingcpp.read_barcodes(view, formats=qr_only)

        def raw_rgb(a):
            return zxingcpp.read_barcodes(a, formats=qr_only)

        cases = [
            ("Frame rgba", decode, frames_td, raw_rgba, rgba_top_down),
            ("Frame rgba bottom-up", decode, frames_bu, raw_rgba, rgba_bottom_up),
            ("ndarray rgb", decode, rgb_frames, raw_rgb, rgb_frames),
        ]
        for name, ours_fn, ours_in, raw_fn, raw_in in cases:
            ours_t, raw_t, ours_hits, raw_hits = time_pair(ours_fn, ours_in, raw_fn, raw_in, N_FRAMES)
            (o50, o99), (r50, r99) = percentiles(ours_t), percentiles(raw_t)
            rows.append((f"{width}x{height}", name, o50, r50, o50 / r50, o99, r99, o99 / r99,
                         f"{ours_hits}/{N_FRAMES}", f"{raw_hits}/{N_FRAMES}"))

        # For scale: zxing's defaults search every symbology, which is what we turn off.
        all_t = []
        for i in range(N_DEFAULTS):
            t0 = time.perf_counter()
            zxingcpp.read_barcodes(rgb_frames[i % N_VARIANTS])
            all_t.append((time.perf_counter() - t0) * 1000)
        defaults.append(f"{width}x{height} {statistics.median(all_t):.2f} ms")

    head = ("frame", "input", "ours p50", "raw p50", "p50 ratio", "ours p99", "raw p99", "p99 ratio",
            "ours read", "raw read")
    print(f"decode time per frame in ms; token {len(token)} chars; {N_FRAMES} frames per cell; "
          f"zxing-cpp {metadata.version('zxing-cpp')}")
    fmt = "{:<9} {:<21} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9} {:>9} {:>9}"
    print(fmt.format(*head))
    for r in rows:
        print(fmt.format(r[0], r[1], f"{r[2]:.2f}", f"{r[3]:.2f}", f"{r[4]:.2f}x", f"{r[5]:.2f}",
                         f"{r[6]:.2f}", f"{r[7]:.2f}x", r[8], r[9]))
    print(f"raw = read_barcodes(..., formats=QRCode); for scale, zxing defaults (all formats) on the RGB "
          f"arrays, p50 over {N_DEFAULTS}: " + ", ".join(defaults))
    return 0


if __name__ == "__main__":
    sys.exit(main())
