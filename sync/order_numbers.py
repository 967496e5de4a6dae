"""Order numbers (点单号) for residents' service requests: short, read aloud, unique across the fleet.

    >>> order_number("261130", kiosk_number=17, device_id="3f9a…", counter=1)
    '261130-17-001'
    >>> order_number("261130", kiosk_number=None, device_id="3f9a2c71-…", counter=1)
    '261130-L3F9A2C-001'
    >>> enrolled_kiosk_part("261130-17-001")
    '17'

Three groups, read aloud group by group: the kiosk's local date (YYMMDD), the kiosk, and a
counter that restarts every day. The kiosk is its **kiosk number**, assigned by the center at
enrolment and never given to another device, so numbers cannot collide across the fleet. A
kiosk that is not enrolled yet (standalone) has no kiosk number and uses ``L`` plus the
first six hex digits of its device id instead: the letter keeps those numbers apart from
every enrolled kiosk's.

The date comes first so that a number is never mistaken for the earlier ``ABCD-261130-001``
form (four hex digits of the device id first, which two kiosks could share): the center
can tell whose number an enrolled-form number is (`enrolled_kiosk_part`) and refuse a kiosk
that uses another's.
"""

from __future__ import annotations

import re

STANDALONE_PREFIX = "L"
_ENROLLED = re.compile(r"\d{6}-(\d+)-\d{3,}")


def kiosk_part(kiosk_number: int | None, device_id: str) -> str:
    """The middle group: the kiosk number, or L + six hex digits of the device id."""
    if kiosk_number is not None:
        return str(int(kiosk_number))
    hex_digits = "".join(ch for ch in device_id.upper() if ch in "0123456789ABCDEF")[:6]
    return STANDALONE_PREFIX + hex_digits.ljust(6, "0")


def order_number(day: str, kiosk_number: int | None, device_id: str, counter: int) -> str:
    """`day` is the local date as YYMMDD; `counter` counts this kiosk's orders of that day from 1."""
    return f"{day}-{kiosk_part(kiosk_number, device_id)}-{counter:03d}"


def prefix(day: str, kiosk_number: int | None, device_id: str) -> str:
    """What every number of this kiosk on `day` starts with (the counter follows)."""
    return f"{day}-{kiosk_part(kiosk_number, device_id)}-"


def enrolled_kiosk_part(number: str) -> str | None:
    """The kiosk group of a number in the enrolled kiosks' form (all digits: the kiosk number
    as the kiosk wrote it); None for any other form (a standalone kiosk's, the earlier one)."""
    match = _ENROLLED.fullmatch(number)
    return match.group(1) if match else None
