"""What a kiosk meets only after hours of scans (the memory bench's 3,000 scans found it),
and what keeps its memory small."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def test_a_wrap_label_measures_more_texts_than_its_cache_holds():
    """Every check-in headline carries its time ("签到成功 02:37"): after a few hundred scans the
    label's width cache was full, cleared after the new width went in, and the next line read
    the width back from the emptied cache: a KeyError on the UI thread, the app gone."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kiosk.ui.widgets import WrapLabel
    label = WrapLabel()
    widths = [label._measure(f"签到成功 {i // 60:02d}:{i % 60:02d}") for i in range(1200)]
    assert all(w > 0 for w in widths)
    assert len(label._widths) <= 512                       # still bounded
    assert label._measure("签到成功 00:00") == widths[0]   # the same text, the same width


def test_the_page_qr_is_qrcodes_own_picture_without_pillow():
    import subprocess
    import sys
    from pathlib import Path
    script = """
import sys
from kiosk.qrpixels import qr_rgb
texts = ['https://center.example/me/14020200001?e=1796040000&s=' + 'x' * 43, 'WG1:' + 'A' * 140, 'a']
pictures = [qr_rgb(t) for t in texts] + [qr_rgb('https://example.org/a/a1', box=5, border=4)]
print('PIL' in sys.modules)
import qrcode
for t, (text, box, border) in zip(pictures, [(x, 8, 2) for x in texts] + [('https://example.org/a/a1', 5, 4)]):
    img = qrcode.make(text, box_size=box, border=border).get_image().convert('RGB')
    assert (img.width, img.height) == (t.width, t.height) and img.tobytes() == t.rgb, text
print('same')
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == ["False", "same"], out.stderr[-2000:]


TRIM_SCRIPT = r"""
import sys
from kiosk.heap import give_back

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

# 40 MB in blocks under glibc's mmap threshold (so they come from the heap), each followed by a
# small block that stays: the freed space is in the middle of the heap, not at its top
big, keep = [], []
for i in range(400):
    big.append(bytearray(100 * 1024))
    keep.append(bytearray(600))
grown = rss_mb()
big.clear()
freed = rss_mb()
assert give_back() is True
after = rss_mb()
print(round(grown, 1), round(freed, 1), round(after, 1), len(keep))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_give_back_returns_freed_heap_pages_to_the_system():
    done = subprocess.run([sys.executable, "-c", TRIM_SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    grown, freed, after, kept = done.stdout.split()
    assert float(freed) > float(grown) - 5          # glibc kept the freed 40 MB resident
    assert float(after) < float(freed) - 30         # given back; what is kept stays
    assert kept == "400"
