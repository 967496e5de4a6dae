"""Reports and certificates in a real browser (Playwright + Debian's Chromium) against a
real `weiguang server run`: a station coordinator's report holds only their station, the
center's holds both; the chart is an SVG with one bar per row; the XLSX downloaded from
the page equals the JSON table; the report at a phone's width; a certificate issued from
a volunteer's page verifies on the public page, and an altered number does not."""

from __future__ import annotations

import io
import uuid

import pytest

from tests.web.conftest import T0, logged_in

pytestmark = pytest.mark.slow
PERIOD = "from=2026-01-01&to=2026-12-31"


@pytest.fixture(scope="module")
def hours(desk):
    """Confirmed sessions at both stations (the desk's own are mostly waiting for review)."""
    from sync.server import db
    from sync.server.models import HoursSession
    from sync.server.settings import ServerSettings
    db.open_database(ServerSettings(data_dir=desk.data, database_url=None))
    try:
        with db.writing():
            for station, vid, minutes, state in [("WBY", "14020200001", 120, "approved"),
                                                 ("WBY", "14020200002", 90, "closed"),
                                                 ("HYL", "14020300001", 75, "closed"),
                                                 ("HYL", "14020300001", 600, "rejected")]:
                HoursSession.create(id=str(uuid.uuid4()), vid=vid, serial=1, station=station, device_id="d",
                                    check_in_at=T0 + 3600, check_out_at=T0 + 3600 + minutes * 60, minutes=minutes,
                                    state=state)
    finally:
        db.close_database()
    return desk


def rows(page) -> list[str]:
    return page.eval_on_selector_all("#report tbody tr", "rows => rows.map(r => r.dataset.key)")


def test_a_station_sees_its_station_and_the_center_sees_all(browser, hours):
    desk = hours
    context, page = logged_in(browser, desk, "hyl")
    page.click("text=统计报表")
    page.goto(f"/reports?{PERIOD}&by=site")
    assert rows(page) == ["HYL"]
    assert page.locator("#chart svg.wide rect.bar").count() == 1
    assert "文博苑社区" not in page.inner_text("main")
    assert page.inner_text("#total-hours") == "1.2"                   # 75 minutes; the rejected 600 nowhere
    assert context.request.get(f"/reports?{PERIOD}&site=WBY").status == 404
    context.close()

    context, page = logged_in(browser, desk, "pc")
    page.goto(f"/reports?{PERIOD}")
    page.select_option("#by", "site")
    page.click("#show")
    assert sorted(rows(page)) == ["HYL", "WBY"]
    assert page.locator("#chart svg.wide rect.bar").count() == 2
    assert page.locator("#chart svg.wide").is_visible() and not page.locator("#chart svg.narrow").is_visible()
    page.select_option("#by", "volunteer")
    page.click("#show")
    assert page.locator("#chart svg.wide rect.bar").count() == 3 == len(rows(page))
    # The XLSX behind the page's button holds the JSON table.
    from openpyxl import load_workbook
    with page.expect_download() as download:
        page.click("#export-xlsx")
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    table = [(r[0], r[3], r[4]) for r in sheet.iter_rows(min_row=2, values_only=True)]
    body = context.request.get(f"/api/v1/reports/hours?{PERIOD}&by=volunteer").json()
    assert table == [(r["key"], r["minutes"], r["volunteers"]) for r in body["rows"]]
    assert body["total_minutes"] == 345                                  # with the desk's own closed hour
    context.close()


def test_the_report_at_a_phones_width(browser, hours):
    context, page = logged_in(browser, hours, "pc", viewport={"width": 390, "height": 844})
    page.goto(f"/reports?{PERIOD}&by=site")
    assert page.locator("#chart svg.narrow").is_visible() and not page.locator("#chart svg.wide").is_visible()
    assert page.locator("#chart svg.narrow rect.bar").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390    # nothing wider than the phone
    context.close()


def test_a_certificate_from_the_volunteer_page_verifies(browser, hours):
    context, page = logged_in(browser, hours, "wby")
    page.goto("/volunteers/14020200001")
    page.fill("#cert-from", "2026-01-01")
    page.fill("#cert-to", "2026-12-31")
    with page.expect_response(lambda r: r.url.endswith(".pdf")) as answer:
        page.click("#issue-cert")
    number = answer.value.url.rsplit("/", 1)[1][:-4]
    pdf = context.request.get(f"/certificates/{number}.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    page.goto("/volunteers/14020200001")
    assert number in page.inner_text("#certificates")
    context.close()
    anyone = browser.new_context(base_url=hours.url).new_page()           # no log-in
    anyone.goto(f"/verify/{number}")
    assert anyone.get_attribute("#verdict", "data-genuine") == "yes" and "林建国" in anyone.inner_text("#certified")
    anyone.goto(f"/verify/{number[:-2]}{'AB' if number[-2:] != 'AB' else 'CD'}")
    assert anyone.get_attribute("#verdict", "data-genuine") == "no" and "林建国" not in anyone.content()
    anyone.context.close()


def test_the_volunteers_own_page_at_a_phones_width(browser, hours):
    context, page = logged_in(browser, hours, "wby")
    page.goto("/volunteers/14020200001")
    url = page.get_attribute("#own-link", "href")
    context.close()
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()     # the volunteer, no log-in
    phone.goto(url)
    assert phone.inner_text("#me-name") == "林建国" and "王秀英" not in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.locator("#me-sessions tbody tr").count() >= 1
    altered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert phone.goto(altered).status == 404 and "林建国" not in phone.content()
    phone.context.close()


def test_a_batch_of_certificates_from_the_report(browser, hours):
    context, page = logged_in(browser, hours, "pc")
    page.goto(f"/reports?{PERIOD}&by=volunteer")
    listed = rows(page)
    with page.expect_response(lambda r: r.url.endswith("/reports/certificates")) as answer:
        page.click("#batch-cert")
    response = answer.value
    numbers = response.headers["x-certificate-numbers"].split(",")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert len(numbers) == len(listed) == 3
    for number in numbers:                                                  # each one recorded and genuine
        assert context.request.get(f"/api/v1/verify/{number}").json()["genuine"] is True
    context.close()
