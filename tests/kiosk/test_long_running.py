"""What a kiosk meets only after hours of scans (the memory bench's 3,000 scans found it)."""

from __future__ import annotations

import os


def test_a_wrap_label_measures_more_texts_than_its_cache_holds():
    """Every check-in headline carries its time ("签到成功 02:37"): after a few hundred scans the
    label's width cache was full, cleared after the new width went in, and the next line read
    the width back from the emptied cache: a KeyError on the UI thread, the app gone."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kiosk.ui.widgets import WrapLabel
    label = WrapLabel()
    widths = [label._measure(f"签到成功 {i // 60:02d}:{i % 60:02d}") for i in range(1200)]
    assert all(w > 0 for w in widths)
    assert len(label._widths) <= 512                       # still bounded
    assert label._measure("签到成功 00:00") == widths[0]   # the same text, the same width
