"""The failed-scan log: every refused scan leaves one row and one outbox event (issue 11).

    >>> log = FailedScans(store)
    >>> log.record(decision, text)          # after Attendance decided "refused"; True: a new row
    >>> log.today(tz)                       # today's rows for coordinator mode, newest first

What is kept: the time, the refusal code, and the badge's number and serial when the text was
one of ours (its signature checked: expired, revoked, out of order…). A foreign code (a URL, a
payment code, a poster) is kept as its code alone: its text never reaches the disk or the center.

The same thing read again within REPEAT_SECONDS of its last read is the same failed scan
(sliding: a refused badge held in front of the camera for 20 s is one row, its `reads`
counted). "The same thing" is the code and the badge's serial, or for a text that is not one
of ours, a hash of the text kept in memory only.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sync import wire
from kiosk.store import FailedScan, KioskStore, db

REPEAT_SECONDS = 10
# A refusal that is a question, not a failure: the volunteer picks an activity and scans on.
NOT_FAILURES = frozenset({"choose_activity"})
# Codes whose badge fields are trusted (the signature was checked before them).
TRUSTED_FIELDS = frozenset({"expired", "revoked", "out_of_order", "activity_not_open"})


class FailedScans:
    def __init__(self, store: KioskStore):
        self.store = store
        self._recent: dict[tuple, tuple[str, int]] = {}   # what was read -> (row id, last read)
        self._lock = threading.Lock()

    def _key(self, code: str, vid: str | None, serial: int | None, text: str) -> tuple:
        if vid is not None and serial is not None:
            return (code, vid, serial)
        return (code, hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).digest())

    def record(self, code: str, text: str, at: int, vid: str | None = None, serial: int | None = None) -> bool:
        """Record one refused read; True when it made a new row (and an outbox event)."""
        if code in NOT_FAILURES:
            return False
        if code not in TRUSTED_FIELDS:
            vid = serial = None
        key = self._key(code, vid, serial, text)
        with self._lock:
            seen = self._recent.get(key)
            if seen is not None and 0 <= at - seen[1] < REPEAT_SECONDS:
                self._recent[key] = (seen[0], at)
                with self.store.writing():
                    db.execute_sql("UPDATE failed_scans SET reads = reads + 1, last_at = ? WHERE id = ?",
                                   (at, seen[0]))
                return False
            row_id = str(uuid.uuid4())
            payload = wire.failed_scan_payload(id=row_id, at=at, code=code[:32], vid=vid, serial=serial)
            self.store.record("failed_scan", payload, lambda: db.execute_sql(
                "INSERT INTO failed_scans (id, at, last_at, code, vid, serial, reads) VALUES (?, ?, ?, ?, ?, ?, 1)",
                (row_id, at, at, payload["code"], vid, serial)))
            self._recent[key] = (row_id, at)
            if len(self._recent) > 256:   # forget old reads; the map never grows
                self._recent = {k: v for k, v in self._recent.items() if at - v[1] < REPEAT_SECONDS}
            return True

    def today(self, tz: ZoneInfo, now: int | None = None) -> list[FailedScan]:
        """Today's failed scans (the station's day), newest first."""
        now = int(self.store.clock() if now is None else now)
        day = datetime.fromtimestamp(now, tz).replace(hour=0, minute=0, second=0, microsecond=0)
        start, end = int(day.timestamp()), int((day + timedelta(days=1)).timestamp())
        return list(FailedScan.select().where((FailedScan.at >= start) & (FailedScan.at < end))
                    .order_by(FailedScan.at.desc()))
