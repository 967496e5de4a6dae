"""Benchmark: the decoder over zxing-cpp's C API through ctypes (the Android backend) against the wheel.

Run:  python bench/bench_zxing_c.py      (needs libZXing: tools/android/build_zxing_c.sh)

The same synthetic camera frames as bench_decode.py (a badge at arm's length, 640x480 and
1280x720, RGBA bytes top-down as camera4kivy hands them over), decoded by kiosk.scanner.decoder
over each backend, interleaved call by call, 300 frames each. Prints p50/p99 in ms and the
zxing-c/wheel ratio: the cost of ctypes plus a library built with QR only and CMake's Release
flags, against the wheel's own build. Both must read every frame.
"""

from __future__ import annotations

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir))
sys.path.insert(0, HERE)
from bench_decode import N_VARIANTS, badge_token, camera_frame, percentiles, time_pair  # noqa: E402

from kiosk.scanner.backend import decoder_over  # noqa: E402

N_FRAMES = 300


def main() -> int:
    from kiosk.scanner import zxing_c

    ok, why = zxing_c.available()
    if not ok:
        print(f"bench_zxing_c: skipped: {why}")
        return 0
    wheel, capi = decoder_over("wheel"), decoder_over("zxing-c")
    print(f"decoder over the zxing-cpp wheel vs its C API through ctypes ({zxing_c.library_path()}, "
          f"zxing {zxing_c.version()}), {N_FRAMES} frames each")
    print(f"{'frame':<28}{'wheel p50':>10}{'p99':>8}{'zxing-c p50':>13}{'p99':>8}{'ratio p50':>11}")
    rng = np.random.default_rng(13)
    failures = 0
    for w, h in ((640, 480), (1280, 720)):
        texts, frames = [], []
        for _ in range(N_VARIANTS):
            text = badge_token(rng)
            rgb = camera_frame(text, w, h, rng)
            rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]).tobytes()
            texts.append(text)
            frames.append(rgba)
        w_in = [wheel.Frame(b, w, h, "rgba") for b in frames]
        c_in = [capi.Frame(b, w, h, "rgba") for b in frames]
        for i, text in enumerate(texts):
            if wheel.decode(w_in[i]) != [text] or capi.decode(c_in[i]) != [text]:
                failures += 1
        ours, raw, hits_c, hits_w = time_pair(capi.decode, c_in, wheel.decode, w_in, N_FRAMES)
        failures += (N_FRAMES - hits_c) + (N_FRAMES - hits_w)
        (c50, c99), (w50, w99) = percentiles(ours), percentiles(raw)
        print(f"{f'{w}x{h} RGBA':<28}{w50:>10.2f}{w99:>8.2f}{c50:>13.2f}{c99:>8.2f}{c50 / w50:>10.2f}x")
    if failures:
        print(f"bench_zxing_c: {failures} frame(s) not read by both backends")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
