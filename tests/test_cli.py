"""The `weiguang` command as scripts use it: the round trip and the command list in the README."""

import argparse
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def weiguang(*args, cwd, check=True):
    proc = subprocess.run([sys.executable, "-m", "kiosk.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def lines(proc):
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_round_trip_badge_png_decode_verify_scan(tmp_path):
    weiguang("keys", "init", "--dir", "keys", cwd=tmp_path)
    weiguang("badge", "issue", "--keys", "keys", "--vid", "14020200001", "--name", "林建国",
             "--team", "邻里关照志愿服务队", "--out", "badge.png", cwd=tmp_path)
    [decoded] = lines(weiguang("decode", "badge.png", cwd=tmp_path))
    [token] = decoded["texts"]
    check = lines(weiguang("badge", "verify", "--keys", "keys", token, cwd=tmp_path))[0]
    assert (check["valid"], check["code"], check["vid"]) == (True, "ok", "14020200001")

    roster = tmp_path / "roster.csv"
    roster.write_text("vid,name\n14020200001,林建国\n", encoding="utf-8")
    weiguang("kiosk", "init", "--db", "k.db", "--station", "文博苑社区", "--keys", "keys", "--roster", roster,
             cwd=tmp_path)

    def scan(when):
        return lines(weiguang("kiosk", "scan", "--db", "k.db", "--at", when, token, cwd=tmp_path))[0]
    first = scan("2026-11-30T09:00:00+08:00")
    assert (first["result"], first["name"]) == ("checked_in", "林*国")
    assert scan("2026-11-30T09:00:05+08:00")["result"] == "repeat"
    out = scan("2026-11-30T11:00:00+08:00")
    assert (out["result"], out["minutes"], out["year_minutes"]) == ("checked_out", 120, 120)


def test_refusals_exit_zero_and_missing_database_does_not(tmp_path):
    weiguang("keys", "init", "--dir", "keys", cwd=tmp_path)
    weiguang("kiosk", "init", "--db", "k.db", "--station", "站", "--keys", "keys", cwd=tmp_path)
    refused = lines(weiguang("kiosk", "scan", "--db", "k.db", "https://example.com", cwd=tmp_path))[0]
    assert (refused["result"], refused["code"]) == ("refused", "foreign")
    missing = weiguang("kiosk", "scan", "--db", "nope.db", "x", cwd=tmp_path, check=False)
    assert missing.returncode != 0 and "kiosk init" in missing.stderr
    assert not (tmp_path / "nope.db").exists()
    bad = weiguang("kiosk", "scan", "--db", "k.db", "--at", "yesterday", "x", cwd=tmp_path, check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_roster_to_token_lines_and_pdf(tmp_path):
    weiguang("keys", "init", "--dir", "keys", cwd=tmp_path)
    (tmp_path / "r.csv").write_text("\ufeffvid,name,team\n14020200001,林建国,甲队\n14020200002,王秀英,乙队\n",
                                    encoding="utf-8")
    tokens = weiguang("badge", "issue", "--keys", "keys", "--csv", "r.csv", "--out", "-", cwd=tmp_path).stdout.split()
    assert len(tokens) == 2 and all(t.startswith("WG1:") for t in tokens)
    sheet = lines(weiguang("badge", "issue", "--keys", "keys", "--csv", "r.csv", "--out", "s.pdf", cwd=tmp_path))[0]
    assert sheet["serials"] == [3, 4]  # serials continue from the issue log, never repeat
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
    (tmp_path / "bad.csv").write_text("vid,name\n140202198001011234,林\n", encoding="utf-8")
    bad = weiguang("badge", "issue", "--keys", "keys", "--csv", "bad.csv", "--out", "-", cwd=tmp_path, check=False)
    assert bad.returncode != 0 and "line 2" in bad.stderr


def readme_commands() -> list[str]:
    """The commands in the README's command list (`## The command line`, first sh block): the
    contract scripts rely on, as users read it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## The command line", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = set()
    for line in block.splitlines():
        if line.startswith("weiguang "):
            words = line.split()[1:4]   # a command is at most three words; then options and files
            commands.add(" ".join(itertools.takewhile(re.compile(r"[a-z]+(-[a-z]+)*").fullmatch, words)))
    return sorted(commands)


def parser_commands(parser=None, prefix=()) -> list[str]:
    """Every runnable command of the parser: the leaves of its sub-command tree."""
    parser = parser or build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [" ".join(prefix)]
    return sorted(c for sub in subs for name, child in sub.choices.items()
                  for c in parser_commands(child, (*prefix, name)))


def test_the_readme_lists_every_command():
    assert parser_commands() == readme_commands()


@pytest.mark.parametrize("command", readme_commands())
def test_every_readme_command_exists_with_help(command):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*command.split(), "--help"])
    assert exit_info.value.code == 0
