"""What the kiosk process leaves out, to stay small on a 2 GB station PC.

    lean_process()      # before anything imports peewee: the kiosk never speaks PostgreSQL

peewee imports psycopg2 when it is installed (a server install has it): with its own copies of
libpq, libssl and libcrypto, about 5 MB the kiosk never uses. What a kiosk needs is imported
when it is needed: OpenCV with the camera (kiosk.capture), qrcode when a QR is drawn,
reportlab never; badges are verified through the libcrypto Python has loaded already
(sync.verify_key), not the cryptography package.

Large buffers in their own mappings (glibc only): the camera gives a new 640x480 frame
(900 KB) 30 times a second on its thread, the decoder makes its grey copies on another and the
UI thread uploads the frames, so frame-sized buffers of three threads with overlapping lives
come and go all the time. glibc serves a request of 128 KiB or more with its own mmap, freed
at once, but it raises that threshold to the size of the first such buffer freed (up to
32 MiB): from then on every frame is cut from the heaps, where the threads' buffers interleave
and the freed space is kept (about 10 MB more RSS in the memory bench; malloc_trim had
nothing to give back, and MALLOC_ARENA_MAX=2 changed nothing). Fixing the threshold at
128 KiB (mallopt M_MMAP_THRESHOLD, which also stops the adjustment) keeps frames out of the
heaps; it costs a page fault per 4 KiB of a new frame (about 0.1 ms a frame).
"""

from __future__ import annotations

import sys

NOT_IN_A_KIOSK = ("psycopg2",)
M_MMAP_THRESHOLD = -3              # glibc's malloc.h
MMAP_THRESHOLD = 128 * 1024        # glibc's default, fixed: no more dynamic raising


def lean_process() -> None:
    import os
    # numpy and OpenCV each bring an OpenBLAS that starts a thread per core at import; the
    # kiosk does no linear algebra (the decoder has its own thread).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for name in NOT_IN_A_KIOSK:
        if name not in sys.modules:
            sys.modules[name] = None    # `import psycopg2` now raises ImportError: peewee goes without
    fix_mmap_threshold()


def fix_mmap_threshold() -> bool:
    """glibc: large buffers always in their own mappings (see above). False elsewhere."""
    import platform
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False                    # Android's bionic, musl: their own allocators
    import ctypes
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
