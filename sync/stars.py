"""Star levels (星级志愿者): one copy, used by the center (dashboard, reports, certificates)
and by the kiosk (the line after a check-out).

A volunteer's level comes from their cumulative confirmed hours (closed, approved and
adjusted sessions: `sync.hours.COUNTED_STATES`). The thresholds are data: a center sets
them in its hours rules as ``star_hours`` (five increasing whole numbers of hours); the
default is the common 100 / 300 / 600 / 1000 / 1500.

    >>> level(600 * 60)
    3
    >>> crossed(99 * 60, 101 * 60)
    1
    >>> label(3, "zh_CN"), label(3, "en")
    ('三星志愿者', '3-star volunteer')
"""

from __future__ import annotations

from bisect import bisect_right

DEFAULT_HOURS: tuple[int, ...] = (100, 300, 600, 1000, 1500)
RULES_KEY = "star_hours"
_ZH_DIGITS = "一二三四五六七八九十"


def thresholds(overrides: dict | None = None) -> tuple[int, ...]:
    """The thresholds (hours) from a rules dict (`RULES_KEY`), else the default."""
    value = (overrides or {}).get(RULES_KEY)
    if value is None:
        return DEFAULT_HOURS
    return check(value)


def check(value) -> tuple[int, ...]:
    """Validated thresholds: 1 to 10 strictly increasing positive whole numbers of hours."""
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 10:
        raise ValueError("star_hours must be a list of 1 to 10 whole numbers of hours")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError("star_hours must hold positive whole numbers of hours")
        if out and v <= out[-1]:
            raise ValueError("star_hours must be strictly increasing")
        out.append(v)
    return tuple(out)


def level(minutes: int | None, hours: tuple[int, ...] = DEFAULT_HOURS) -> int:
    """The star level (0: none yet) of `minutes` confirmed minutes."""
    return bisect_right([h * 60 for h in hours], int(minutes or 0))


def crossed(before_minutes: int | None, after_minutes: int | None,
            hours: tuple[int, ...] = DEFAULT_HOURS) -> int:
    """The level reached if going from `before` to `after` minutes crossed a threshold, else 0."""
    after = level(after_minutes, hours)
    return after if after > level(before_minutes, hours) else 0


def next_threshold(minutes: int | None, hours: tuple[int, ...] = DEFAULT_HOURS) -> int | None:
    """The hours of the next level, or None at the top."""
    n = level(minutes, hours)
    return hours[n] if n < len(hours) else None


def label(n: int, language: str = "zh_CN") -> str:
    """'三星志愿者' / '3-star volunteer'; '' for level 0."""
    if n <= 0:
        return ""
    if language == "en":
        return f"{n}-star volunteer"
    return f"{_ZH_DIGITS[n - 1] if n <= 10 else n}星志愿者"


def stars(n: int) -> str:
    return "★" * max(0, n)
