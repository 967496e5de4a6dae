"""Fixtures for the kiosk side: a real SQLite store on disk, a signing key, badges."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.attendance import Attendance
from kiosk.store import Activity, TrustedKey, open_store
from sync.badges import generate_key, issue, public_key_b64

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> int:
    """'2026-11-30 09:00' in station time -> Unix seconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp())


@pytest.fixture
def key():
    return generate_key()


@pytest.fixture
def store(tmp_path, key):
    store = open_store(tmp_path / "kiosk.db")
    TrustedKey.create(kid=key.kid, public_key=public_key_b64(key.public_key))
    store.settings.set(station={"code": "WBY", "name": "文博苑社区", "timezone": "Asia/Shanghai"})
    return store


@pytest.fixture
def desk(store):
    return Attendance(store)


@pytest.fixture
def badge(key):
    """badge(vid, serial=..., role=..., expires=...) -> token text."""
    serials = iter(range(1, 10**6))

    def make(vid="14020200001", serial=None, role="volunteer", expires=date(2030, 1, 1)):
        return issue(key, vid, serial or next(serials), role, expires)
    return make


@pytest.fixture
def activity():
    """activity(id, start, end, **fields) -> Activity row (times as 'YYYY-MM-DD HH:MM')."""
    def make(id, start, end, **fields):
        fields.setdefault("title", id)
        return Activity.create(id=id, starts_at=at(start), ends_at=at(end), **fields)
    return make
