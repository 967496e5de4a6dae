"""Tell a USB keyboard-wedge scanner from a person typing.

A wedge scanner presents itself as a keyboard: it "types" the decoded text a few milliseconds per
character and ends with Enter. Feed every character the keyboard delivers, with its time in seconds:

    parser = WedgeParser()
    for char, t in key_events:             # e.g. from Window.on_textinput / on_key_down
        text = parser.feed(char, t)
        if text is not None:
            handle_scan(text)

feed() returns the scanned text when Enter ('\\r' or '\\n') ends a burst whose gaps between keys were
all <= max_gap and which is at least min_length long; otherwise None. A person typing (gaps of
~100 ms and more) never produces a scan, and a pause longer than max_gap starts a new burst, so
keys typed by hand before a scan do not leak into it.
"""

from __future__ import annotations

__all__ = ["WedgeParser"]

_ENTER = ("\r", "\n")


class WedgeParser:
    def __init__(self, max_gap: float = 0.050, min_length: int = 4) -> None:
        self.max_gap = max_gap
        self.min_length = min_length
        self._buf: list[str] = []
        self._last: float | None = None  # time of the previous key, None when idle

    def reset(self) -> None:
        self._buf.clear()
        self._last = None

    def feed(self, char: str, t: float) -> str | None:
        gap_ok = self._last is None or (t - self._last) <= self.max_gap
        if not gap_ok:
            # A long pause: whatever came before belongs to someone typing, not to this scan.
            self._buf.clear()
        self._last = t

        if char in _ENTER:
            text = "".join(self._buf)
            self.reset()
            # The Enter itself must follow the last character quickly, like every other key.
            if gap_ok and len(text) >= self.min_length:
                return text
            # A "\r\n" pair from scanners that send both: the "\n" arrives on an empty buffer and
            # is ignored here by the length check.
            return None

        self._buf.append(char)
        return None
