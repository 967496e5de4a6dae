"""What the kiosk process leaves out, to stay small on a 2 GB station PC.

    lean_process()      # before anything imports peewee: the kiosk never speaks PostgreSQL

peewee imports psycopg2 when it is installed (a server install has it): with its own copies of
libpq, libssl and libcrypto, about 5 MB the kiosk never uses. What a kiosk needs is imported
when it is needed: OpenCV with the camera (kiosk.capture), cryptography at the first badge
check, qrcode when a QR is drawn, reportlab never. (glibc's malloc_trim after start-up was
tried: the C heap had nothing free to give back.)
"""

from __future__ import annotations

import sys

NOT_IN_A_KIOSK = ("psycopg2",)


def lean_process() -> None:
    for name in NOT_IN_A_KIOSK:
        if name not in sys.modules:
            sys.modules[name] = None    # `import psycopg2` now raises ImportError: peewee goes without

