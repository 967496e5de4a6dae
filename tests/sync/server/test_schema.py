"""Schemathesis against the app's own OpenAPI schema, in process: no 5xx for any
generated input (valid or not), and every answer documented with a body that matches."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from sync.badges import init_keys
from sync.server.app import create_app
from sync.server.db import close_database
from sync.server.services import changes, devices
from sync.server.settings import ServerSettings


@pytest.fixture(scope="module")
def app_and_token(tmp_path_factory):
    data = tmp_path_factory.mktemp("schema")
    init_keys(data / "keys")
    app = create_app(ServerSettings(data_dir=data, database_url=None))
    changes.upsert_station("s1", "站点")
    enrolment = devices.enroll(devices.make_enroll_code("s1"))
    yield app, enrolment.token
    close_database()


@pytest.fixture(scope="module")
def api_schema(app_and_token):
    return schemathesis.openapi.from_asgi("/openapi.json", app_and_token[0])


@pytest.fixture(scope="module")
def token(app_and_token):
    return app_and_token[1]


@pytest.fixture(scope="module", params=["token", "no-token"])
def auth_headers(request, token):
    return {"Authorization": f"Bearer {token}"} if request.param == "token" else {}


schema = schemathesis.pytest.from_fixture("api_schema")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, auth_headers):
    case.call_and_validate(headers=auth_headers, checks=CHECKS)
