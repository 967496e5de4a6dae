"""The doors (issue 7, build 6), on both database backends.

Enrolment: a device id is enrolled once (another kiosk's id plus any valid code must not
take that kiosk over); unknown, used and expired codes get one and the same answer; the
attempts of one client address are limited.

Admission: a push's token is checked before it takes a slot, and a body that does not
arrive in time is cut off. These run the app under a real uvicorn on 127.0.0.1 (a
thread of this process), with raw sockets that declare a body and trickle it.
"""

from __future__ import annotations

import pytest
import threading
import time
from collections import Counter
from contextlib import contextmanager
from typing import Iterator

import requests
import uvicorn
from fastapi.testclient import TestClient

from sync.badges import init_keys
from sync.server.app import create_app
from sync.server.services import changes, devices
from tests.sync.server.conftest import enrol
from tests.sync.server.helpers import T0, Kiosk
from tests.sync.server.slow import SlowSenders

ENROLL = "/api/v1/devices/enroll"
EVENTS = "/api/v1/events"


# --- enrolment ----------------------------------------------------------------------------

def test_another_kiosks_id_is_refused_and_that_kiosk_keeps_working(api):
    kiosk = enrol(api, "s1")
    changes.upsert_station("s2", "站点 s2")
    code = devices.make_enroll_code("s2")
    hijack = api.post(ENROLL, json={"code": code, "device_id": kiosk.device_id})
    assert hijack.status_code == 409 and hijack.json()["code"] == "device_exists"
    assert "token" not in hijack.json()
    # The kiosk is where it was, its token works for pulls and pushes.
    assert devices.authenticate(kiosk.token).station == "s1"
    assert kiosk.pull().status_code == 200 and kiosk.push([]).status_code == 200
    # The refusal did not spend the code: a new kiosk enrols with it, under a new id.
    fresh = api.post(ENROLL, json={"code": code})
    assert fresh.status_code == 200
    assert fresh.json()["station"]["code"] == "s2" and fresh.json()["device_id"] != kiosk.device_id


def test_a_revoked_id_stays_refused_even_with_a_new_code(api):
    kiosk = enrol(api, "s1")
    devices.revoke_device(kiosk.device_id)
    answer = api.post(ENROLL, json={"code": devices.make_enroll_code("s1"), "device_id": kiosk.device_id})
    assert (answer.status_code, answer.json()["code"]) == (403, "device_revoked")


def test_unknown_used_and_expired_codes_get_the_same_answer(api):
    changes.upsert_station("s1", "站点 s1")
    used = devices.make_enroll_code("s1")
    assert api.post(ENROLL, json={"code": used}).status_code == 200
    codes = {"used": used, "expired": devices.make_enroll_code("s1", hours=-1),
             "unknown": "ZZZZ-ZZZZ-ZZZZ", "malformed": "!!!!"}
    answers = {case: api.post(ENROLL, json={"code": code}) for case, code in codes.items()}
    seen = {(a.status_code, a.json()["code"], a.json()["message"], tuple(sorted(a.json()))) for a in answers.values()}
    assert len(seen) == 1, seen
    status, code, message, _ = seen.pop()
    assert (status, code) == (400, "code_invalid") and "code" in message


def test_enrolment_attempts_are_limited_per_address(server_app):
    changes.upsert_station("s1", "站点 s1")
    good = devices.make_enroll_code("s1")
    with TestClient(server_app, client=("203.0.113.7", 40000)) as guesser:
        for n in range(10):
            answer = guesser.post(ENROLL, json={"code": f"GUES-SNUM-{n:04d}"})
            assert answer.json()["code"] == "code_invalid"
        # The 11th attempt in the minute is refused whatever it holds, a good code too.
        limited = guesser.post(ENROLL, json={"code": good})
        assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Another address is not affected, and the good code was not spent.
    with TestClient(server_app, client=("198.51.100.20", 40000)) as kiosk:
        assert kiosk.post(ENROLL, json={"code": good}).status_code == 200


def test_ipv6_addresses_of_one_network_share_a_limit(server_app):
    for n in range(10):
        with TestClient(server_app, client=(f"2001:db8:1:2::{n + 1:x}", 40000)) as client:
            assert client.post(ENROLL, json={"code": "ZZZZ-ZZZZ-ZZZZ"}).status_code == 400
    with TestClient(server_app, client=("2001:db8:1:2:ffff::1", 40000)) as same_network:
        assert same_network.post(ENROLL, json={"code": "ZZZZ-ZZZZ-ZZZZ"}).status_code == 429
    with TestClient(server_app, client=("2001:db8:1:3::1", 40000)) as next_network:
        assert next_network.post(ENROLL, json={"code": "ZZZZ-ZZZZ-ZZZZ"}).status_code == 400


