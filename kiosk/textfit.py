"""Line breaks for the kiosk's big words: between words, never inside one.

A toolkit wraps Chinese anywhere ("请出示志愿 / 者证件") and English at any space ("2.5 /
h this year"). Here a text is cut into pieces that are never broken, and lines are
filled with whole pieces:

- " · " separates parts of a headline, kept whole on a line when they fit ("本次 2.5
  小时", "2.5 h this year"); where a line breaks at one, the "·" goes (no dangling dot);
- inside a part too wide for a line, a space separates words; U+00A0 (no-break space) keeps two words together
  ("2.5\u00a0h this year" in a catalog), shown as a plain space;
- Chinese may break after its own punctuation (，。、；：！？; not ASCII: "01:32") and at U+200B (a zero-width
  space a catalog may put between words); never elsewhere, unless a piece is wider
  than the line even at the smallest size: then it breaks between characters, and
  still not inside the words of PROTECTED.

`measure(text)` is the width of `text` at REF_SIZE px (the screen passes its toolkit's
own measure, the tests an estimate), widths scale with the font size.

    size, lines = fit("签退成功 · 本次 2.5 小时 · 今年累计 3 小时", 600, measure, biggest=80, smallest=28)
"""

from __future__ import annotations

from typing import Callable

REF_SIZE = 100.0
SEPARATOR = " · "
NBSP, ZWSP = "\u00a0", "\u200b"
BREAK_AFTER = set("，。、；：！？）」』》")     # Chinese punctuation only: "01:32" stays whole
PROTECTED = ("志愿者", "志愿服务队", "服务队", "小时", "签到", "签退", "管理员", "二维码", "摄像头", "中心")
SAFETY = 0.97        # a line is filled to 97 % of the width: the toolkit never wraps it again

Measure = Callable[[str], float]


def pieces(text: str) -> list[tuple[str, str]]:
    """(piece, glue): the glue is what stands between this piece and the next on one line."""
    out: list[tuple[str, str]] = []
    parts = text.split(SEPARATOR)
    for i, part in enumerate(parts):
        words = part.split(" ")
        for j, word in enumerate(words):
            glue = SEPARATOR if j == len(words) - 1 and i < len(parts) - 1 else (" " if j < len(words) - 1 else "")
            chunks, current = [], ""
            for ch in word:
                if ch == ZWSP:
                    if current:
                        chunks.append(current)
                    current = ""
                    continue
                current += ch
                if ch in BREAK_AFTER:
                    chunks.append(current)
                    current = ""
            if current:
                chunks.append(current)
            if not chunks:
                if out and glue:     # a double space: keep the widest glue
                    out[-1] = (out[-1][0], glue if glue == SEPARATOR else out[-1][1])
                continue
            for k, chunk in enumerate(chunks):
                out.append((chunk, glue if k == len(chunks) - 1 else ""))
    return out


def _show(text: str) -> str:
    return text.replace(NBSP, " ")


def _split_chars(piece: str, width: float, width_of: Callable[[str], float]) -> list[str]:
    """A piece too wide for any line: cut between characters, not inside PROTECTED words."""
    forbidden = set()
    for word in PROTECTED:
        start = piece.find(word)
        while start >= 0:
            forbidden.update(range(start + 1, start + len(word)))
            start = piece.find(word, start + 1)
    out, current = [], ""
    for i, ch in enumerate(piece):
        if current and width_of(current + ch) > width:
            cut = len(current)
            back = i
            while back in forbidden and cut > 1:
                back -= 1
                cut -= 1
            if back in forbidden:     # a protected word wider than the line: cut anyway
                cut = len(current)
            out.append(current[:cut])
            current = current[cut:]
        current += ch
    if current:
        out.append(current)
    return out


def wrap(text: str, width: float, measure: Measure, size: float) -> tuple[list[str], bool]:
    """Lines of `text` at font `size` in `width` px; second value False when a piece had to be
    broken between characters (it did not fit on a line by itself)."""
    scale = size / REF_SIZE
    cache: dict[str, float] = {}

    def width_of(s: str) -> float:
        s = _show(s)
        if s not in cache:
            cache[s] = measure(s) * scale
        return cache[s]

    room = width * SAFETY
    lines: list[str] = []
    whole = True

    def fill(units: list[tuple[str, str]], line: str, glue: str) -> tuple[str, str]:
        """Greedy: whole units onto the current line; a unit wider than a line is cut."""
        nonlocal whole
        for unit, next_glue in units:
            candidate = line + glue + unit if line else unit
            if line and width_of(candidate) <= room:
                line = candidate
            else:
                if line:
                    lines.append(line)
                if width_of(unit) > room:
                    whole = False
                    cut = _split_chars(unit, room, width_of)
                    lines.extend(cut[:-1])
                    unit = cut[-1]
                line = unit
            glue = next_glue
        return line, glue

    for paragraph in text.split("\n"):
        # First the parts between " · " as wholes ("本次 2.5 小时" stays on one line); a part
        # wider than a line is filled word by word.
        line, glue = "", ""
        for part in paragraph.split(SEPARATOR):
            candidate = line + glue + part if line else part
            if width_of(candidate) <= room or (not line and not part):
                line, glue = candidate, SEPARATOR
                continue
            if line:
                lines.append(line)
                line = ""
            if width_of(part) <= room:
                line = part
            else:
                line, _ = fill(pieces(part), "", "")
            glue = SEPARATOR
        lines.append(line)
    return [_show(line) for line in lines], whole


def fit(text: str, width: float, measure: Measure, biggest: float, smallest: float,
        max_lines: int = 3, fewer_lines: float = 0.8) -> tuple[float, list[str]]:
    """The largest size in [smallest, biggest] at which `text` fills at most `max_lines` lines
    with no word broken; else the smallest size (more lines, and broken only if it must be).
    Fewer lines win when they cost little: a size at least `fewer_lines` of the best one on
    fewer lines is taken ("Already checked out" on one line, not "Already checked / out")."""
    if width <= 0 or not text:
        return biggest, [text] if text else []

    def largest(most: int) -> tuple[float, list[str]] | None:
        size = biggest
        while size >= smallest:
            lines, whole = wrap(text, width, measure, size)
            if whole and len(lines) <= most:
                return size, lines
            size *= 0.94
        return None

    best = largest(max_lines)
    if best is None:
        return smallest, wrap(text, width, measure, smallest)[0]
    for most in range(1, len(best[1])):
        fewer = largest(most)
        if fewer is not None and fewer[0] >= best[0] * fewer_lines:
            return fewer
    return best


def estimate(text: str) -> float:
    """A measure without a toolkit (tests, defaults): a CJK character is one em wide, others 0.56."""
    return sum(REF_SIZE if ord(c) > 0x2E80 else 0.56 * REF_SIZE for c in text)
