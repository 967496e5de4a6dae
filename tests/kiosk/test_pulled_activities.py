"""A pulled activity never reopens one a coordinator closed at this kiosk."""

from kiosk.store import Activity
from sync.protocol import Change

from .conftest import at


def pulled(activity_id: str, version: int, **data) -> Change:
    fields = {"title": activity_id, "starts_at": at("2026-11-30 08:00"), "ends_at": at("2026-11-30 18:00"),
              "place": "广场", **data}
    return Change(kind="activity", key=activity_id, data=fields, version=version)


def test_a_closed_activity_stays_closed_whatever_a_pull_brings(store, desk, activity):
    activity("a1", "2026-11-30 08:00", "2026-11-30 18:00")
    activity("a2", "2026-11-30 08:00", "2026-11-30 18:00")
    desk.close_activity("a1", by_vid="C001", at=at("2026-11-30 12:00"))
    # A copy published before the center had the closure (no `closed`, or closed false).
    store.apply_changes([pulled("a1", 1, place="东门"), pulled("a2", 2)], cursor=2)
    store.apply_changes([pulled("a1", 3, closed=False, place="北门")], cursor=3)
    a1, a2 = Activity.get_by_id("a1"), Activity.get_by_id("a2")
    assert (a1.closed, a1.place) == (True, "北门") and not a2.closed   # updated, still closed
    assert [a.id for a in desk.open_activities(at("2026-11-30 13:00"))] == ["a2"]
    # Closed at another kiosk of the station: closed here at the pull.
    store.apply_changes([pulled("a2", 4, closed=True)], cursor=4)
    assert desk.open_activities(at("2026-11-30 13:00")) == []
    store.apply_changes([Change(kind="activity", key="a1", data=None, version=5)], cursor=5)   # withdrawn
    assert Activity.get_or_none(Activity.id == "a1") is None


def test_a_pulled_sign_up_link_and_count_show_as_places_left(store):
    from kiosk.ui.services import activity_dict
    store.settings.set(server_url="http://192.168.1.20:8000/")
    store.apply_changes([pulled("a1", 1, capacity=30, signed_up=12, signup_url="/signup/AbCdEfGhIjKlMnOp"),
                         pulled("a2", 2, capacity=10, signed_up=3, signup_url="https://wg.example.cn/signup/x1y2z3w4")],
                        cursor=2)
    a1, a2 = activity_dict(Activity.get_by_id("a1")), activity_dict(Activity.get_by_id("a2"))
    assert a1["signup_url"] == "http://192.168.1.20:8000/signup/AbCdEfGhIjKlMnOp"   # a path: our server's
    assert a1["places_left"] == 18
    assert a2["signup_url"] == "https://wg.example.cn/signup/x1y2z3w4" and a2["places_left"] == 7
    store.apply_changes([pulled("a1", 3, capacity=30, signed_up=13, signup_url="/signup/AbCdEfGhIjKlMnOp")], 3)
    assert activity_dict(Activity.get_by_id("a1"))["places_left"] == 17
