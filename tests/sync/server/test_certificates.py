"""Service-record certificates: issued through the JSON contract, recorded, scoped; the
PDF's text (pdftotext) holds the name, the volunteer number, the period, the hours and
the certificate number; its QR code (rendered by pdftoppm, decoded by zxing-cpp) opens
the verification page, which confirms it; a forged or altered number is not genuine;
only confirmed hours at the issuer's sites are certified; a batch is one PDF."""

from __future__ import annotations

import subprocess
from urllib.parse import urlparse

import pytest

from sync.server.db import reading
from sync.server.models import AuditEntry, Certificate
from sync.server.services import certificates
from tests.sync.server.test_reports import desk, make  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(subprocess.run(["which", "pdftotext"], capture_output=True).returncode != 0,
                                reason="poppler-utils (pdftotext, pdftoppm) not installed")


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout


def qr_texts(data: bytes, tmp_path) -> list[str]:
    import zxingcpp
    from PIL import Image
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_a_certificate_says_what_it_certifies_and_its_qr_verifies_it(desk, tmp_path):
    make("WBY", "14020200001", 90, 3, activity="a-wby")
    make("WBY", "14020200001", 60, 40, state="approved")
    make("WBY", "14020200001", 600, 41, state="review")                     # waiting: not certified
    make("WBY", "14020200001", 600, 42, state="rejected")
    make("HYL", "14020200001", 45, 43)                                      # another station: not wby's to certify
    wby = desk.tokens["wby"]
    answer = desk.post("/api/v1/certificates", json={"vid": "14020200001", "from": "2026-01-01", "to": "2026-06-30",
                                                     "signer": "张主任", "contact": "0352-1234567"}, headers=wby)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    number = body["number"]
    assert certificates.NUMBER.match(number) and body["minutes"] == 150
    assert body["url"].endswith(f"/api/v1/certificates/{number}.pdf")
    pdf = desk.get(urlparse(body["url"]).path, headers=wby)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content, tmp_path)
    for expected in ("志愿服务记录证明", "林建国", "14020200001", "2026-01-01", "2026-06-30", "2.5 小时", number,
                     "文博苑社区", "义诊", "张主任", "0352-1234567", "盖章", "出具日期"):
        assert expected in text, expected
    assert "共 2 次" in text and "2026-02-11" not in text and "2026-02-13" not in text   # review, rejected, HYL: not there
    # The QR opens the verification page, which confirms the certificate.
    [url] = qr_texts(pdf.content, tmp_path)
    assert url == f"http://testserver/verify/{number}"
    page = desk.get(urlparse(url).path)                                      # no log-in
    assert page.status_code == 200 and 'data-genuine="yes"' in page.text
    assert "林建国" in page.text and "2.5" in page.text and "2026-06-30" in page.text
    assert desk.get(f"/api/v1/verify/{number}").json()["genuine"] is True
    # Recorded: number, volunteer, period, hours, issuer; and audited.
    with reading():
        row = Certificate.get(Certificate.number == number)
        assert (row.vid, row.start, row.end, row.minutes, row.issuer) == \
            ("14020200001", "2026-01-01", "2026-06-30", 150, "wby")
        assert AuditEntry.select().where(AuditEntry.action == "certificate.issue",
                                         AuditEntry.object_id == number).exists()


def test_forged_and_altered_numbers_are_not_genuine(desk, server_settings):
    make("WBY", "14020200001", 90, 3)
    number = desk.post("/api/v1/certificates", json={"vid": "14020200001", "from": "2026-01-01", "to": "2026-12-31"},
                       headers=desk.tokens["wby"]).json()["number"]
    altered = number[:8] + ("A" if number[8] != "A" else "B") + number[9:]
    check_altered = number[:-1] + ("A" if number[-1] != "A" else "B")
    body = number.rsplit("-", 1)[0]
    unrecorded = "WG2026-AAAAAAAA-" + certificates._check("WG2026-AAAAAAAA", server_settings.session_secret())  # right check, never issued
    wrong_key = f"{body}-{certificates._check(body, 'another secret')}"
    for forged in (altered, check_altered, unrecorded, wrong_key, "WG2026-12345678-ABCDEF", "hello",
                   "' OR 1=1 --", "x" * 300):
        page = desk.get(f"/verify/{forged}")
        assert page.status_code in (200, 404), forged
        if page.status_code == 200:
            assert 'data-genuine="no"' in page.text and "林建国" not in page.text, forged
        assert desk.get(f"/api/v1/verify/{forged}").json().get("genuine") in (False, None), forged
    assert 'data-genuine="yes"' in desk.get(f"/verify/{number.lower()}").text   # case and spaces do not matter


def test_scope_and_refusals(desk):
    make("WBY", "14020200001", 90, 3)
    wby, hyl = desk.tokens["wby"], desk.tokens["hyl"]
    number = desk.post("/api/v1/certificates", json={"vid": "14020200001", "from": "2026-01-01", "to": "2026-12-31"},
                       headers=wby).json()["number"]
    for method, path, body in [("POST", "/api/v1/certificates", {"vid": "14020200001", "from": "2026-01-01"}),
                               ("GET", f"/api/v1/certificates/{number}.pdf", None),
                               ("GET", f"/api/v1/certificates/{number}", None),
                               ("POST", "/api/v1/certificates/batch", {"vids": ["14020200001"]})]:
        answer = desk.request(method, path, json=body, headers=hyl)
        assert answer.status_code == 404 and answer.json()["code"] == "not_found", path
    answer = desk.post("/api/v1/certificates", json={"vid": "14020200002", "from": "2026-01-01"}, headers=wby)
    assert answer.status_code == 409 and answer.json()["code"] == "no_hours"
    answer = desk.post("/api/v1/certificates", json={"vid": "14020200001", "from": "2026-02-30"}, headers=wby)
    assert answer.status_code == 400 and answer.json()["code"] == "bad_period"
    assert desk.post("/api/v1/certificates", json={"vid": "14020200001"}).status_code == 401


def test_a_batch_is_one_pdf(desk, tmp_path):
    make("WBY", "14020200001", 90, 3)
    make("WBY", "14020200002", 120, 4)
    answer = desk.post("/api/v1/certificates/batch", json={"vids": ["14020200001", "14020200002"],
                                                           "from": "2026-01-01", "to": "2026-12-31"},
                       headers=desk.tokens["pc"])
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    numbers = answer.headers["x-certificate-numbers"].split(",")
    text = pdf_text(answer.content, tmp_path)
    assert len(numbers) == 2 and all(n in text for n in numbers) and "林建国" in text and "王秀英" in text
    assert "平城区新时代文明实践中心" in text                                  # the issuer: the user's site
