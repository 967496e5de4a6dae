"""Printable badges: one card as a PNG, or an A4 sheet of cards as a PDF.

Used by ``weiguang badge issue`` and later by the center's server; imports neither Kivy nor
anything from ``kiosk``. Chinese text is drawn with the bundled font (``sync.assets``):
PIL for the PNG, reportlab (TrueType subset embedded with a ToUnicode map, so the names can
be searched and copied) for the PDF.

A card is ISO/IEC 7810 ID-1 (credit-card) size, 85.6 x 54 mm. Its QR symbol is at least 30 mm
wide and never above version 7 at error correction M (DESIGN.md: a 3 cm badge must read at
arm's length), which `qr_image` and `qr_matrix` enforce.

A card is anything with ``token``, ``name``, ``team``, ``vid`` and ``role`` (attributes or dict
keys); ``team`` and ``role`` may be empty (role defaults to volunteer).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError

from sync.assets import font_path

MAX_QR_VERSION = 7
CARD_W_MM = 85.6
CARD_H_MM = 54.0
QR_MIN_MM = 30.0
PNG_DPI = 300

# role code -> (Chinese label, English label, header colour)
ROLE_LABELS = {
    "volunteer": ("志愿者", "Volunteer", (200, 55, 35)),
    "coordinator": ("协调员", "Coordinator", (31, 78, 154)),
}
HEADER_ZH = "微光"
HEADER_EN = "Weiguang"
PDF_FONT = "WeiguangSans"


# ---------------------------------------------------------------------------- QR

def _qr(text: str) -> qrcode.QRCode:
    if not isinstance(text, str) or not text:
        raise ValueError("QR text must be a non-empty string")
    qr = qrcode.QRCode(version=None, error_correction=ERROR_CORRECT_M, border=0)
    qr.add_data(text)
    try:
        qr.make(fit=True)
    except DataOverflowError:
        raise ValueError(f"text of {len(text)} characters does not fit any QR code") from None
    if qr.version > MAX_QR_VERSION:
        raise ValueError(
            f"text of {len(text)} characters needs QR version {qr.version} at error correction M; "
            f"a badge QR must be version {MAX_QR_VERSION} or lower"
        )
    return qr


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR modules (True = dark), without quiet zone; ValueError above version 7 at M."""
    return [list(row) for row in _qr(text).get_matrix()]


def qr_version(text: str) -> int:
    return _qr(text).version


def qr_image(text: str, box_size: int = 10, border: int = 4):
    """A PIL image (mode "1") of the QR code for ``text`` at error correction M.

    ``box_size`` is pixels per module, ``border`` the quiet zone in modules (4 by the standard).
    Raises ValueError if the text needs a QR version above 7.
    """
    from PIL import Image

    matrix = qr_matrix(text)
    n = len(matrix)
    side = (n + 2 * border) * box_size
    small = Image.new("1", (n + 2 * border, n + 2 * border), 1)
    px = small.load()
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                px[x + border, y + border] = 0
    return small.resize((side, side), Image.NEAREST)


# ---------------------------------------------------------------------------- cards

@dataclass(frozen=True)
class Card:
    token: str
    name: str
    team: str
    vid: str
    role: str


def _field(card: Any, key: str) -> str:
    value = card.get(key) if isinstance(card, dict) else getattr(card, key, None)
    return "" if value is None else str(value).strip()


def as_card(card: Any) -> Card:
    c = Card(*(_field(card, k) for k in ("token", "name", "team", "vid", "role")))
    if not c.token:
        raise ValueError(f"card for {c.name or c.vid or card!r} has no token")
    return c


def role_labels(role: str) -> tuple[str, str, tuple[int, int, int]]:
    """(Chinese label, English label, colour) for a role code; unknown roles print as given."""
    key = (role or "volunteer").strip().lower()
    if key in ROLE_LABELS:
        return ROLE_LABELS[key]
    for zh, en, colour in ROLE_LABELS.values():
        if role in (zh, en):
            return zh, en, colour
    return role, "", ROLE_LABELS["volunteer"][2]


