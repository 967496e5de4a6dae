"""Schemathesis against the app's own OpenAPI schema, in process: no 5xx for any
generated input (valid or not), and every answer documented with a body that matches."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from sync.badges import init_keys
from sync.server import db
from sync.server.app import create_app
from sync.server.services import changes, devices
from sync.server.settings import ServerSettings

# Built at import: schemathesis generates the tests from the schema at collection time.
DATA = Path(tempfile.mkdtemp(prefix="wg-schema-"))
init_keys(DATA / "keys")
# Enrolment attempts unlimited here: the generated cases all come from one address.
SETTINGS = ServerSettings(data_dir=DATA, database_url=None, enroll_rate_limit="100000/minute")
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(SETTINGS))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def token():
    db.open_database(SETTINGS)  # other modules' fixtures pointed the models elsewhere meanwhile
    changes.upsert_station("s1", "站点")
    yield devices.enroll(devices.make_enroll_code("s1")).token
    db.close_database()


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, token):
    # With the device's token (reaches the services) and without (the 401 path).
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
    case.call_and_validate(headers={"Authorization": ""}, checks=CHECKS)
