"""Service-record certificates (志愿服务记录证明): issued from the dashboard, one volunteer
or a batch, as a PDF with the Chinese text embedded (the bundled font), recorded, and
verifiable by anyone at ``/verify/{number}`` (its QR code on the paper).

    >>> c = issue(scope, "14020200001", "2026-01-01", "2026-12-31", actor="li", secret=key)
    >>> c["number"]                                     # WG2026-K7Q2M9XA-4CH7QF
    >>> pdf([c], "https://center.example")              # bytes, one certificate per page (or more)
    >>> verify("WG2026-K7Q2M9XA-4CH7QF", key)           # {"genuine": True, "name": …, "minutes": …}

What a certificate holds (the rules for volunteer service records): the volunteer's name
and unified volunteer number (never an ID-card number), the period, the total hours, each
service (activity, date, hours, place), the issuing organisation with the person in
charge and a contact, the certificate number, the date of issue, room for the seal, and
the star level. It certifies the confirmed sessions (`sync.hours.COUNTED_STATES`) at the
sites of the issuer's scope: an organisation vouches for what was done under it.

A number is ``WG`` + year + 40 random bits + a 30-bit HMAC check part (key from the
server's secret): a made-up or altered number fails the check before the table is read,
and a genuine-looking one must also be on record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from datetime import date, datetime

from sync import stars
from sync.hours import COUNTED_STATES
from sync.server.db import reading, writing
from sync.server.models import Activity, Certificate, HoursSession, Site, Volunteer
from sync.server.services import ServiceError, audit
from sync.server.services.reports import TZ, _bounds, cumulative_minutes, period, star_hours
from sync.server.services.scope import Scope, not_found

NUMBER = re.compile(r"^WG(\d{4})-([A-Z2-7]{8})-([A-Z2-7]{6})$")
MAX_BATCH = 1000
DEFAULT_ORGANISATION = "微光志愿服务中心"


# --- numbers ---------------------------------------------------------------------------------

def _key(secret: str) -> bytes:
    return hashlib.sha256(b"weiguang certificate number\x00" + secret.encode("utf-8")).digest()


def _check(body: str, secret: str) -> str:
    mac = hmac.new(_key(secret), body.encode("ascii"), hashlib.sha256).digest()
    return base64.b32encode(mac).decode("ascii")[:6]


def new_number(year: int, secret: str) -> str:
    body = f"WG{year:04d}-{base64.b32encode(secrets.token_bytes(5)).decode('ascii')}"
    return f"{body}-{_check(body, secret)}"


def normalise(number: str) -> str:
    return re.sub(r"\s+", "", str(number or "")).upper()[:64]


def well_formed(number: str, secret: str) -> bool:
    """The number has the form and its check part matches (compared in constant time)."""
    match = NUMBER.match(number)
    if not match:
        return False
    body = number.rsplit("-", 1)[0]
    return hmac.compare_digest(_check(body, secret), match.group(3))


# --- issuing ---------------------------------------------------------------------------------

def _organisation(scope: Scope) -> tuple[str, str | None]:
    with reading():
        if scope.site:
            site = Site.get_or_none(Site.code == scope.site)
            if site is not None:
                return site.name, site.code
        top = Site.select().where(Site.parent.is_null()).first()
    return (top.name, top.code) if top else (DEFAULT_ORGANISATION, None)


def _lines(scope: Scope, vid: str, lo: int, hi: int) -> list[dict]:
    with reading():
        sessions = list(HoursSession.select().where(
            (HoursSession.vid == vid) & HoursSession.state.in_(COUNTED_STATES) & (HoursSession.minutes > 0)
            & (HoursSession.check_in_at >= lo) & (HoursSession.check_in_at < hi) & scope.where(HoursSession.station))
            .order_by(HoursSession.check_in_at, HoursSession.id))
        ids = list({s.activity_id for s in sessions if s.activity_id})
        activities = {a.id: a for a in Activity.select().where(Activity.id.in_(ids))} if ids else {}
        names = dict(Site.select(Site.code, Site.name).tuples())
    out = []
    for s in sessions:
        a = activities.get(s.activity_id)
        out.append({"activity": a.title if a else "站点值守",
                    "date": datetime.fromtimestamp(s.check_in_at, TZ).date().isoformat(),
                    "minutes": int(s.minutes), "place": (a.place if a and a.place else names.get(s.station, s.station))})
    return out


def _as_dict(c: Certificate) -> dict:
    return {"number": c.number, "vid": c.vid, "name": c.name, "site": c.site, "from": c.start, "to": c.end,
            "minutes": c.minutes, "stars": c.stars, "lines": json.loads(c.lines), "organisation": c.organisation,
            "signer": c.signer, "contact": c.contact, "issuer": c.issuer, "issued_at": c.issued_at,
            "issued_on": datetime.fromtimestamp(c.issued_at, TZ).date().isoformat()}


def issue_many(scope: Scope, vids: list[str], start, end, actor: str, secret: str, signer: str = "",
               contact: str = "", skip_empty: bool = False) -> list[dict]:
    """One certificate per volunteer (all in one transaction), recorded and audited. A
    volunteer outside the scope is not_found; one without confirmed hours in the period
    refuses the call (no_hours), or is left out with `skip_empty`."""
    scope.require("manage")
    vids = list(dict.fromkeys(str(v)[:32] for v in vids))
    if not vids or len(vids) > MAX_BATCH:
        raise ServiceError("bad_certificate", f"give 1 to {MAX_BATCH} volunteers")
    signer, contact = (signer or "").strip()[:50], (contact or "").strip()[:50]
    start, end = period(start, end)
    lo, hi = _bounds(start, end)
    organisation, org_site = _organisation(scope)
    with reading():
        people = {v.vid: v for v in Volunteer.select().where(Volunteer.vid.in_(vids))}
    for vid in vids:
        if vid not in people or not scope.contains(people[vid].station):
            raise not_found("volunteer")
    totals, thresholds = cumulative_minutes(vids), star_hours()
    now = int(time.time())
    made = []
    for vid in vids:
        lines = _lines(scope, vid, lo, hi)
        if not lines:
            if skip_empty:
                continue
            raise ServiceError("no_hours", f"{vid} has no confirmed hours from {start} to {end} here")
        made.append(Certificate(number=new_number(date.today().year, secret), vid=vid, name=people[vid].name,
                                site=people[vid].station, start=start.isoformat(), end=end.isoformat(),
                                minutes=sum(line["minutes"] for line in lines),
                                stars=stars.level(totals.get(vid, 0), thresholds),
                                lines=json.dumps(lines, ensure_ascii=False), organisation=organisation,
                                organisation_site=org_site, signer=signer, contact=contact, issuer=actor,
                                issued_at=now))
    if not made:
        raise ServiceError("no_hours", f"none of them has confirmed hours from {start} to {end} here")
    with writing():
        for c in made:
            c.save(force_insert=True)
            audit.record(actor, "certificate.issue", "certificate", c.number, site=c.site,
                         after={"vid": c.vid, "from": c.start, "to": c.end, "minutes": c.minutes})
    return [_as_dict(c) for c in made]


def issue(scope: Scope, vid: str, start, end, actor: str, secret: str, signer: str = "", contact: str = "") -> dict:
    return issue_many(scope, [vid], start, end, actor, secret, signer, contact)[0]


def get(scope: Scope, number: str) -> dict:
    """One recorded certificate of a volunteer in the scope (else not_found)."""
    scope.require("read")
    with reading():
        c = Certificate.get_or_none(Certificate.number == normalise(number))
    if c is None or not scope.contains(c.site):
        raise not_found("certificate")
    return _as_dict(c)


def get_many(scope: Scope, numbers: list[str]) -> list[dict]:
    return [get(scope, n) for n in numbers]


def of_volunteer(scope: Scope, vid: str) -> list[dict]:
    scope.require("read")
    with reading():
        rows = list(Certificate.select().where((Certificate.vid == vid) & scope.where(Certificate.site))
                    .order_by(Certificate.issued_at.desc()).limit(100))
    return [_as_dict(c) for c in rows]


def verify(number: str, secret: str) -> dict:
    """What anyone may learn from a number: genuine or not, and if genuine what it certified
    (the name, number, period, hours, star level, organisation and date; not the phone)."""
    number = normalise(number)
    if not well_formed(number, secret):
        return {"number": number, "genuine": False}
    with reading():
        c = Certificate.get_or_none(Certificate.number == number)
    if c is None:
        return {"number": number, "genuine": False}
    d = _as_dict(c)
    return {"number": number, "genuine": True, **{k: d[k] for k in (
        "vid", "name", "from", "to", "minutes", "stars", "organisation", "issued_on")}, "services": len(d["lines"])}


# --- the PDF ---------------------------------------------------------------------------------

def verify_url(base_url: str, number: str) -> str:
    return f"{base_url.rstrip('/')}/verify/{number}"


def hours_text(minutes: int) -> str:
    text = f"{minutes / 60:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def pdf(certs: list[dict], base_url: str) -> bytes:
    """The certificates as one A4 PDF (each starts on a new page)."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from sync.printing import _register_pdf_font
    _register_pdf_font()
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    c.setTitle("志愿服务记录证明")
    c.setAuthor("微光 Weiguang")
    for cert in certs:
        _draw(c, cert, base_url)
    c.save()
    return buffer.getvalue()


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    from reportlab.pdfbase.pdfmetrics import stringWidth
    lines, current = [], ""
    for ch in text:
        if stringWidth(current + ch, font, size) > width:
            if ch in "，。、；：）」』”！？" and current:      # never start a line with closing punctuation
                lines.append(current[:-1])
                current = current[-1] + ch
            else:
                lines.append(current)
                current = ch
        else:
            current += ch
    return lines + ([current] if current else [])


