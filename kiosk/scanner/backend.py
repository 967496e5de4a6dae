"""Which zxing-cpp the decoder runs on: the one place that chooses.

    from kiosk.scanner.backend import zxingcpp

`zxingcpp` is the zxing-cpp wheel where it is installed (Linux desktops), else kiosk.scanner.zxing_c,
zxing-cpp's own C API through ctypes (Android, where the wheel has no build), which offers the same
names for what the decoder uses. WEIGUANG_DECODER forces one: `wheel` or `zxing-c` (tests run the
decoder over both; an unknown value is an error, not a silent default).
"""

from __future__ import annotations

import importlib.util
import os
import sys
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


_copies: dict[str, ModuleType] = {}


def decoder_over(name: str) -> ModuleType:
    """kiosk.scanner.decoder over backend `name`, whichever this process chose: the module itself
    for the chosen one, else a second copy of the same source loaded while this module answers
    `name` (tests and benchmarks compare the two backends in one process)."""
    from kiosk.scanner import decoder as default

    if name == NAME:
        return default
    if name not in _copies:
        stub = ModuleType(__name__)
        stub.__dict__.update({k: v for k, v in globals().items() if not k.startswith("__")})
        stub.zxingcpp, stub.NAME = load(name), name
        module_name = f"kiosk.scanner._decoder_over_{name.replace('-', '_')}"
        spec = importlib.util.spec_from_file_location(module_name, default.__file__)
        copy = importlib.util.module_from_spec(spec)
        this = sys.modules[__name__]
        sys.modules[__name__] = stub          # the copy's `from kiosk.scanner.backend import zxingcpp`
        sys.modules[module_name] = copy       # dataclasses look their module up there
        try:
            spec.loader.exec_module(copy)
        finally:
            sys.modules[__name__] = this
        _copies[name] = copy
    return _copies[name]
