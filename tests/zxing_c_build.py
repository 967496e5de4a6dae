"""libZXing (zxing-cpp's C API) for the tests: built from the zxing-cpp sdist by the repository's script.

tools/android/build_zxing_c.sh caches the build under .build/, so only the first run compiles
(readers only, QR only: a few minutes on 2 cores). Where it cannot be built (no cmake, no access to
PyPI for the sdist) the ctypes tests skip with the script's own words, except under CI=true, where
that is a failure: CI must run the decoder tests over both backends.
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "android" / "build_zxing_c.sh"


@functools.lru_cache(maxsize=1)
def _build() -> tuple[str | None, str]:
    if os.environ.get("WEIGUANG_ZXING_C_LIB"):
        return os.environ["WEIGUANG_ZXING_C_LIB"], ""
    try:
        proc = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{SCRIPT.name} did not run: {exc}"
    if proc.returncode != 0:
        return None, f"{SCRIPT.name} failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}"
    return proc.stdout.strip().splitlines()[-1], ""


def zxing_c_library() -> str:
    """The path of libZXing.so, built if need be; skips (fails under CI) when it cannot be had."""
    path, why = _build()
    if path is None:
        message = f"libZXing (zxing-cpp C API) could not be built: {why}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    os.environ["WEIGUANG_ZXING_C_LIB"] = path  # kiosk.scanner.zxing_c loads exactly this one
    return path
