"""The kiosk gives its heaps' free pages back (kiosk/heap.py), in a process of its own."""

import subprocess
import sys

import pytest

SCRIPT = r"""
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
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    grown, freed, after, kept = done.stdout.split()
    assert float(freed) > float(grown) - 5          # glibc kept the freed 40 MB resident
    assert float(after) < float(freed) - 30         # given back; what is kept stays
    assert kept == "400"
