"""The dashboard's session key is never a value written in the source (security review #1)."""

from __future__ import annotations

import base64
import json
import stat

import pytest
from itsdangerous import TimestampSigner

from sync.server.settings import ServerSettings


def forged_cookie(secret: str) -> str:
    data = base64.b64encode(json.dumps({"user": "admin", "csrf_token": "x"}).encode())
    return TimestampSigner(secret).sign(data).decode()


def test_the_old_source_code_key_forges_nothing(api):
    api.cookies.set("wg_session", forged_cookie("insecure-development-secret"))
    assert api.get("/api/v1/me").status_code == 401


def test_the_key_is_random_private_and_kept_in_the_data_folder(tmp_path):
    settings = ServerSettings(data_dir=tmp_path / "data", database_url=None)
    first = settings.session_secret()
    path = tmp_path / "data" / "secret_key"
    assert len(first) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    again = ServerSettings(data_dir=tmp_path / "data", database_url=None).session_secret()
    other = ServerSettings(data_dir=tmp_path / "other", database_url=None).session_secret()
    assert again == first and other != first          # a restart keeps sessions; another center does not share


def test_a_short_configured_key_is_refused():
    with pytest.raises(ValueError):
        ServerSettings(secret_key="secret")
