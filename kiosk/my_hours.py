"""我的时长 / "My hours": a volunteer asks the kiosk for their own page without checking in
or out. No Kivy here: the home screen's button arms the desk, the next badge scan while it
is armed is answered here (read only: no attendance row, no outbox event), and the screen
shows the answer.

    >>> desk = MyHoursDesk(attendance)
    >>> desk.arm(now)                    # the button: "show your badge"
    >>> desk.armed(now)
    True
    >>> answer = desk.answer(text)       # the next scan: disarms; a MyHours, never a Decision
    >>> answer.page_url                  # the signed, expiring link (as after a check-out)

The badge is checked exactly as a scan checks it (signature, expiry, revocation); a
refusal says why with the same stable codes. The figures are those a check-out shows
(the city's totals from the last pull plus this kiosk's unsent sessions), unchanged.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

from sync import stars
from sync.badges import verify

from kiosk.attendance import Attendance, display_name

ARMED_SECONDS = 30      # the prompt waits this long for a badge, then the screen goes home


@dataclass
class MyHours:
    result: str                        # "my_hours" / "refused"
    code: str = "ok"                   # a refusal: sync.badges reason codes; "no_link" when no page yet
    vid: str | None = None
    name: str | None = None            # masked: 林*国
    at: int = 0
    page_url: str | None = None        # None before the center has sent this station its key
    year_minutes: int = 0
    year_pending_minutes: int = 0
    total_minutes: int = 0
    city: bool = False
    stars: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


class MyHoursDesk:
    """Armed by the button for ARMED_SECONDS; the first scan after that is answered here."""

    def __init__(self, attendance: Attendance):
        self.attendance = attendance
        self._until: float | None = None
        self._lock = threading.Lock()     # armed by the UI thread, taken by the DB worker

    def arm(self, now: float, seconds: float = ARMED_SECONDS) -> None:
        with self._lock:
            self._until = now + seconds

    def disarm(self) -> None:
        with self._lock:
            self._until = None

    def armed(self, now: float) -> bool:
        with self._lock:
            return self._until is not None and now < self._until

    def take(self, now: float) -> bool:
        """True (and disarmed) when a scan arriving now is for this desk."""
        with self._lock:
            mine = self._until is not None and now < self._until
            self._until = None
            return mine

    def answer(self, text: str, at: int | None = None) -> MyHours:
        """What the volunteer whose badge this is may see: nothing is written."""
        att = self.attendance
        store = att.store
        at = int(store.clock() if at is None else at)
        check = verify(text, att.keyring(), today=att.local_date(at))
        if not check.valid:
            return MyHours("refused", check.code, vid=check.vid, at=at)
        if store.is_revoked(check.serial):
            return MyHours("refused", "revoked", vid=check.vid, at=at)
        year, pending, ever, city = att.totals(check.vid, at)
        url = att.own_page_url(check.vid, at)
        return MyHours("my_hours", "ok" if url else "no_link", vid=check.vid,
                       name=display_name(store.volunteer_name(check.vid), check.vid), at=at, page_url=url,
                       year_minutes=year, year_pending_minutes=pending, total_minutes=ever, city=city,
                       stars=stars.level(ever, att.star_hours()))
