"""What the kiosk process leaves out, and gives back, to stay small on a 2 GB station PC.

    lean_process()      # before anything imports peewee: the kiosk never speaks PostgreSQL
    give_back()         # after start-up: freed C heap pages go back to the system

peewee imports psycopg2 when it is installed (a server install has it): with its own copies of
libpq, libssl and libcrypto, about 5 MB the kiosk never uses. What a kiosk needs is imported
when it is needed: OpenCV with the camera (kiosk.capture), cryptography at the first badge
check, qrcode when a QR is drawn, reportlab never.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

NOT_IN_A_KIOSK = ("psycopg2",)


def lean_process() -> None:
    for name in NOT_IN_A_KIOSK:
        if name not in sys.modules:
            sys.modules[name] = None    # `import psycopg2` now raises ImportError: peewee goes without


def give_back() -> bool:
    """glibc's malloc_trim(0): start-up (kv parsing, fonts, images) leaves freed pages in the C
    heap; hand them back. False where there is no glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):
        return False
