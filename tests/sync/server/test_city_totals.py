"""The city's figures reach the kiosks: after a check-out is applied, an automatic close,
or a review decision, the volunteer's station's kiosks pull a "volunteer" change with the
roster row and the confirmed minutes this year, those awaiting review, and those ever,
counted over every station. Other stations' kiosks get nothing about them. Both backends."""

from __future__ import annotations

import time

import pytest

from sync.roster import RosterEntry
from sync.server.services import changes, review, sessions
from sync.server.services.scope import CLI
from tests.sync.server.conftest import enrol

NOW = int(time.time())


@pytest.fixture(autouse=True)
def pushed_at_once(server_settings):
    server_settings.offline_after_seconds = 24 * 3600


def figures(kiosk, vid: str, cursor: int = 0) -> list[dict]:
    answer = kiosk.pull(cursor)
    assert answer.status_code == 200, answer.text
    return [c["data"] for c in answer.json()["changes"] if c["kind"] == "volunteer" and c["key"] == vid]


def test_a_check_out_anywhere_updates_the_home_stations_kiosks(api):
    home, elsewhere = enrol(api, "s1"), enrol(api, "s2")
    changes.import_roster([RosterEntry("V0001", "林建国", "党员")], station="s1")
    changes.import_roster([RosterEntry("V0002", "王秀英")], station="s2")
    assert figures(home, "V0001")[-1] == {"name": "林建国", "team": "党员", "role": "volunteer"}
    # Two hours at s1, one at s2 (the volunteer helps out there).
    for kiosk, hours_ in ((home, 2), (elsewhere, 1)):
        checkin = kiosk.checkin("V0001", NOW - hours_ * 3600 - 600)
        assert kiosk.statuses([checkin, kiosk.checkout(checkin, NOW - 600, minutes=hours_ * 60)]) == \
            [("stored", None), ("stored", None)]
    latest = figures(home, "V0001")[-1]
    assert latest["name"] == "林建国" and latest["year"] == time.gmtime(NOW + 8 * 3600).tm_year
    assert (latest["year_minutes"], latest["year_pending_minutes"], latest["total_minutes"]) == (180, 0, 180)
    assert figures(elsewhere, "V0001") == []                     # not on s2's roster: nothing about them


def test_review_and_decisions_move_the_figures(api):
    kiosk = enrol(api, "s1")
    changes.import_roster([RosterEntry("V0001", "林建国")], station="s1")
    checkin = kiosk.checkin("V0001", NOW - 3 * 3600)
    kiosk.statuses([checkin])
    assert sessions.close_overdue(now=NOW + 10 * 3600) == 1      # station duty: closed automatically, for review
    latest = figures(kiosk, "V0001")[-1]
    assert latest["year_minutes"] == 0 and latest["year_pending_minutes"] == 240 and latest["total_minutes"] == 0
    [item] = review.queue(CLI)["items"]
    review.decide(CLI, item["session_id"], "adjust", minutes=150, reason="签退忘扫", actor="li")
    latest = figures(kiosk, "V0001")[-1]
    assert (latest["year_minutes"], latest["year_pending_minutes"], latest["total_minutes"]) == (150, 0, 150)
