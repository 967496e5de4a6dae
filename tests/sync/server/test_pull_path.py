"""Issue 12, the lighter pull: a kiosk's pull with a plain query and a cached token is
answered by `api.changes.lean` (no session, routing or dependency layers); every other
pull goes through the routed `pull` as before, so its answers (422s, 401, 403) do not
change. Both backends (`server_settings`)."""

from __future__ import annotations

import fastapi.routing
import pytest

from sync.server import db
from sync.server.api.changes import plain_query
from sync.server.models import Device
from sync.server.services import devices


@pytest.fixture
def routed(monkeypatch):
    """How many requests reached FastAPI's dependency solving (the routed path)."""
    calls = []
    real = fastapi.routing.solve_dependencies

    async def counting(*args, **kwargs):
        calls.append(kwargs.get("request") or args)
        return await real(*args, **kwargs)
    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    return calls


def get(kiosk, query: str, headers: dict | None = None):
    return kiosk.api.get("/api/v1/changes?" + query, headers=kiosk.headers if headers is None else headers)


def comparable(answer) -> tuple:
    body = answer.json()
    body.pop("server_time")
    return answer.status_code, body, sorted((k, v) for k, v in answer.headers.items() if k != "content-length")


def test_a_kiosks_pull_skips_the_routed_layers_and_answers_the_same(kiosk, routed):
    assert kiosk.pull().status_code == 200              # the token is now cached
    routed.clear()
    query = "cursor=0&limit=500&pending=3&refused=1&clock_offset_ms=-1200&app_version=0.12.0-rc1"
    lean = get(kiosk, query)
    assert routed == []                                 # no dependency solving: the lean path
    full = get(kiosk, query + "&extra=1")               # an unknown name: the routed path (which ignores it)
    assert len(routed) == 1
    assert comparable(lean) == comparable(full)
    assert lean.json()["changes"] and lean.json()["page_key"] and "checkin" in lean.json()["event_types"]
    assert lean.headers["x-frame-options"] == "DENY"    # the page headers, as every answer


def test_the_lean_pull_records_the_kiosks_report(kiosk, routed):
    kiosk.pull()
    routed.clear()
    assert get(kiosk, "cursor=0&pending=17&refused=2&clock_offset_ms=-300&app_version=1.2.3").status_code == 200
    assert routed == []
    with db.reading():
        device = Device.get_by_id(kiosk.device_id)
    assert (device.pending, device.refused, device.clock_offset_ms, device.app_version) == (17, 2, -300, "1.2.3")


@pytest.mark.parametrize("query, status", [
    ("cursor=-1", 422), ("limit=0", 422), ("limit=501", 422), ("cursor=abc", 422),
    ("cursor=9223372036854775808", 422), ("pending=1000000001", 422), ("clock_offset_ms=-1000000000001", 422),
    ("app_version=" + "v" * 33, 422), ("cursor=007", 200), ("cursor=", 422), ("app_version=1.0+beta", 200),
    ("cursor=0&cursor=1", 200), ("cursor=0&&limit=5", 200), ("app_version=%E5%BE%AE", 200),
])
def test_any_other_query_is_answered_by_the_routed_pull_as_before(kiosk, routed, query, status):
    kiosk.pull()
    routed.clear()
    answer = get(kiosk, query)
    assert answer.status_code == status, answer.text
    assert len(routed) == 1                            # not the lean path
    if status == 422:
        assert answer.json()["code"] == "invalid_request"


def test_tokens_the_cache_cannot_vouch_for_go_the_routed_way(kiosk, routed, monkeypatch):
    assert get(kiosk, "cursor=0", headers={}).status_code == 401
    assert get(kiosk, "cursor=0", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert get(kiosk, "cursor=0", headers={"Authorization": f"Basic {kiosk.token}"}).status_code == 401
    devices.forget_tokens()
    assert kiosk.pull().status_code == 200             # not cached: the routed pull looks it up
    assert len(routed) == 4
    devices.revoke_device(kiosk.device_id)
    answer = kiosk.pull()
    assert answer.status_code == 403 and answer.json()["code"] == "device_revoked"


def test_a_pull_with_a_cookie_goes_the_routed_way(kiosk, routed):
    kiosk.pull()
    routed.clear()
    headers = {**kiosk.headers, "Cookie": "wg_session=x"}
    assert get(kiosk, "cursor=0", headers=headers).status_code == 200
    assert len(routed) == 1


@pytest.mark.parametrize("query, expected", [
    (b"", {}),
    (b"cursor=5&limit=10", {"cursor": 5, "limit": 10}),
    (b"clock_offset_ms=-5&app_version=0.9_a", {"clock_offset_ms": -5, "app_version": "0.9_a"}),
    (b"cursor=0", {"cursor": 0}),
    (b"cursor=05", None), (b"cursor=-0", None), (b"clock_offset_ms=-0", None), (b"limit=-1", None), (b"cursor=%30", None), (b"cursor=+1", None),
    (b"cursor=1&cursor=1", None), (b"cursor", None), (b"other=1", None), (b"app_version=a%20b", None),
    (b"cursor=1&", None), (b"cursor=99999999999999999999", None), (b"cursor=\xff", None),
])
def test_plain_query(query, expected):
    assert plain_query(query) == expected
