"""Shared by the bench scripts: percentiles and the table every script prints.

Each row is a figure beside its anchor (measured in the same run, or a stated goal),
with their ratio, so a reader sees at once how far from the anchor a figure is.
"""

from __future__ import annotations

import statistics


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def p50(samples):
    return statistics.median(samples)


def p99(samples):
    return percentile(samples, 99)


def print_table(title: str, rows: list[tuple], headers=("figure", "value", "anchor", "anchor value", "ratio", "goal")) -> None:
    """rows: (figure, value, anchor name, anchor value, goal text); the ratio is computed here."""
    table = [headers]
    for figure, value, anchor, anchor_value, goal in rows:
        ratio = f"{value / anchor_value:.2f}×" if isinstance(value, (int, float)) and anchor_value else "–"
        table.append((figure, fmt(value), anchor, fmt(anchor_value), ratio, goal))
    widths = [max(_width(str(r[i])) for r in table) for i in range(len(headers))]
    print(f"\n## {title}\n")
    for n, row in enumerate(table):
        print("| " + " | ".join(_pad(str(c), w) for c, w in zip(row, widths)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
