"""Roster CSV files and the log of issued badges.

A roster CSV has a header row and the columns ``vid,name``, optionally ``team``,
``role``, ``phone``; UTF-8 with or without a BOM, as spreadsheets save it::

    vid,name,team,role
    14020200001,林建国,"邻里关照"志愿服务队,coordinator

`read_roster` refuses a bad file early, naming the line, before any badge is made.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from sync.badges import ID_CARD_PATTERN, ROLES, VID_PATTERN

COLUMNS = ("vid", "name", "team", "role", "phone")


@dataclass(frozen=True)
class RosterEntry:
    vid: str
    name: str
    team: str = ""
    role: str = "volunteer"
    phone: str = ""


class RosterError(ValueError):
    pass


def parse_roster(text: str) -> list[RosterEntry]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = {"vid", "name"} - set(header)
    if missing:
        raise RosterError(f"the roster's header needs the columns vid and name (missing: {', '.join(sorted(missing))})")
    reader.fieldnames = header
    entries, seen = [], set()
    for line_no, row in enumerate(reader, start=2):
        values = {k: (row.get(k) or "").strip() for k in COLUMNS}
        if not any(values.values()):
            continue  # blank line
        vid, name, role = values["vid"], values["name"], values["role"] or "volunteer"
        if not VID_PATTERN.match(vid) or ID_CARD_PATTERN.match(vid):
            raise RosterError(f"line {line_no}: {vid!r} is not a volunteer number (3-24 letters/digits, not an ID-card number)")
        if not name:
            raise RosterError(f"line {line_no}: the name is empty")
        if role not in ROLES:
            raise RosterError(f"line {line_no}: role must be one of {', '.join(ROLES)}, not {role!r}")
        if vid in seen:
            raise RosterError(f"line {line_no}: volunteer number {vid} appears twice")
        seen.add(vid)
        entries.append(RosterEntry(vid, name, values["team"], role, values["phone"]))
    return entries


def read_roster(path: str | Path) -> list[RosterEntry]:
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RosterError(f"{path} is not UTF-8 (save the sheet as 'CSV UTF-8'): {exc}") from None
    return parse_roster(text)


class IssueLog:
    """KEYS/issued.csv: every badge issued from a key directory, so serials never repeat
    and a lost badge can be found by its serial and revoked."""

    FIELDS = ("serial", "vid", "name", "role", "expires", "issued_at")

    def __init__(self, keys_dir: str | Path):
        self.path = Path(keys_dir) / "issued.csv"

    def next_serial(self) -> int:
        if not self.path.exists():
            return 1
        with self.path.open(newline="", encoding="utf-8") as f:
            return max((int(row["serial"]) for row in csv.DictReader(f)), default=0) + 1

    def append(self, serial: int, vid: str, name: str, role: str, expires: date) -> None:
        new = not self.path.exists()
        with self.path.open("a", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(self.FIELDS)
            writer.writerow([serial, vid, name, role, expires.isoformat(),
                             datetime.now(timezone.utc).isoformat(timespec="seconds")])
