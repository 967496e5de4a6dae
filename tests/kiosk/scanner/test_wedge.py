"""kiosk.scanner.wedge: scanner bursts are scans, people typing are not."""

import pytest

from kiosk.scanner.wedge import WedgeParser


def feed_all(parser, text, start, gap, enter="\r"):
    """Type `text` then `enter`, one key every `gap` seconds; returns every non-None result."""
    results, t = [], start
    for ch in text + enter:
        out = parser.feed(ch, t)
        if out is not None:
            results.append(out)
        t += gap
    return results, t


def test_fast_burst_is_a_scan():
    results, _ = feed_all(WedgeParser(), "WG1:ABCDEF234", start=100.0, gap=0.004)
    assert results == ["WG1:ABCDEF234"]


@pytest.mark.parametrize("enter", ["\r", "\n", "\r\n"])
def test_enter_variants_give_exactly_one_scan(enter):
    results, _ = feed_all(WedgeParser(), "WG1:XYZ", start=0.0, gap=0.003, enter=enter)
    assert results == ["WG1:XYZ"]


def test_person_typing_is_not_a_scan():
    results, _ = feed_all(WedgeParser(), "hello world", start=5.0, gap=0.12)
    assert results == []


def test_gap_just_over_the_limit_is_not_a_scan():
    results, _ = feed_all(WedgeParser(max_gap=0.05), "WG1:ABCD", start=0.0, gap=0.051)
    assert results == []


def test_typing_then_scan_yields_only_the_scan():
    parser = WedgeParser()
    typed, t = feed_all(parser, "abc", start=0.0, gap=0.2, enter="")
    t += 0.5  # the badge comes a moment later
    scanned, t = feed_all(parser, "WG1:QRSTUV", start=t, gap=0.005)
    assert typed == [] and scanned == ["WG1:QRSTUV"]
    # and a person typing afterwards still gets nothing
    after, _ = feed_all(parser, "1234", start=t + 1, gap=0.15)
    assert after == []


def test_two_scans_back_to_back():
    parser = WedgeParser()
    first, t = feed_all(parser, "WG1:ONE1", start=0.0, gap=0.005)
    second, _ = feed_all(parser, "WG1:TWO2", start=t + 0.8, gap=0.005)
    assert first == ["WG1:ONE1"] and second == ["WG1:TWO2"]


def test_too_short_burst_is_ignored():
    results, _ = feed_all(WedgeParser(min_length=4), "abc", start=0.0, gap=0.002)
    assert results == []


def test_long_pause_mid_burst_resets_the_buffer():
    parser = WedgeParser()
    feed_all(parser, "JUNK", start=0.0, gap=0.005, enter="")
    results, _ = feed_all(parser, "WG1:FRESH", start=2.0, gap=0.005)
    assert results == ["WG1:FRESH"]


def test_slow_enter_after_fast_chars_is_not_a_scan():
    parser = WedgeParser()
    feed_all(parser, "WG1:ABCD", start=0.0, gap=0.005, enter="")
    assert parser.feed("\r", 1.0) is None
