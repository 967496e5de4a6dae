"""The hours rules: one copy, used by the kiosk (instant feedback) and the server (authoritative).

Rules are data. A center sets defaults, a station may override them, and an activity
may override again::

    >>> rules = HoursRules().merged({"rounding_minutes": 30})
    >>> credit(check_in=0, check_out=2 * 3600 + 20 * 60, rules=rules)
    Credit(minutes=120, flags=())

All times here are Unix seconds (UTC); nothing in this module reads a clock.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

# Flags a session can carry; the server shows flagged sessions to a coordinator for review.
FLAG_AUTO_CLOSED = "auto_closed"        # nobody scanned out; closed at activity end + grace
FLAG_CAPPED = "capped"                  # longer than the maximum credit; credit was cut
FLAG_BELOW_MINIMUM = "below_minimum"    # shorter than the minimum; nothing credited
FLAG_CORRECTED = "corrected"            # a coordinator changed a time
FLAG_OFFLINE = "recorded_offline"       # server side: reached the server long after it happened
FLAG_CLOCK_SKEW = "clock_skew"          # server side: the kiosk clock was more than 5 minutes off
FLAG_TWO_STATIONS = "two_stations"      # server side: the same badge at two stations within minutes


@dataclass(frozen=True)
class HoursRules:
    rounding_minutes: int = 15          # credit is rounded down to a multiple of this
    min_credit_minutes: int = 15        # a shorter session credits nothing (and is flagged)
    max_credit_minutes: int = 480       # one session never credits more than this
    auto_checkout_grace_minutes: int = 30  # open sessions close at activity end + grace
    station_duty_max_minutes: int = 240 # general station duty has no end time: close after this
    repeat_window_seconds: int = 120    # the same badge again this soon is a repeat, not a check-out
    held_badge_seconds: int = 5         # a badge still in front of the camera (seen again within this)
    early_checkin_minutes: int = 30     # an activity is open for check-in this long before it starts

    def merged(self, overrides: dict | None) -> "HoursRules":
        """These rules with known keys of `overrides` applied (unknown keys are ignored)."""
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        values = {k: int(v) for k, v in overrides.items() if k in known and v is not None}
        merged = replace(self, **values)
        merged.validate()
        return merged

    def validate(self) -> None:
        if self.rounding_minutes < 1:
            raise ValueError("rounding_minutes must be at least 1")
        if not 0 <= self.min_credit_minutes <= self.max_credit_minutes:
            raise ValueError("need 0 <= min_credit_minutes <= max_credit_minutes")
        for f in fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f"{f.name} must not be negative")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Credit:
    minutes: int
    flags: tuple[str, ...] = ()


def credit(check_in: int, check_out: int, rules: HoursRules, flags: tuple[str, ...] = ()) -> Credit:
    """Minutes credited for a session; never more than the wall-clock time between the scans."""
    flags = tuple(flags)
    elapsed_minutes = max(0, check_out - check_in) // 60
    minutes = min(elapsed_minutes, rules.max_credit_minutes)
    if minutes < elapsed_minutes:
        flags += (FLAG_CAPPED,)
    minutes -= minutes % rules.rounding_minutes
    if minutes < rules.min_credit_minutes:
        if elapsed_minutes > 0:
            flags += (FLAG_BELOW_MINIMUM,)
        minutes = 0
    return Credit(minutes, flags)


def auto_close_at(check_in: int, activity_end: int | None, rules: HoursRules) -> int:
    """When an open session is closed for the volunteer who never scanned out."""
    if activity_end is None:  # general station duty
        return check_in + rules.station_duty_max_minutes * 60
    return max(check_in, activity_end + rules.auto_checkout_grace_minutes * 60)


def is_open_for_checkin(starts_at: int, ends_at: int, at: int, rules: HoursRules) -> bool:
    return starts_at - rules.early_checkin_minutes * 60 <= at < ends_at


@dataclass(frozen=True)
class Scan:
    """One accepted scan, as the server rebuilds sessions from events."""
    at: int
    vid: str
    activity_id: str | None
    kind: str  # "in" or "out"


def pair_sessions(scans: list[Scan]) -> list[tuple[Scan, Scan | None]]:
    """Pair each check-in with the next check-out of the same volunteer and activity.

    A check-in followed by another check-in of the same pair stays open (None): the
    caller closes it by the auto-close rule. A check-out with no check-in is dropped.
    """
    open_by_key: dict[tuple, Scan] = {}
    pairs: list[tuple[Scan, Scan | None]] = []
    for scan in sorted(scans, key=lambda s: s.at):
        key = (scan.vid, scan.activity_id)
        if scan.kind == "in":
            if key in open_by_key:
                pairs.append((open_by_key.pop(key), None))
            open_by_key[key] = scan
        elif key in open_by_key:
            pairs.append((open_by_key.pop(key), scan))
    pairs.extend((scan, None) for scan in open_by_key.values())
    return sorted(pairs, key=lambda p: p[0].at)