# --- admission, under a real uvicorn -----------------------------------------------------------

@contextmanager
def serving(settings, **limits) -> Iterator[str]:
    """create_app(settings with `limits`) under uvicorn on 127.0.0.1:<free port>; its URL."""
    settings = settings.model_copy(update=limits)
    init_keys(settings.keys_dir)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(15)


def enrol_over_http(url: str, station: str = "s1") -> Kiosk:
    changes.upsert_station(station, f"站点 {station}")
    answer = requests.post(url + ENROLL, json={"code": devices.make_enroll_code(station)}, timeout=10)
    assert answer.status_code == 200, answer.text
    return Kiosk(None, answer.json()["device_id"], answer.json()["token"], station)


def real_push(url: str, kiosk: Kiosk) -> requests.Response:
    event = kiosk.checkin("V00001", T0)
    return requests.post(url + EVENTS, json={"events": [event]}, headers=kiosk.headers, timeout=15)


def test_pushes_without_a_valid_token_take_no_slot_and_are_answered_at_once(server_settings):
    # Four slots, a two-second wait: before the fix the eight slow senders below held the
    # four slots and the four places behind them, and the real push got 503 busy.
    with serving(server_settings, push_concurrency=4, push_wait_seconds=2, body_timeout_seconds=60) as url:
        kiosk = enrol_over_http(url)
        revoked = enrol_over_http(url)
        devices.revoke_device(revoked.device_id)
        authorizations = [None, None, "Bearer not-a-token", "Bearer not-a-token", "Basic eDp5",
                          f"Bearer {revoked.token}", f"Bearer {revoked.token}", f"Bearer {kiosk.token}x"]
        with SlowSenders(url, EVENTS, authorizations, every=0.5) as slow:
            time.sleep(0.3)                     # they reach the server first
            assert real_push(url, kiosk).status_code == 200
            answered = slow.answers(within=10)
    assert answered == [(401, "unauthorized", True)] * 5 + [(403, "device_revoked", True)] * 2 \
        + [(401, "unauthorized", True)]
    assert max(slow.sent) < 100   # answered long before the body could have arrived


def test_a_slow_body_is_cut_off_and_one_token_cannot_hold_every_slot(server_settings):
    with serving(server_settings, push_concurrency=4, push_wait_seconds=3, body_timeout_seconds=1,
                 push_per_device=2) as url:
        slow_kiosk, kiosk = enrol_over_http(url), enrol_over_http(url)
        with SlowSenders(url, EVENTS, [f"Bearer {slow_kiosk.token}"] * 8, every=0.2) as slow:
            time.sleep(0.3)
            pushed = real_push(url, kiosk)
            answered = slow.answers(within=10)
    assert pushed.status_code == 200 and len(pushed.json()["results"]) == 1
    # The slow kiosk's lane: two admitted, cut off when their body had not come within a
    # second, then the two waiting behind them, cut off likewise; the other four refused
    # at once. No more than two slots were ever theirs. Every connection was closed.
    assert Counter(answered) == {(408, "body_timeout", True): 4, (429, "rate_limited", True): 4}


def test_one_kiosks_overlapping_pushes_are_served_in_turn(server_settings):
    # A kiosk's retry beside a slow answer, or the CLI beside the app: more pushes of one
    # device than its lane admits at once wait their turn instead of being refused.
    with serving(server_settings, push_per_device=1) as url:
        kiosk = enrol_over_http(url)
        with SlowSenders(url, EVENTS, [f"Bearer {kiosk.token}"], every=0.2) as slow:   # holds the lane
            time.sleep(0.3)
            behind = real_push(url, kiosk)       # waits until the slow one is cut off (5 s)
            answered = slow.answers(within=10)
    assert answered == [(408, "body_timeout", True)]
    assert behind.status_code == 200


def test_a_slow_enrolment_body_is_cut_off(server_settings):
    with serving(server_settings, body_timeout_seconds=1) as url:
        with SlowSenders(url, ENROLL, [None], every=0.2) as slow:
            assert slow.answers(within=10) == [(408, "body_timeout", True)]
        assert enrol_over_http(url).token       # a prompt one is unaffected


@pytest.mark.parametrize("device_id", ["../fleet/abc/revoke?", "a b", "ä", "x" * 65, ""])
def test_a_device_id_is_letters_digits_and_dashes(api, device_id):
    # It is put into page addresses: "../fleet/<id>/revoke?" aimed an admin's revoke button
    # at another station's kiosk (security review #6).
    from sync.server.services import changes, devices
    changes.upsert_station("s1", "站点 s1")
    answer = api.post("/api/v1/devices/enroll", json={"code": devices.make_enroll_code("s1"), "device_id": device_id})
    assert answer.status_code in (400, 422) and answer.json()["code"] in ("bad_device_id", "invalid_request")
