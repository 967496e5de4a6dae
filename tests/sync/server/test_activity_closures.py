"""Activity closures pushed by kiosks: applied once, published to the station, refused elsewhere."""

from __future__ import annotations

import pytest

from sync.server.db import reading
from sync.server.models import Activity, ChangeRow
from sync.server.services import changes
from tests.sync.server.conftest import enrol
from tests.sync.server.helpers import T0
from tests.sync.server.test_changes import pull_all


def closure(kiosk, activity_id: str, at: int = T0 + 600, by_vid: str = "C0001", **kw) -> dict:
    return kiosk.event("activity_closed", {"activity_id": activity_id, "at": at, "by_vid": by_vid}, **kw)


def activity_rows(kiosk) -> list[dict]:
    """Every copy of the activity this kiosk pulled, oldest first."""
    return [c["data"] for c in pull_all(kiosk) if c["kind"] == "activity"]


def row(activity_id: str) -> Activity:
    with reading():
        return Activity.get_by_id(activity_id)


@pytest.fixture
def station_activity(kiosk):
    changes.upsert_activity("a1", "文明交通劝导", T0, T0 + 7200, station="s1")
    return "a1"


def test_a_closure_closes_the_activity_and_reaches_the_stations_kiosks(api, kiosk, station_activity):
    other, elsewhere = enrol(api, "s1"), enrol(api, "s2")
    assert kiosk.statuses([closure(kiosk, "a1", offset_ms=5000)]) == [("stored", None)]
    closed = row("a1")
    assert (closed.closed_at, closed.closed_by) == (T0 + 605, "C0001")     # on the server's clock
    latest = activity_rows(other)[-1]
    assert latest["closed"] is True and latest["title"] == "文明交通劝导"
    assert activity_rows(elsewhere) == []
    # The center edits it afterwards: the copy it publishes is still closed.
    changes.upsert_activity("a1", "文明交通劝导", T0, T0 + 7200, station="s1", place="东门")
    assert activity_rows(other)[-1]["closed"] is True and row("a1").closed_at == T0 + 605


def test_the_first_closure_stands_and_a_resend_is_a_duplicate(api, kiosk, station_activity):
    other = enrol(api, "s1")
    first = closure(kiosk, "a1", at=T0 + 600, by_vid="C0001")
    assert kiosk.statuses([first]) == [("stored", None)]
    with reading():
        published = ChangeRow.select().where(ChangeRow.kind == "activity").count()
    assert other.statuses([closure(other, "a1", at=T0 + 900, by_vid="C0002")]) == [("stored", None)]
    assert kiosk.statuses([first]) == [("duplicate", None)]
    assert (row("a1").closed_at, row("a1").closed_by) == (T0 + 600, "C0001")
    with reading():
        assert ChangeRow.select().where(ChangeRow.kind == "activity").count() == published


def test_another_stations_activity_or_an_unknown_one_is_refused(api, kiosk):
    changes.upsert_activity("a2", "义诊", T0, T0 + 7200, station="s2")
    assert kiosk.statuses([closure(kiosk, "a2"), closure(kiosk, "no-such-activity")]) == [
        ("refused", "activity_not_here"), ("refused", "activity_not_here")]
    assert row("a2").closed_at is None
    assert [a["closed"] for a in activity_rows(enrol(api, "s2"))] == [False]


def test_a_stored_closure_stays_a_duplicate_after_the_activity_moves(api, kiosk, station_activity):
    event = closure(kiosk, "a1")
    assert kiosk.statuses([event]) == [("stored", None)]
    changes.upsert_activity("a1", "文明交通劝导", T0, T0 + 7200, station="s2")
    assert kiosk.statuses([event]) == [("duplicate", None)]


def test_an_activity_of_every_station_closes_at_the_closing_station_only(api, kiosk):
    changes.upsert_activity("a-all", "城市垃圾捡拾", T0, T0 + 7200)
    same, elsewhere = enrol(api, "s1"), enrol(api, "s2")
    assert kiosk.statuses([closure(kiosk, "a-all")]) == [("stored", None)]
    assert [a["closed"] for a in activity_rows(same)] == [False, True]
    assert [a["closed"] for a in activity_rows(elsewhere)] == [False]
    assert row("a-all").closed_at is None
