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

# Flags a session can carry. Each is either informational (the credit stands) or a reason
# for review: the session then counts in no total until a person approves it.
FLAG_AUTO_CLOSED = "auto_closed"        # nobody scanned out; closed at activity end + grace
FLAG_LATE_CHECKOUT = "late_checkout"    # scanned out after the automatic close: end time proposed
FLAG_CAPPED = "capped"                  # longer than the maximum credit; credit was cut
FLAG_BELOW_MINIMUM = "below_minimum"    # shorter than the minimum; nothing credited
FLAG_CORRECTED = "corrected"            # a coordinator changed a time at the kiosk
FLAG_OFFLINE = "recorded_offline"       # server side: reached the server long after it happened
FLAG_CLOCK_SKEW = "clock_skew"          # server side: the kiosk clock was more than 5 minutes off
FLAG_TWO_STATIONS = "two_stations"      # server side: the same badge at two stations within minutes
FLAG_FUTURE_TIME = "future_time"        # a time later than the clock that judged it (plus tolerance)
FLAG_UNKNOWN_VOLUNTEER = "unknown_volunteer"  # server side: the number is on no roster
FLAG_REVOKED_BADGE = "revoked_badge"    # server side: the badge serial was revoked before the scan

# Doubtful: a session carrying one of these waits for a person (state "review").
REVIEW_FLAGS = frozenset({FLAG_AUTO_CLOSED, FLAG_LATE_CHECKOUT, FLAG_CLOCK_SKEW, FLAG_TWO_STATIONS,
                          FLAG_FUTURE_TIME, FLAG_UNKNOWN_VOLUNTEER, FLAG_REVOKED_BADGE})
# A coordinator's correction at the kiosk is the person's word on these.
APPROVED_BY_CORRECTION = frozenset({FLAG_AUTO_CLOSED, FLAG_LATE_CHECKOUT})
# Recomputed from the times on every change; every other flag, once set, stays.
COMPUTED_FLAGS = frozenset({FLAG_CAPPED, FLAG_BELOW_MINIMUM})

# Session states. Totals, reports, star levels and certificates count COUNTED_STATES only.
STATE_OPEN, STATE_CLOSED, STATE_REVIEW = "open", "closed", "review"
STATE_APPROVED, STATE_ADJUSTED, STATE_REJECTED = "approved", "adjusted", "rejected"
COUNTED_STATES = (STATE_CLOSED, STATE_APPROVED, STATE_ADJUSTED)
DECIDED_STATES = (STATE_APPROVED, STATE_ADJUSTED, STATE_REJECTED)   # a person's word: final
STATES = (STATE_OPEN, STATE_CLOSED, STATE_REVIEW, *DECIDED_STATES)


# The largest value each rule may take: rules are set at the center (per station or
# activity), and "max_credit_minutes: 10**30" credited one session 41,745 minutes.
RULE_MAXIMUMS = {
    "rounding_minutes": 60, "min_credit_minutes": 240, "max_credit_minutes": 1440,
    "auto_checkout_grace_minutes": 720, "station_duty_max_minutes": 1440, "repeat_window_seconds": 3600,
    "held_badge_seconds": 60, "early_checkin_minutes": 720, "out_of_order_window_seconds": 86400,
}


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
    # A scan earlier than the volunteer's last record by at most this is a replay, refused
    # out_of_order; further back, the kiosk clock was wrong (ahead, then set right): the
    # record from the "future" must not lock the volunteer out.
    out_of_order_window_seconds: int = 900

    def merged(self, overrides: dict | None) -> "HoursRules":
        """These rules with known keys of `overrides` applied (unknown keys are ignored,
        so an older kiosk takes a newer center's rules)."""
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
        for name, most in RULE_MAXIMUMS.items():
            if getattr(self, name) > most:
                raise ValueError(f"{name} must be at most {most}")
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
class Settled:
    """A session as the rules leave it: what it credits, why, and whether a person must look."""
    minutes: int | None     # None while open; for "review", the minutes proposed
    flags: tuple[str, ...]
    state: str              # open / closed / review


def split_flags(text: str | None) -> set[str]:
    return {f for f in (text or "").split(",") if f}


def settle(check_in: int, check_out: int | None, rules: HoursRules, flags=()) -> Settled:
    """The one computation of a session's credit, flags and state, called by the kiosk after
    every change it makes and by the server after every event it applies (keep both ends on
    this function: tests/test_hours_both_ends.py feeds them the same histories).

    `flags` are the session's observations so far (auto_closed, corrected, …); the computed
    ones (capped, below_minimum) are dropped and derived again from the times, so a
    correction never stacks them.

        >>> settle(0, 3 * 3600, HoursRules(), {"auto_closed"})
        Settled(minutes=180, flags=('auto_closed',), state='review')
    """
    sticky = set(flags) - COMPUTED_FLAGS
    if check_out is None:
        return Settled(None, tuple(sorted(sticky)), STATE_OPEN)
    result = credit(check_in, check_out, rules, tuple(sorted(sticky)))
    final = frozenset(result.flags)
    doubts = final & REVIEW_FLAGS
    if FLAG_CORRECTED in final:
        doubts -= APPROVED_BY_CORRECTION
    return Settled(result.minutes, tuple(sorted(final)), STATE_REVIEW if doubts else STATE_CLOSED)


def is_late_checkout(auto_closed_at: int, closed_by: str | None, at: int, same_local_day: bool) -> bool:
    """A scan after the automatic close of the volunteer's last session, on the same local
    day: that session's late check-out (its end proposed for review), not a new check-in."""
    return closed_by == "auto" and at >= auto_closed_at and same_local_day