@lru_cache(maxsize=1)
def _font_cmap() -> frozenset[int]:
    from reportlab.pdfbase.ttfonts import TTFontFile

    return frozenset(TTFontFile(str(font_path())).charToGlyph)


def missing_glyphs(text: str) -> str:
    """The characters of ``text`` the bundled font cannot draw (each once, in order)."""
    cmap = _font_cmap()
    seen: list[str] = []
    for ch in text:
        if not ch.isspace() and ord(ch) not in cmap and ch not in seen:
            seen.append(ch)
    return "".join(seen)


def _split_name(text: str) -> tuple[str, str]:
    """Two lines for a long name: at the separator (·, space) nearest the middle, else halfway."""
    mid = len(text) / 2
    cuts = [i for i, ch in enumerate(text) if ch in "·• -"]
    if cuts:
        i = min(cuts, key=lambda i: abs(i - mid))
        keep = text[i] if text[i] in "·•-" else ""
        return text[:i + (1 if keep else 0)].strip(), text[i + 1:].strip()
    i = (len(text) + 1) // 2
    return text[:i], text[i:]


def _name_lines(text: str, fits, big: float, small: float) -> tuple[list[str], float]:
    """One line at a size from big down to small; if it only fits smaller, two lines."""
    size = big
    while size > small and not fits(text, size):
        size -= 1
    if fits(text, size) or len(text) < 4:
        return [text], size
    lines = list(_split_name(text))
    size = big * 0.72
    while size > small * 0.8 and not all(fits(line, size) for line in lines):
        size -= 1
    return lines, size


# ---------------------------------------------------------------------------- PNG

def _mm(mm: float, dpi: int = PNG_DPI) -> int:
    return round(mm / 25.4 * dpi)


@lru_cache(maxsize=64)
def _pil_font(size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(font_path()), size)


def _fit_pil(draw, text: str, max_width: int, size: int, min_size: int):
    """Largest font (down to min_size) that fits; then ellipsize if still too wide."""
    while size > min_size and draw.textlength(text, font=_pil_font(size)) > max_width:
        size -= 2
    font = _pil_font(size)
    if draw.textlength(text, font=font) > max_width:
        while text and draw.textlength(text + "…", font=font) > max_width:
            text = text[:-1]
        text += "…"
    return text, font


def badge_png(token: str, name: str, team: str, vid: str, role: str, out_path) -> Path:
    """Write one credit-card sized badge (85.6 x 54 mm at 300 dpi) as PNG; returns the path."""

    card = as_card(dict(token=token, name=name, team=team, vid=vid, role=role))
    img = render_badge(card)
    out = Path(out_path)
    img.save(out, format="PNG", dpi=(PNG_DPI, PNG_DPI), optimize=True)
    return out


