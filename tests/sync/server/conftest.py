"""Server fixtures: `server_app` (keys in DATA/keys, migrated, both backends via
`server_settings`), `api` (a TestClient), `kiosk` (an enrolled device at station s1)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sync.badges import init_keys
from sync.server.app import create_app
from sync.server.services import changes, devices

from tests.sync.server.helpers import Kiosk


@pytest.fixture
def server_app(server_settings):
    init_keys(server_settings.keys_dir)
    return create_app(server_settings)


@pytest.fixture
def api(server_app):
    with TestClient(server_app) as client:
        yield client


def enrol(api, station="s1", device_id=None) -> Kiosk:
    changes.upsert_station(station, f"站点 {station}")
    code = devices.make_enroll_code(station)
    answer = api.post("/api/v1/devices/enroll", json={"code": code, **({"device_id": device_id} if device_id else {})})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return Kiosk(api, body["device_id"], body["token"], station)


@pytest.fixture
def kiosk(api) -> Kiosk:
    return enrol(api)
