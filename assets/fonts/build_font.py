#!/usr/bin/env python3
"""Rebuild assets/fonts/WeiguangSans.ttf, the Chinese font the kiosk and the badge printer use.

Source: WenQuanYi Micro Hei 0.2.0-beta (文泉驿微米黑), face 0 of the TrueType collection

    /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

from the Debian package ``fonts-wqy-microhei`` (0.2.0-beta-3.1 in Debian 12 "bookworm";
``apt-get install fonts-wqy-microhei``). Upstream:
https://downloads.sourceforge.net/project/wqy/wqy-microhei/0.2.0-beta/wqy-microhei-0.2.0-beta.tar.gz

Licence: the font is dual-licensed Apache-2.0 or GPL-3+ with font exception; we use it under
Apache-2.0 (see LICENSE-WenQuanYi-Micro-Hei.txt beside the font). Subsetting is a modification,
so the family is renamed to "Weiguang Sans" and the name table says what was changed; the
original copyright and licence strings are kept.

Why this font: Simplified Chinese glyph forms, TrueType (glyf) outlines that both SDL2_ttf
(Kivy) and reportlab's TTFont can use (reportlab cannot embed CFF outlines), Latin glyphs from
Droid Sans, and a permissive licence.

What is kept (see ``codepoints()``): ASCII, Latin-1, Latin Extended-A and the pinyin tone
letters, general punctuation, arrows, ✓ ✗ (when the source has them), CJK symbols and punctuation,
fullwidth forms, every character of GB2312 (all 6,763 hanzi and its symbols) and, beyond that,
every CJK Unified Ideograph (U+4E00-U+9FFF) the source has, so that rare name characters
(镕, 喆, 堃, 玥, 赟, ...) render too. The result is about 3 MB.

The build is reproducible: the same source and fontTools version give byte-identical output
(the head.modified timestamp is copied from the source, not set to now).

    .venv/bin/python assets/fonts/build_font.py            # writes assets/fonts/WeiguangSans.ttf
    .venv/bin/python assets/fonts/build_font.py --check    # exit 1 if the committed font differs
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

SOURCE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SOURCE_PACKAGE = "fonts-wqy-microhei"
SOURCE_FACE = 0  # 0: WenQuanYi Micro Hei (proportional); 1 is the Mono face
OUT = Path(__file__).resolve().parent / "WeiguangSans.ttf"

FAMILY = "Weiguang Sans"
POSTSCRIPT = "WeiguangSans-Regular"

RANGES = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 supplement
    (0x0100, 0x017F),  # Latin Extended-A (pinyin ā ē ī ō ū ...)
    (0x2000, 0x206F),  # general punctuation (· • … — “ ” ‰ ...)
    (0x2190, 0x21FF),  # arrows
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF00, 0xFFEF),  # halfwidth and fullwidth forms
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs (superset of GB2312's hanzi)
]
EXTRA = "ǎǐǒǔǖǘǚǜǹǸ·•→↑↓✓✗×÷№℃"


def gb2312_codepoints() -> set[int]:
    """Every character GB2312 encodes (rows 0xA1-0xF7, columns 0xA1-0xFE)."""
    out = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.add(ord(bytes([hi, lo]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return out


def codepoints() -> set[int]:
    cps = set(gb2312_codepoints())
    for lo, hi in RANGES:
        cps.update(range(lo, hi + 1))
    cps.update(ord(c) for c in EXTRA)
    return cps


def load_source() -> TTFont:
    if not SOURCE.exists():
        sys.exit(f"{SOURCE} not found: install the Debian package {SOURCE_PACKAGE} "
                 f"(apt-get install {SOURCE_PACKAGE})")
    return TTCollection(str(SOURCE)).fonts[SOURCE_FACE]


def rename(font: TTFont) -> None:
    name = font["name"]
    version = name.getDebugName(5) or "Version 0.2.0-beta"
    new = {
        1: FAMILY,
        2: "Regular",
        3: f"{POSTSCRIPT};{version}",
        4: FAMILY,
        5: f"{version}; Weiguang subset",
        6: POSTSCRIPT,
        10: ("Subset of WenQuanYi Micro Hei 0.2.0-beta (Debian fonts-wqy-microhei) made for "
             "Weiguang by assets/fonts/build_font.py: glyphs outside the kept Unicode ranges "
             "removed, hinting and layout tables kept, family renamed. Used under Apache-2.0."),
    }
    for rec in list(name.names):
        if rec.nameID in (1, 2, 3, 4, 5, 6, 10, 16, 17, 18, 21, 22):
            name.removeNames(nameID=rec.nameID)
    for nid, text in new.items():
        name.setName(text, nid, 3, 1, 0x409)  # Windows, Unicode BMP, en-US
        name.setName(text, nid, 1, 0, 0)      # Mac, Roman, English


def build() -> bytes:
    font = load_source()
    modified = font["head"].modified
    opts = subset.Options()
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.name_legacy = True
    opts.layout_features = ["*"]
    opts.notdef_outline = True
    opts.glyph_names = False
    opts.drop_tables += ["FFTM"]
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=sorted(codepoints()))
    sub.subset(font)
    rename(font)
    font["head"].modified = modified
    font.recalcTimestamp = False  # else TTFont.save stamps head.modified with the current time
    buf = io.BytesIO()
    font.save(buf, reorderTables=True)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed font")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    data = build()
    digest = hashlib.sha256(data).hexdigest()
    if args.check:
        current = args.out.read_bytes() if args.out.exists() else b""
        same = current == data
        print(f"{args.out}: {'up to date' if same else 'DIFFERS from a fresh build'} ({digest})")
        return 0 if same else 1
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data):,} bytes, sha256 {digest})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
