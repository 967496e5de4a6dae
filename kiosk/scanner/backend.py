"""Which zxing-cpp the decoder runs on: the one place that chooses.

    from kiosk.scanner.backend import zxingcpp

`zxingcpp` is the zxing-cpp wheel where it is installed (Linux desktops), else kiosk.scanner.zxing_c,
zxing-cpp's own C API through ctypes (Android, where the wheel has no build), which offers the same
names for what the decoder uses. WEIGUANG_DECODER forces one: `wheel` or `zxing-c` (tests run the
decoder over both; an unknown value is an error, not a silent default).
"""

from __future__ import annotations

import os
from types import ModuleType

BACKENDS = ("wheel", "zxing-c")


def load(name: str | None = None) -> ModuleType:
    """The backend module: `name`, else $WEIGUANG_DECODER, else the wheel if importable, else zxing-c."""
    name = name or os.environ.get("WEIGUANG_DECODER") or None
    if name not in (None, *BACKENDS):
        raise ValueError(f"WEIGUANG_DECODER={name!r}: expected one of {', '.join(BACKENDS)}")
    if name in (None, "wheel"):
        try:
            import zxingcpp as wheel
            return wheel
        except ImportError:
            if name == "wheel":
                raise
    from kiosk.scanner import zxing_c

    ok, why = zxing_c.available()
    if not ok:
        raise zxing_c.ZXingCUnavailable(f"no QR decoder: the zxing-cpp wheel is not installed and {why}")
    return zxing_c


zxingcpp = load()
NAME = "zxing-c" if zxingcpp.__name__.endswith("zxing_c") else "wheel"
