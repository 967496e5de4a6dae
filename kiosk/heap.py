"""Give the C heap's free pages back to the system, now and then.

    give_back()          # glibc: malloc_trim(0); elsewhere nothing (False)

glibc keeps what a program frees inside its heaps, resident, for the next allocation: the
kiosk frees large blocks all day (the text textures of each decision screen, the buffers of the
renderer, the decoder and SQLite), and those freed pages stayed in the kiosk's memory
(≈ 7–9 MB of RSS after 800 scans in bench/bench_ui.py, which shows them going after a trim).
`malloc_trim(0)` returns every whole free page of every arena (madvise), keeping what is in use;
it took ≈ 1.2 ms after 800 scans. Fixing glibc's mmap threshold instead (kiosk/lean.py) gave the
same memory back but made each decoded frame slower; jemalloc and mimalloc (LD_PRELOAD) gave
nothing measurable.

The app calls it every TRIM_SECONDS on its DB worker (kiosk/app.py): a scan waiting behind it
waits about a millisecond.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

TRIM_SECONDS = 10.0

_trim = None
_looked = False


def _malloc_trim():
    global _trim, _looked
    if not _looked:
        _looked = True
        if sys.platform.startswith("linux"):
            try:
                fn = ctypes.CDLL(None).malloc_trim     # glibc; Android's bionic has none
                fn.argtypes = [ctypes.c_size_t]
                fn.restype = ctypes.c_int
                _trim = fn
            except (AttributeError, OSError):
                _trim = None
    return _trim


def give_back() -> bool:
    """Return the heaps' free pages to the system; True when the C library could."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
