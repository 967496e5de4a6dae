"""kiosk.scanner.cli: `weiguang decode IMAGE...` prints JSON lines and a meaningful exit code."""

import json

import numpy as np
from PIL import Image

from kiosk.scanner.cli import decode_command

from .helpers import BADGE, qr_rgb


def lines(capsys):
    out = capsys.readouterr().out
    return out, [json.loads(line) for line in out.splitlines()]


def test_decodes_each_file_and_exits_0(tmp_path, capsys):
    badge, blank, chinese = tmp_path / "badge.png", tmp_path / "blank.jpg", tmp_path / "zh.png"
    Image.fromarray(qr_rgb()).save(badge)
    Image.fromarray(np.full((100, 100, 3), 200, np.uint8)).save(blank)
    Image.fromarray(qr_rgb("志愿者 WG1:ABC")).save(chinese)
    assert decode_command([str(badge), str(blank), str(chinese)]) == 0
    raw, got = lines(capsys)
    assert got == [
        {"file": str(badge), "texts": [BADGE]},
        {"file": str(blank), "texts": []},
        {"file": str(chinese), "texts": ["志愿者 WG1:ABC"]},
    ]
    assert "志愿者" in raw  # ensure_ascii=False: readable, not \\u escapes


def test_unreadable_files_print_an_error_line_and_exit_1(tmp_path, capsys):
    badge, fake = tmp_path / "badge.png", tmp_path / "fake.png"
    Image.fromarray(qr_rgb()).save(badge)
    fake.write_text("not a png")
    missing = tmp_path / "missing.png"
    assert decode_command([str(missing), str(badge), str(fake), str(tmp_path)]) == 1
    _, got = lines(capsys)
    assert [g["file"] for g in got] == [str(missing), str(badge), str(fake), str(tmp_path)]
    assert got[1] == {"file": str(badge), "texts": [BADGE]}
    for g in (got[0], got[2], got[3]):
        assert g["texts"] == [] and g["error"]
    assert "not found" in got[0]["error"]


def test_no_files_is_success(capsys):
    assert decode_command([]) == 0
    assert capsys.readouterr().out == ""
