"""The arithmetic of the coordinator's time picker: big steps, no typing.

A correction picks a time by steps (±1 h, ±10 min, ±1 min) from the recorded one,
inside bounds that make sense for the field being corrected:

- a check-in: not after the check-out (or now, while the session is open), and not more
  than a day before the recorded check-in;
- a check-out: not before the check-in, and not after now.

    pick = TimePick.for_session("check_out", check_in_at=..., check_out_at=..., now=...)
    pick = pick.step(-10 * 60)          # -10 min
    pick.value                          # Unix seconds, whole minutes

The rules of what a correction may do stay in kiosk.attendance / sync.hours; this only
keeps the picker from offering a time they would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

STEPS = (-3600, -600, -60, 60, 600, 3600)     # the picker's buttons, in seconds
DAY = 86400


@dataclass(frozen=True)
class TimePick:
    value: int
    lowest: int
    highest: int

    @classmethod
    def for_session(cls, field: str, check_in_at: int, check_out_at: int | None, now: int) -> "TimePick":
        if field not in ("check_in", "check_out"):
            raise ValueError(f"unknown field {field!r}")
        now = _minute(now)
        if field == "check_in":
            highest = min(_minute(check_out_at) if check_out_at else now, now)
            lowest = _minute(check_in_at) - DAY
            start = _minute(check_in_at)
        else:
            lowest = _minute(check_in_at) + 60
            highest = max(now, lowest)
            start = _minute(check_out_at) if check_out_at else now
        return cls(value=min(max(start, lowest), highest), lowest=lowest, highest=highest)

    def step(self, seconds: int) -> "TimePick":
        """Move by `seconds`, stopping at the bounds."""
        return replace(self, value=min(max(self.value + int(seconds), self.lowest), self.highest))

    def at_bound(self, seconds: int) -> bool:
        return self.step(seconds).value == self.value


def _minute(ts: int) -> int:
    return int(ts) // 60 * 60


def step_label(seconds: int, lang: str = "zh_CN") -> str:
    """'+1 小时' / '-10 分' / '+1 h' / '-10 min'."""
    sign = "+" if seconds > 0 else "-"
    amount = abs(seconds)
    if lang == "en":
        return f"{sign}{amount // 3600} h" if amount >= 3600 else f"{sign}{amount // 60} min"
    return f"{sign}{amount // 3600} 小时" if amount >= 3600 else f"{sign}{amount // 60} 分"
