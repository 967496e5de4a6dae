"""The scanning pipeline runs without a screen: nothing under kiosk.scanner may pull in Kivy."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[3]


def test_scanner_does_not_import_kivy():
    code = (
        "import sys, numpy\n"
        "import kiosk.scanner, kiosk.scanner.decoder, kiosk.scanner.wedge, kiosk.scanner.replay\n"
        "import kiosk.scanner.worker, kiosk.scanner.cli\n"
        "assert kiosk.scanner.decoder.decode(numpy.zeros((8, 8), numpy.uint8)) == []\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'kivy', 'cv2'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # No Kivy; OpenCV only once a video is replayed or a bottom-up colour frame decoded.
    assert result.stdout.strip() == "[]"
