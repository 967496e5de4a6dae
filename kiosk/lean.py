"""What the kiosk process leaves out, to stay small on a 2 GB station PC.

    lean_process()      # before anything imports peewee: the kiosk never speaks PostgreSQL

peewee imports psycopg2 when it is installed (a server install has it): with its own copies of
libpq, libssl and libcrypto, about 5 MB the kiosk never uses. What a kiosk needs is imported
when it is needed: OpenCV with the camera (kiosk.capture), qrcode when a QR is drawn,
reportlab never; badges are verified through the libcrypto Python has loaded already
(sync.verify_key), not the cryptography package.

Tried and left out: glibc raises its mmap threshold to the size of the first large buffer
freed, so large buffers are cut from the heaps, where the freed space stays resident. Fixing the
threshold at 128 KiB (mallopt M_MMAP_THRESHOLD) gave ≈ 10 MB back but made every buffer of the
decoder its own mmap, page faults included: a decoded frame took 2.2 instead of 1.2 ms of CPU
(at 320 KiB, 1.6 ms for less memory). A scan must not get slower for memory: the camera reads
into reused buffers instead (kiosk/capture.py) and the free pages are given back now and then
(kiosk/heap.py: malloc_trim, ≈ 1 ms). MALLOC_ARENA_MAX=1 or 2, jemalloc and mimalloc
(LD_PRELOAD) gave nothing measurable.
"""

from __future__ import annotations

import sys

NOT_IN_A_KIOSK = ("psycopg2",)


def lean_process() -> None:
    import os
    # numpy and OpenCV each bring an OpenBLAS that starts a thread per core at import; the
    # kiosk does no linear algebra (the decoder has its own thread).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for name in NOT_IN_A_KIOSK:
        if name not in sys.modules:
            sys.modules[name] = None    # `import psycopg2` now raises ImportError: peewee goes without

