"""The decoder over each zxing-cpp backend: the wheel and the C API through ctypes (kiosk/scanner/zxing_c.py).

`decoder` is the module kiosk.scanner.decoder over the backend of the test's parameter
(kiosk.scanner.backend.decoder_over), so one test run checks both with the same code and the
same assertions.
"""

from __future__ import annotations

import pytest

from kiosk.scanner.backend import decoder_over
from tests.zxing_c_build import zxing_c_library


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
