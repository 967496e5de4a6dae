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


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height (a decompression bomb as the header tells it)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IEND", b""))


def test_a_400_megapixel_image_is_refused_and_the_next_file_still_decoded(tmp_path, capsys):
    bomb, badge = tmp_path / "bomb.png", tmp_path / "badge.png"
    bomb.write_bytes(_png_header_only(20_000, 20_000))
    Image.fromarray(qr_rgb()).save(badge)
    assert decode_command([str(bomb), str(badge)]) == 1
    _, got = lines(capsys)
    assert got[0]["texts"] == [] and "too large" in got[0]["error"]
    assert got[1] == {"file": str(badge), "texts": [BADGE]}
