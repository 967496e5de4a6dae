"""The `weiguang` command as scripts use it: the round trip from DESIGN.md and the README."""

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


def design_commands():
    design = (ROOT.parent / "shared" / "DESIGN.md").read_text(encoding="utf-8")
    block = design.split("## Command line", 1)[1].split("```")[1]
    return sorted({" ".join(re.findall(r"^weiguang((?: [a-z]+)+)", line)[0].split()[:2])
                   for line in block.splitlines() if line.startswith("weiguang")})


@pytest.mark.skipif(not (ROOT.parent / "shared" / "DESIGN.md").exists(), reason="needs ../shared/DESIGN.md")
@pytest.mark.parametrize("command", design_commands())
def test_every_design_command_exists_with_help_and_is_in_the_readme(command):
    parser = build_parser()
    words = command.split()
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args([*words[:2], "--help"])
    assert exit_info.value.code == 0
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"weiguang {words[0]}" in readme
