"""A volunteer's own page: opened by a signed, expiring link (no log-in), it shows that one
volunteer's hours, sessions, star level and certificates, nothing about anyone else; an
altered, forged or expired link is refused with a stable code."""

from __future__ import annotations

import re
import time

from sync import mylink
from sync.server.services import mypage
from sync.server.services.scope import CLI
from tests.sync.server.center import log_in
from tests.sync.server.test_reports import desk, make  # noqa: F401  (the fixture)


def test_the_page_shows_one_volunteer_only(desk, server_settings):
    make("WBY", "14020200001", 100 * 60, 3, activity="a-wby")
    make("WBY", "14020200001", 90, 300, state="review")
    make("WBY", "14020200002", 45, 3)
    number = desk.post("/api/v1/certificates", json={"vid": "14020200001", "from": "2026-01-01", "to": "2026-12-31"},
                       headers=desk.tokens["wby"]).json()["number"]
    other = desk.post("/api/v1/certificates", json={"vid": "14020200002", "from": "2026-01-01", "to": "2026-12-31"},
                      headers=desk.tokens["wby"]).json()["number"]
    token = mypage.link_token(CLI, "14020200001", server_settings.session_secret())
    page = desk.get(f"/me/{token}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "林建国" in page.text and "王秀英" not in page.text and "14020200002" not in page.text
    assert "一星志愿者" in page.text and number in page.text and other not in page.text
    assert "义诊" in page.text and "待审核" in page.text
    body = desk.get(f"/api/v1/volunteer-page/{token}").json()
    assert body["vid"] == "14020200001" and body["total_minutes"] == 100 * 60 and body["stars"] == 1
    assert len(body["sessions"]) == 2 and body["certificates"][0]["number"] == number
    pdf = desk.get(f"/me/{token}/certificates/{number}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert desk.get(f"/me/{token}/certificates/{other}.pdf").status_code == 404     # someone else's


def test_altered_forged_and_expired_links_are_refused(desk, server_settings):
    make("WBY", "14020200001", 60, 3)
    token = mypage.link_token(CLI, "14020200001", server_settings.session_secret())
    vid, station, expires, mac = token.split(".")
    wby_key = mylink.station_key(server_settings.session_secret(), "WBY")
    cases = {
        "another volunteer": f"14020200002.{station}.{expires}.{mac}",
        "a later expiry": f"{vid}.{station}.{int(expires) + 86400}.{mac}",
        "another mac": f"{vid}.{station}.{expires}.{'A' * 22}",
        "another station's key": mylink.make(mylink.station_key(server_settings.session_secret(), "HYL"), vid, "HYL", int(expires)),
        "another secret": mylink.make(mylink.station_key("guess", "WBY"), vid, "WBY", int(expires)),
        "not a link": "hello",
    }
    for name, bad in cases.items():
        for path in (f"/me/{bad}", f"/api/v1/volunteer-page/{bad}"):
            answer = desk.get(path)
            assert answer.status_code == 404, (name, path)
            assert "林建国" not in answer.text, name
    assert desk.get("/api/v1/volunteer-page/hello").json()["code"] == "link_invalid"
    expired = mylink.make(wby_key, vid, "WBY", int(time.time()) - 1)
    answer = desk.get(f"/api/v1/volunteer-page/{expired}")
    assert answer.status_code == 410 and answer.json()["code"] == "link_expired"
    assert desk.get(f"/me/{expired}").status_code == 410


def test_the_dashboard_gives_the_link_and_its_qr(desk):
    make("WBY", "14020200001", 60, 3)
    assert log_in(desk, "wby").status_code == 303
    page = desk.get("/volunteers/14020200001").text
    url = re.search(r'id="own-link" rel="noreferrer">([^<]+)<', page).group(1)
    assert "<svg" in page.split('id="own-page"')[1].split("</div>")[0]
    assert "林建国" in desk.get(url.replace("http://testserver", "")).text
