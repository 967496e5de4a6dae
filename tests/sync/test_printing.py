"""Badge printing: the PNG and the PDF sheet decode back to their tokens, the Chinese is real
text in the PDF, the font covers every catalog message and common names."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from sync import printing
from sync.assets import FONT_PATH, asset_path, font_path

zxingcpp = pytest.importorskip("zxingcpp")

NAMES = ["林建国", "王秀英", "欧阳娜娜", "张伟", "李娜", "刘洋", "陈静", "杨帆",
         "赵敏", "黄磊", "司马相如", "吴镕喆"]
TEAMS = ["桃园社区志愿服务队", "平城区新时代文明实践中心", ""]


def fake_token(vid: str, seed: int = 0) -> str:
    """Same shape and length as sync.badges tokens: WG1: + base32(13-byte header, vid, 64-byte sig)."""
    header = hashlib.sha256(f"h{seed}".encode()).digest()[:13]
    sig = hashlib.sha512(f"s{seed}".encode()).digest()
    return "WG1:" + base64.b32encode(header + vid.encode() + sig).decode().rstrip("=")


def roster(n: int = 12) -> list[dict]:
    return [
        dict(token=fake_token(f"140202{i:05d}", i), name=NAMES[i % len(NAMES)],
             team=TEAMS[i % len(TEAMS)], vid=f"140202{i:05d}",
             role="coordinator" if i % 5 == 3 else "volunteer")
        for i in range(n)
    ]


def decode(img: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img.convert("L"))]


def need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"{tool} not installed (Debian package poppler-utils)")
    return path


# ---------------------------------------------------------------------- assets

def test_font_is_bundled_truetype():
    assert FONT_PATH == font_path() == asset_path("fonts", "WeiguangSans.ttf")
    assert FONT_PATH.stat().st_size <= 5_500_000
    assert FONT_PATH.read_bytes()[:4] == b"\x00\x01\x00\x00"  # TrueType outlines, not CFF
    assert (FONT_PATH.parent / "LICENSE-WenQuanYi-Micro-Hei.txt").exists()


def test_missing_asset_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="no-such-file"):
        asset_path("fonts", "no-such-file.ttf")


# ---------------------------------------------------------------------- QR

def test_qr_image_decodes_and_stays_small():
    token = fake_token("14020200001")
    img = printing.qr_image(token, box_size=4, border=4)
    assert decode(img) == [token]
    assert printing.qr_version(token) <= 7
    n = len(printing.qr_matrix(token))
    assert img.size == ((n + 8) * 4, (n + 8) * 4)


def test_qr_image_refuses_long_text():
    with pytest.raises(ValueError, match="version"):
        printing.qr_image("x" * 400)
    with pytest.raises(ValueError):
        printing.qr_image("9" * 8000)  # beyond any QR version


# ---------------------------------------------------------------------- PNG

def test_badge_png_decodes_to_token(tmp_path):
    card = roster(3)[2]
    out = printing.badge_png(card["token"], "欧阳娜娜", card["team"], card["vid"], "volunteer",
                             tmp_path / "badge.png")
    img = Image.open(out)
    w, h = img.size
    assert abs(w - 85.6 / 25.4 * 300) <= 2 and abs(h - 54 / 25.4 * 300) <= 2
    assert round(img.info["dpi"][0]) == 300
    assert decode(img) == [card["token"]]
    # the QR is at least 30 mm wide: find the dark modules' bounding box in the left half
    left = img.convert("L").crop((0, 0, w // 2, h)).point(lambda v: 255 if v < 80 else 0)
    x0, y0, x1, y1 = left.getbbox()
    assert (x1 - x0) / 300 * 25.4 >= 30


def test_badge_png_long_name_and_coordinator(tmp_path):
    token = fake_token("C0001")
    out = printing.badge_png(token, "阿卜杜热合曼·买买提·艾则孜", "非常非常长的一个志愿服务队名称用于测试截断",
                             "C0001", "coordinator", tmp_path / "c.png")
    assert decode(Image.open(out)) == [token]


# ---------------------------------------------------------------------- PDF

@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    cards = roster(12)
    out = printing.badge_sheet_pdf(cards, tmp_path_factory.mktemp("sheet") / "sheet.pdf")
    return cards, out


def test_sheet_page_count(sheet):
    cards, pdf = sheet
    info = subprocess.run([need("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True)
    pages = int(next(l for l in info.stdout.splitlines() if l.startswith("Pages:")).split()[1])
    assert pages == 2  # 10 cards a page
    assert "(A4)" in info.stdout


def test_sheet_every_qr_decodes(sheet, tmp_path):
    cards, pdf = sheet
    subprocess.run([need("pdftoppm"), "-r", "150", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) == 2
    found = []
    for page in pages:
        found += decode(Image.open(page))
    assert sorted(found) == sorted(c["token"] for c in cards)


def test_sheet_qr_is_at_least_30mm(sheet):
    # the PDF draws each symbol at 32 mm whatever its version
    token = sheet[0][0]["token"]
    assert len(printing.qr_matrix(token)) <= 45


def test_sheet_text_has_chinese_names(sheet):
    cards, pdf = sheet
    text = subprocess.run([need("pdftotext"), "-enc", "UTF-8", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    for card in cards:
        assert card["name"] in text
        assert card["vid"] in text
    assert "协调员" in text and "志愿者" in text and "桃园社区志愿服务队" in text
    fonts = subprocess.run([need("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "WeiguangSans" in fonts
    for line in fonts.splitlines()[2:]:
        assert " yes yes " in line, f"font not embedded as subset: {line}"


def test_sheet_accepts_objects_and_refuses_bad_cards(tmp_path):
    card = printing.Card(token=fake_token("A1"), name="林建国", team="", vid="A1", role="")
    out = printing.badge_sheet_pdf([card], tmp_path / "one.pdf")
    assert out.read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError):
        printing.badge_sheet_pdf([dict(token="", name="x", vid="1")], tmp_path / "bad.pdf")
    with pytest.raises(ValueError):
        printing.badge_sheet_pdf([dict(token="y" * 400, name="x", vid="1")], tmp_path / "bad.pdf")
    assert not (tmp_path / "bad.pdf").exists()


# ---------------------------------------------------------------------- glyph coverage

def font_cmap() -> set[int]:
    ttLib = pytest.importorskip("fontTools.ttLib")
    return set(ttLib.TTFont(str(FONT_PATH)).getBestCmap())


def catalog_text() -> str:
    polib = pytest.importorskip("polib")
    i18n = Path(__file__).resolve().parents[2] / "kiosk" / "i18n"
    catalogs = sorted(i18n.glob("*.po"))
    assert catalogs
    return "".join(e.msgstr for p in catalogs for e in polib.pofile(str(p)))


def test_font_covers_every_catalog_message():
    cmap = font_cmap()
    missing = sorted({ch for ch in catalog_text() if ord(ch) not in cmap and not ch.isspace()})
    assert not missing, f"font lacks glyphs for {''.join(missing)}"


@pytest.mark.parametrize("name", ["林建国", "王秀英", "欧阳娜娜", "诸葛亮", "司马懿", "上官婉儿",
                                  "吕娟", "闫旭", "翟丽", "褚卫东", "吴镕喆", "王堃", "李玥",
                                  "张赟", "陈祎", "阿依古丽·买买提", "Zhāng Wěi", "Lǚ Juān"])
def test_font_covers_names(name):
    cmap = font_cmap()
    assert all(ord(ch) in cmap for ch in name), [ch for ch in name if ord(ch) not in cmap]
    assert printing.missing_glyphs(name) == ""


def test_font_covers_all_gb2312():
    cmap = font_cmap()
    missing = []
    for hi in range(0xB0, 0xF8):  # hanzi rows
        for lo in range(0xA1, 0xFF):
            try:
                ch = bytes([hi, lo]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            if ord(ch) not in cmap:
                missing.append(ch)
    assert not missing


def test_missing_glyphs_reports_what_cannot_print():
    assert printing.missing_glyphs("林建国😀😀") == "😀"
