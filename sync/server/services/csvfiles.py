"""CSV files in and out of the center, as Chinese spreadsheets save and open them.

    >>> rows = read_csv(data, required=("code", "name"))     # bytes: UTF-8 ± BOM, or GBK
    >>> for line, row in rows: ...                           # line: the file's line number
    >>> raise ImportRefused([RowError(3, "...")])            # nothing imported, rows named
    >>> text = write_csv(["vid", "name"], rows)              # cells starting = + - @ neutralised

Every import checks the whole file first and refuses it whole, naming each wrong row,
so a half-imported sheet never has to be untangled by hand.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Iterable

from sync.server.services import ServiceError

MAX_ROWS = 200_000
# Excel and WPS run a cell starting with one of these as a formula (CSV injection); a
# leading apostrophe makes the spreadsheet show it as text (OWASP's advice).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RowError:
    """A wrong row: `error` in English (the JSON contract), `code` and `params` for a page
    to say it in the reader's language (web/i18n.py "row.<code>")."""
    line: int
    error: str
    code: str = "invalid"
    params: dict | None = None

    def as_dict(self) -> dict:
        return {"line": self.line, "error": self.error, "code": self.code}


class ImportRefused(ServiceError):
    """The file was refused whole; `rows` names each wrong row (line 1 is the header)."""

    def __init__(self, rows: list[RowError]):
        self.rows = rows
        first = "; ".join(f"line {r.line}: {r.error}" for r in rows[:3])
        super().__init__("import_refused", f"nothing imported: {len(rows)} wrong row(s): {first}")


def decode(data: bytes | str) -> str:
    """The text of an uploaded CSV: UTF-8 with or without BOM, else GB18030 (a superset of
    GBK, what Excel on a Chinese Windows saves as "CSV")."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportRefused([RowError(1, "the file is neither UTF-8 nor GBK text; save it as CSV",
                                      "encoding")]) from None


def read_csv(data: bytes | str, required: Iterable[str], optional: Iterable[str] = ()) -> list[tuple[int, dict]]:
    """(line number, row) for every non-blank row; header names are trimmed and lower-cased.
    Refuses a missing header column, unknown columns, or more than MAX_ROWS rows."""
    text = decode(data)
    if "\x00" in text:
        raise ImportRefused([RowError(1, "the file holds binary data, not CSV text", "encoding")])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportRefused([RowError(1, "the file is empty", "empty")]) from None
    except csv.Error as exc:
        raise ImportRefused([RowError(1, f"not CSV: {exc}", "not_csv")]) from None
    required, known = tuple(required), set(required) | set(optional)
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c and c not in known]
    if missing or unknown:
        parts = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + \
                ([f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
        raise ImportRefused([RowError(1, "header: " + "; ".join(parts)
                                      + f" (expected {','.join(required)}"
                                      + (f"[,{','.join(optional)}]" if optional else "") + ")", "header",
                                      {"expected": ",".join(required) + (f"[,{','.join(optional)}]" if optional else "")})])
    rows: list[tuple[int, dict]] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportRefused([RowError(line, f"more than {MAX_ROWS} rows; split the file", "too_many",
                                              {"n": MAX_ROWS})])
            if len(cells) > len(header):
                rows.append((line, {"__error__": f"{len(cells)} cells but the header has {len(header)}"}))
                continue
            rows.append((line, {name: (cells[i].strip() if i < len(cells) else "")
                                for i, name in enumerate(header) if name}))
    except csv.Error as exc:
        raise ImportRefused([RowError(reader.line_num, f"not CSV: {exc}", "not_csv")]) from None
    return rows


def neutralise(value) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(header: list[str], rows: Iterable[Iterable]) -> str:
    """CSV text with a BOM (so Excel opens UTF-8 as such), every cell neutralised."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return out.getvalue()

