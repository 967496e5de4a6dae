"""The decoder over each zxing-cpp backend: the wheel and the C API through ctypes (kiosk/scanner/zxing_c.py).

`decoder` is the module kiosk.scanner.decoder with the backend of the test's parameter: for
"zxing-c" a second copy of the same source, loaded with kiosk.scanner.backend answering zxing_c,
so one test run checks both with the same code path and the same assertions.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from unittest import mock

import pytest

from tests.zxing_c_build import zxing_c_library

_copies: dict[str, types.ModuleType] = {}


def decoder_over(backend: str) -> types.ModuleType:
    from kiosk.scanner import backend as chooser
    from kiosk.scanner import decoder as default

    if backend == chooser.NAME:
        return default
    if backend not in _copies:
        module = chooser.load(backend)
        stub = types.ModuleType(chooser.__name__)
        stub.zxingcpp, stub.NAME, stub.load, stub.BACKENDS = module, backend, chooser.load, chooser.BACKENDS
        name = f"kiosk.scanner._decoder_over_{backend.replace('-', '_')}"
        spec = importlib.util.spec_from_file_location(name, default.__file__)
        copy = importlib.util.module_from_spec(spec)
        with mock.patch.dict(sys.modules, {chooser.__name__: stub}):
            sys.modules[name] = copy  # dataclasses look their module up there
            spec.loader.exec_module(copy)
        sys.modules[name] = copy
        _copies[backend] = copy
    return _copies[backend]


@pytest.fixture(scope="session")
def zxing_c_lib():
    path = zxing_c_library()
    from kiosk.scanner import zxing_c

    ok, why = zxing_c.available()
    assert ok, why
    return path


@pytest.fixture(params=["wheel", "zxing-c"])
def decoder(request):
    if request.param == "zxing-c":
        request.getfixturevalue("zxing_c_lib")
    return decoder_over(request.param)
