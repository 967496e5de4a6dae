"""kiosk.scanner.backend: which zxing-cpp the decoder runs on, chosen in one place."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[3]

PROBE = (
    "import sys\n"
    "{prelude}"
    "from kiosk.scanner import backend, decoder\n"
    "import numpy, qrcode\n"
    "img = qrcode.make('WG1:PROBE').get_image().convert('L')\n"
    "print(backend.NAME, decoder.decode(img), decoder.decode(numpy.zeros((8, 8), numpy.uint8)))\n"
)


def run(env_extra: dict, prelude: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-c", PROBE.format(prelude=prelude)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_wheel_absent_selects_the_c_api(zxing_c_lib):
    # sys.modules['zxingcpp'] = None makes `import zxingcpp` fail, as on Android where there is no wheel.
    result = run({"WEIGUANG_DECODER": ""}, prelude="sys.modules['zxingcpp'] = None\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["zxing-c", "['WG1:PROBE']", "[]"]


def test_env_forces_a_backend(zxing_c_lib):
    assert run({"WEIGUANG_DECODER": "zxing-c"}).stdout.split()[0] == "zxing-c"
    assert run({"WEIGUANG_DECODER": "wheel"}).stdout.split()[0] == "wheel"


def test_unknown_backend_is_an_error_not_a_default():
    result = run({"WEIGUANG_DECODER": "zbar"})
    assert result.returncode != 0 and "WEIGUANG_DECODER='zbar'" in result.stderr


def test_missing_library_says_how_to_build_it():
    result = run({"WEIGUANG_DECODER": "zxing-c", "WEIGUANG_ZXING_C_LIB": "/nonexistent/libZXing.so"})
    assert result.returncode != 0
    assert "tools/android/build_zxing_c.sh" in result.stderr and "/nonexistent/libZXing.so" in result.stderr


def test_c_api_version_is_the_pinned_source(zxing_c_lib):
    from kiosk.scanner import zxing_c

    assert zxing_c.version() == zxing_c.ZXING_VERSION
    # The QR format id computed here is the library's own.
    lib = zxing_c._load()[0]
    assert lib.ZXing_BarcodeFormatFromString(b"QRCode") == zxing_c.BarcodeFormat.QRCode
