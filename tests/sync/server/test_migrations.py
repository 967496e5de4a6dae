"""Migrations 0002 (activity closures) and 0003 (order numbers) on a database made before
them, with data in it; and run again on a database that has everything already."""

from __future__ import annotations

import pytest
from peewee import IntegrityError

from sync.server import db
from sync.server.app import create_app
from sync.server.models import Activity, Device, ServiceRequest

ADDED = ["0003_activity_closures", "0004_order_numbers"]


def sql(statement: str, *params):
    return db.db.execute_sql(statement.replace("?", db.db.obj.param), params)


def columns(table: str) -> set[str]:
    return {c.name for c in db.db.get_columns(table)}


def make_it_as_before(server_settings) -> None:
    """A database as 0001 of the earlier code left it: no new columns or indexes, and data
    made by the earlier code (devices without kiosk numbers, two orders sharing a number)."""
    create_app(server_settings)
    with db.writing():
        sql('DROP INDEX "device_kiosk_number"')
        sql('DROP INDEX "servicerequest_number"')
        for table, column in (("activity", "closed_at"), ("activity", "closed_by"), ("device", "kiosk_number")):
            sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
        sql("DELETE FROM migrations WHERE name IN (?, ?)", *ADDED)
        for i, enrolled_at in enumerate((300, 100, 200)):
            sql('INSERT INTO "device" (id, station, name, token_hash, enrolled_at) VALUES (?, ?, ?, ?, ?)',
                f"d{i}", "s1", "kiosk", f"hash{i}", enrolled_at)
        for id_, number, created_at in (("e2", "ABCD-261130-001", 20), ("e1", "ABCD-261130-001", 10),
                                        ("e3", "ABCD-261130-002", 30)):
            sql('INSERT INTO "service_requests" (id, number, station, device_id, service, phone, note, state, '
                'created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
                id_, number, "s1", "d0", "理发", "13912345678", "", "ordered", created_at)
        sql('INSERT INTO "activity" (id, station, title, category, starts_at, ends_at, place, team, description) '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "a1", "s1", "义诊", "志愿服务", 0, 3600, "", "", "")


def test_an_earlier_database_is_brought_up_to_date(server_settings):
    make_it_as_before(server_settings)
    assert db.migrate() == ADDED
    with db.writing():
        assert {"closed_at", "closed_by"} <= columns("activity") and "kiosk_number" in columns("device")
        assert Activity.get_by_id("a1").closed_at is None
        # Numbered in the order they enrolled; the next enrolment continues from there.
        assert {d.id: d.kiosk_number for d in Device.select()} == {"d1": 1, "d2": 2, "d0": 3}
        # The earlier of two orders keeps the shared number; the later one says what it was.
        assert {r.id: r.number for r in ServiceRequest.select()} == {
            "e1": "ABCD-261130-001", "e2": "ABCD-261130-001/e2", "e3": "ABCD-261130-002"}
    with pytest.raises(IntegrityError), db.writing():
        ServiceRequest.update(number="ABCD-261130-002").where(ServiceRequest.id == "e1").execute()
    with pytest.raises(IntegrityError), db.writing():
        Device.update(kiosk_number=1).where(Device.id == "d0").execute()


def test_the_steps_change_nothing_on_a_database_that_has_it_all(server_settings):
    create_app(server_settings)                    # 0001 made the current tables: all there
    with db.writing():
        before = {t: columns(t) for t in ("activity", "device", "service_requests")}
        for name, step in db.MIGRATIONS:
            if name in ADDED:
                step()
        assert {t: columns(t) for t in before} == before
    assert db.migrate() == []
