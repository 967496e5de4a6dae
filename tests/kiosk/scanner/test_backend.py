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


def test_c_api_image_view_refuses_what_would_read_out_of_bounds(zxing_c_lib):
    import numpy as np
    import pytest

    from kiosk.scanner import zxing_c

    buf = bytes(4 * 4 * 4)
    with pytest.raises(ValueError, match="too small"):
        zxing_c.ImageView(buf, 4, 5, zxing_c.ImageFormat.RGBA)          # one row more than there is
    with pytest.raises(ValueError, match="too small"):
        zxing_c.ImageView(buf, 4, 4, zxing_c.ImageFormat.RGBA, 20)      # padded rows past the end
    with pytest.raises(ValueError, match="strides"):
        zxing_c.ImageView(buf, 4, 4, zxing_c.ImageFormat.RGBA, -16)
    with pytest.raises(ValueError, match="size"):
        zxing_c.ImageView(buf, 0, 4, zxing_c.ImageFormat.RGBA)
    view = zxing_c.ImageView(buf, 4, 4, zxing_c.ImageFormat.RGBA)
    assert np.asarray(view).shape == (4, 4, 4) and zxing_c.read_barcodes(view) == []
    with pytest.raises(TypeError, match="uint8"):
        zxing_c.read_barcodes(np.zeros((4, 4), np.float32))
    huge = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), shape=(2, 2), strides=(1 << 32, 0))
    with pytest.raises(ValueError, match="too large"):
        zxing_c.read_barcodes(huge)                                     # a stride no C int holds
    with pytest.raises(ValueError, match="channels"):
        zxing_c.read_barcodes(np.zeros((4, 4, 4), np.uint8))           # the wheel refuses 4 channels too


def test_c_api_reads_concurrently(zxing_c_lib):
    """ctypes releases the GIL in each call: reads from several threads at once give the same answers."""
    from concurrent.futures import ThreadPoolExecutor

    from kiosk.scanner import zxing_c

    from .helpers import BADGE, qr_rgb

    img = qr_rgb()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: [b.text for b in zxing_c.read_barcodes(img[:, :, ::-1].copy())], range(16)))
    assert results == [[BADGE]] * 16


def test_c_api_speaks_the_wheels_names(zxing_c_lib):
    """What a decoder may ask of either backend: the same names, the same answers on the same picture."""
    import zxingcpp

    from kiosk.scanner import zxing_c

    from .helpers import BADGE, qr_rgb

    img = qr_rgb()[:, :, ::-1].copy()      # a 3-channel array is BGR to both
    for name in ("GlobalHistogram", "LocalAverage", "FixedThreshold"):
        wheel = [b.text for b in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode,
                                                         binarizer=getattr(zxingcpp.Binarizer, name), try_rotate=False)]
        capi = [b.text for b in zxing_c.read_barcodes(img, formats=zxing_c.BarcodeFormat.QRCode,
                                                       binarizer=getattr(zxing_c.Binarizer, name), try_rotate=False)]
        assert wheel == capi == [BADGE], name
    assert zxing_c.read_barcode(img).text == zxingcpp.read_barcode(img).text == BADGE
    assert zxing_c.read_barcode(img[:10, :10].copy()) is None
    one = zxing_c.read_barcode(img)
    assert one.valid and one.error is None and one.format == zxing_c.BarcodeFormat.QRCode and one.bytes == BADGE.encode()