def render_badge(card: Any, dpi: int = PNG_DPI):
    """The badge as an RGB PIL image (see `badge_png`)."""
    from PIL import Image, ImageDraw

    card = as_card(card)
    W, H = _mm(CARD_W_MM, dpi), _mm(CARD_H_MM, dpi)
    img = Image.new("RGB", (W, H), "white")
    draw = ImageDraw.Draw(img)
    zh_role, en_role, colour = role_labels(card.role)
    s = dpi / PNG_DPI  # scale factor for sizes given at 300 dpi

    # header band: 微光 Weiguang on the left, the role on the right
    header_h = _mm(9.5, dpi)
    draw.rectangle([0, 0, W, header_h], fill=colour)
    pad = _mm(3, dpi)
    f_head = _pil_font(int(64 * s))
    draw.text((pad, header_h // 2), f"{HEADER_ZH} {HEADER_EN}", font=f_head, fill="white", anchor="lm")

    # QR: a whole number of pixels per module, the symbol >= 30 mm, quiet zone of 4 modules
    # (partly the white card edge)
    matrix = qr_matrix(card.token)
    n = len(matrix)
    quiet = 4
    avail = H - header_h - _mm(1.5, dpi)
    box = max(1, avail // (n + 2 * quiet))
    if n * box < _mm(QR_MIN_MM, dpi):  # never happens at 300 dpi up to version 7
        box = -(-_mm(QR_MIN_MM, dpi) // n)
    qr = qr_image(card.token, box_size=box, border=quiet).convert("RGB")
    qx = max(0, _mm(1, dpi) - quiet * box + _mm(2, dpi))
    qy = header_h + (H - header_h - qr.height) // 2
    img.paste(qr, (qx, qy))

    # text column on the right of the QR
    x = qx + qr.width - quiet * box + _mm(4, dpi)
    x = max(x, qx + qr.width - _mm(1.5, dpi))
    right = W - pad
    width = right - x
    y = header_h + _mm(4, dpi)
    ink, grey = (20, 20, 20), (95, 95, 95)

    lines, size = _name_lines(card.name or card.vid,
                              lambda t, z: draw.textlength(t, font=_pil_font(int(z))) <= width,
                              int(118 * s), int(72 * s))
    for line in lines:
        line, f_name = _fit_pil(draw, line, width, int(size), int(size))
        draw.text((x, y), line, font=f_name, fill=ink, anchor="lt")
        y += f_name.size * (1.12 if len(lines) > 1 else 1)
    y += _mm(3.2, dpi)

    if card.team:
        team, f_team = _fit_pil(draw, card.team, width, int(50 * s), int(32 * s))
        draw.text((x, y), team, font=f_team, fill=grey, anchor="lt")
        y += f_team.size + _mm(2.2, dpi)

    vid, f_vid = _fit_pil(draw, f"编号 No. {card.vid}", width, int(42 * s), int(28 * s))
    draw.text((x, y), vid, font=f_vid, fill=grey, anchor="lt")

    # role label, bottom right: Chinese with the English beneath
    f_role_zh = _pil_font(int(64 * s))
    f_role_en = _pil_font(int(34 * s))
    bottom = H - _mm(3, dpi)
    if en_role:
        draw.text((x, bottom), en_role, font=f_role_en, fill=colour, anchor="ls")
        bottom -= f_role_en.size + _mm(1.2, dpi)
    draw.text((x, bottom), zh_role, font=f_role_zh, fill=colour, anchor="ls")
    return img


# ---------------------------------------------------------------------------- PDF

SHEET_COLS, SHEET_ROWS = 2, 5


def _register_pdf_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(PDF_FONT, str(font_path())))
    return PDF_FONT


def _fit_pdf(text: str, max_width: float, size: float, min_size: float) -> tuple[str, float]:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    while size > min_size and stringWidth(text, PDF_FONT, size) > max_width:
        size -= 0.5
    if stringWidth(text, PDF_FONT, size) > max_width:
        while text and stringWidth(text + "…", PDF_FONT, size) > max_width:
            text = text[:-1]
        text += "…"
    return text, size


def _draw_qr_pdf(c, matrix: list[list[bool]], x: float, y_top: float, module: float) -> None:
    """Dark modules as filled rectangles (runs merged per row), top-left corner at (x, y_top)."""
    path = c.beginPath()
    for r, row in enumerate(matrix):
        col = 0
        n = len(row)
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                path.rect(x + start * module, y_top - (r + 1) * module, (col - start) * module, module)
            else:
                col += 1
    c.drawPath(path, stroke=0, fill=1)


def _draw_card_pdf(c, card: Card, x0: float, y0: float) -> None:
    """One card with its lower-left corner at (x0, y0), in points."""
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth

    W, H = CARD_W_MM * mm, CARD_H_MM * mm
    zh_role, en_role, colour = role_labels(card.role)
    rgb = tuple(v / 255 for v in colour)

    # cut line
    c.saveState()
    c.setStrokeColorRGB(0.7, 0.7, 0.7)
    c.setLineWidth(0.3)
    c.setDash(2, 2)
    c.rect(x0, y0, W, H, stroke=1, fill=0)
    c.restoreState()

    header_h = 9.5 * mm
    c.setFillColorRGB(*rgb)
    c.rect(x0, y0 + H - header_h, W, header_h, stroke=0, fill=1)
    c.setFillColorRGB(1, 1, 1)
    c.setFont(PDF_FONT, 13)
    c.drawString(x0 + 3 * mm, y0 + H - header_h / 2 - 13 * 0.36, f"{HEADER_ZH} {HEADER_EN}")

    # QR: symbol 32 mm wide, quiet zone of 4 modules inside the card
    matrix = qr_matrix(card.token)
    n = len(matrix)
    symbol = 32 * mm
    module = symbol / n
    quiet = 4 * module
    qx = x0 + max(quiet, 3 * mm)
    qy_top = y0 + H - header_h - (H - header_h - symbol) / 2
    c.setFillColorRGB(0, 0, 0)
    _draw_qr_pdf(c, matrix, qx, qy_top, module)

    # text column
    x = qx + symbol + max(quiet, 4 * mm)
    width = x0 + W - 3 * mm - x
    y = y0 + H - header_h - 4 * mm
    c.setFillColorRGB(0.08, 0.08, 0.08)
    lines, size = _name_lines(card.name or card.vid,
                              lambda t, z: stringWidth(t, PDF_FONT, z) <= width, 22, 14)
    for i, line in enumerate(lines):
        line, size = _fit_pdf(line, width, size, size)
        y -= size * (0.88 if i == 0 else 1.1)
        c.setFont(PDF_FONT, size)
        c.drawString(x, y, line)
    y -= 3.2 * mm
    c.setFillColorRGB(0.37, 0.37, 0.37)
    if card.team:
        team, size = _fit_pdf(card.team, width, 10, 7)
        y -= size * 0.88
        c.setFont(PDF_FONT, size)
        c.drawString(x, y, team)
        y -= 2.2 * mm
    vid, size = _fit_pdf(f"编号 No. {card.vid}", width, 8.5, 6)
    y -= size * 0.88
    c.setFont(PDF_FONT, size)
    c.drawString(x, y, vid)

    c.setFillColorRGB(*rgb)
    bottom = y0 + 3 * mm
    if en_role:
        c.setFont(PDF_FONT, 7)
        c.drawString(x, bottom, en_role)
        bottom += 7 + 1.2 * mm
    c.setFont(PDF_FONT, 13)
    c.drawString(x, bottom, zh_role)


def badge_sheet_pdf(cards: Iterable[Any], out_path) -> Path:
    """Write an A4 PDF of credit-card sized badges, 2 columns x 5 rows a page, with cut lines.

    Every card carries its QR (32 mm), name, team, unified number and role. Returns the path.
    Raises ValueError (before writing anything) if a card has no token or too long a token.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    items = [as_card(c) for c in cards]
    for card in items:
        qr_matrix(card.token)  # fail early, not after half a sheet
    _register_pdf_font()
    out = Path(out_path)
    page_w, page_h = A4
    W, H = CARD_W_MM * mm, CARD_H_MM * mm
    gap_x, gap_y = 8 * mm, 3 * mm
    margin_x = (page_w - SHEET_COLS * W - (SHEET_COLS - 1) * gap_x) / 2
    margin_y = (page_h - SHEET_ROWS * H - (SHEET_ROWS - 1) * gap_y) / 2
    per_page = SHEET_COLS * SHEET_ROWS

    c = canvas.Canvas(str(out), pagesize=A4, invariant=1, initialFontName=PDF_FONT, initialFontSize=10)
    c.setTitle("微光 Weiguang badges")
    c.setAuthor("Weiguang")
    c.setCreator("weiguang badge issue")
    if not items:
        c.setFont(_register_pdf_font(), 12)
        c.drawString(margin_x, page_h - margin_y, "（无证件 / no badges）")
    for i, card in enumerate(items):
        if i and i % per_page == 0:
            c.showPage()
        slot = i % per_page
        row, col = divmod(slot, SHEET_COLS)
        x0 = margin_x + col * (W + gap_x)
        y0 = page_h - margin_y - (row + 1) * H - row * gap_y
        _draw_card_pdf(c, card, x0, y0)
    c.showPage()
    c.save()
    return out