def _draw(c, cert: dict, base_url: str) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from sync.printing import PDF_FONT, _draw_qr_pdf, qr_matrix
    W, H = A4
    left, right = 22 * mm, W - 22 * mm

    def header():
        c.setFont(PDF_FONT, 10)
        c.drawRightString(right, H - 16 * mm, f"证明编号：{cert['number']}")

    header()
    c.setFont(PDF_FONT, 24)
    c.drawCentredString(W / 2, H - 34 * mm, "志愿服务记录证明")
    star = stars.label(cert["stars"])
    body = (f"兹证明 {cert['name']}（志愿者编号：{cert['vid']}）于 {cert['from']} 至 {cert['to']} 期间，"
            f"在{cert['organisation']}参加志愿服务，经核实累计志愿服务时长 {hours_text(cert['minutes'])} 小时"
            f"（共 {len(cert['lines'])} 次）。" + (f"截至出具日，该志愿者为{star}。" if star else "")
            + "服务明细如下。特此证明。")
    y = H - 50 * mm
    c.setFont(PDF_FONT, 13)
    for line in _wrap(body, PDF_FONT, 13, right - left):
        c.drawString(left, y, line)
        y -= 7 * mm
    cols = [left, left + 14 * mm, left + 42 * mm, left + 102 * mm, right - 27 * mm]
    heads = ["序号", "日期", "服务内容（活动）", "地点", "时长（小时）"]

    def table_head(y):
        c.setFont(PDF_FONT, 10.5)
        c.setFillGray(0.92)
        c.rect(left, y - 2 * mm, right - left, 7 * mm, stroke=0, fill=1)
        c.setFillGray(0)
        for x, text in zip(cols, heads):
            c.drawString(x + 1.5 * mm, y, text)
        return y - 7 * mm

    y = table_head(y - 3 * mm)
    footer_room = 72 * mm
    c.setFont(PDF_FONT, 10.5)
    for i, line in enumerate(cert["lines"], 1):
        if y < 25 * mm:
            c.showPage()
            header()
            y = table_head(H - 28 * mm)
            c.setFont(PDF_FONT, 10.5)
        cells = [str(i), line["date"], line["activity"], line["place"], hours_text(line["minutes"])]
        widths = [cols[1] - cols[0], cols[2] - cols[1], cols[3] - cols[2], cols[4] - cols[3], right - cols[4]]
        for x, text, w in zip(cols, cells, widths):
            while text and stringWidth(text, PDF_FONT, 10.5) > w - 3 * mm:
                text = text[:-2] + "…"
            c.drawString(x + 1.5 * mm, y, text)
        c.setStrokeGray(0.8)
        c.line(left, y - 2.2 * mm, right, y - 2.2 * mm)
        y -= 6.5 * mm
    c.setFont(PDF_FONT, 11)
    c.drawRightString(right, y - 2 * mm, f"合计：{hours_text(cert['minutes'])} 小时")
    if y < footer_room:
        c.showPage()
        header()
    # The footer: organisation, person in charge, contact, date; the seal's room; the QR.
    c.setFont(PDF_FONT, 12)
    fy = 58 * mm
    for text in (f"出具单位：{cert['organisation']}", f"负责人：{cert['signer'] or '　　　　'}",
                 f"联系电话：{cert['contact'] or '　　　　'}", f"出具日期：{cert['issued_on']}"):
        c.drawString(left + 52 * mm, fy, text)
        fy -= 8 * mm
    c.setStrokeGray(0.6)
    c.setDash(3, 3)
    c.circle(right - 22 * mm, 44 * mm, 20 * mm, stroke=1, fill=0)
    c.setDash()
    c.setFont(PDF_FONT, 10)
    c.setFillGray(0.5)
    c.drawCentredString(right - 22 * mm, 43 * mm, "（盖章）")
    c.setFillGray(0)
    url = verify_url(base_url, cert["number"])
    matrix = qr_matrix(url)
    size = 36 * mm
    module = size / len(matrix)
    _draw_qr_pdf(c, matrix, left, 64 * mm, module)
    c.setFont(PDF_FONT, 8.5)
    c.drawString(left, 22 * mm, "扫码核验本证明真伪")
    c.setFont(PDF_FONT, 7)
    c.drawString(left, 18 * mm, url)
    c.showPage()
