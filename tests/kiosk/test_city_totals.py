"""The check-out's totals are the city's: the center's figures for the volunteer (pulled
with the roster) plus this kiosk's sessions not yet sent, offline included; the part
awaiting review is apart; the star level, and a line when this check-out crossed a
threshold. Against a real SQLite store; the changes applied as a pull applies them."""

from __future__ import annotations

from types import SimpleNamespace

from kiosk.store import MIGRATIONS, OutboxEvent, Volunteer, db, migrate
from sync import stars

from .conftest import at


def pull(store, *changes):
    cursor = (store.settings.get("cursor") or 0) + 1
    store.apply_changes([SimpleNamespace(kind=k, key=key, data=data) for k, key, data in changes], cursor)


ROSTER = ("volunteer", "14020200001", {"name": "林建国", "team": "党员", "role": "volunteer"})


def city(year=2026, year_minutes=0, pending=0, total=0):
    return ("volunteer", "14020200001", {"name": "林建国", "team": "党员", "role": "volunteer", "year": year,
                                         "year_minutes": year_minutes, "year_pending_minutes": pending,
                                         "total_minutes": total})


def test_the_city_figure_plus_what_this_kiosk_has_not_sent(desk, badge, store):
    pull(store, city(year_minutes=97 * 60, pending=90, total=98 * 60))      # recorded at other stations
    token = badge()
    desk.scan(token, at=at("2026-11-30 09:00"))
    out = desk.scan(token, at=at("2026-11-30 11:00"))                        # +2 h: 100 h ever
    assert out.city and out.year_minutes == 99 * 60 and out.total_minutes == 100 * 60
    assert out.year_pending_minutes == 90                                   # the city's, apart
    assert (out.stars, out.stars_reached) == (1, 1)
    # Sent: the outbox says stored; the center's next figures include the session.
    OutboxEvent.update(status="stored").execute()
    pull(store, city(year_minutes=99 * 60, pending=90, total=100 * 60))
    desk.scan(token, at=at("2026-11-30 14:00"))
    again = desk.scan(token, at=at("2026-11-30 15:00"))
    assert (again.year_minutes, again.total_minutes) == (100 * 60, 101 * 60)   # counted once, not twice
    assert (again.stars, again.stars_reached) == (1, 0)                       # no threshold crossed now


def test_offline_check_outs_add_up_until_sent(desk, badge, store):
    pull(store, city(year_minutes=60, total=600 * 60 - 90))
    token = badge()
    for day in ("2026-11-28", "2026-11-29"):
        desk.scan(token, at=at(f"{day} 09:00"))
        out = desk.scan(token, at=at(f"{day} 10:00"))
    assert (out.year_minutes, out.total_minutes, out.stars, out.stars_reached) == (180, 600 * 60 + 30, 3, 3)


def test_a_roster_import_keeps_the_figures_and_an_old_kiosk_counts_its_own(desk, badge, store):
    pull(store, city(year_minutes=300, total=900))
    pull(store, ROSTER)                                                     # a roster re-import: no figures
    assert Volunteer.get().total_minutes == 900 and Volunteer.get().team == "党员"
    pull(store, ("volunteer", "14020200002", {"name": "王秀英", "team": "", "role": "volunteer"}))
    token = badge("14020200002")
    desk.scan(token, at=at("2026-11-30 09:00"))
    out = desk.scan(token, at=at("2026-11-30 10:00"))
    assert not out.city and (out.year_minutes, out.total_minutes, out.stars) == (60, 60, 0)


def test_last_years_figures_count_for_ever_not_for_this_year(desk, badge, store):
    pull(store, city(year=2025, year_minutes=5000, total=200 * 60))
    token = badge()
    desk.scan(token, at=at("2026-01-02 09:00"))
    out = desk.scan(token, at=at("2026-01-02 10:00"))
    assert (out.year_minutes, out.total_minutes, out.stars) == (60, 201 * 60, 1)


def test_a_session_awaiting_review_does_not_raise_the_star(desk, badge, store, activity):
    pull(store, city(year_minutes=99 * 60, total=99 * 60))
    activity("a1", "2026-11-30 09:00", "2026-11-30 10:00")
    token = badge()
    desk.scan(token, at=at("2026-11-30 09:00"))
    # Not scanned out; scanned again after the automatic close: a late check-out, for review.
    out = desk.scan(token, at=at("2026-11-30 12:00"))
    assert out.state == "review" and out.total_minutes == 99 * 60 and out.stars_reached == 0
    assert out.year_pending_minutes == out.minutes > 0


def test_the_thresholds_come_from_the_center(desk, badge, store):
    store.settings.set(rules={"star_hours": [1, 2, 3, 4, 5]})
    token = badge()
    desk.scan(token, at=at("2026-11-30 09:00"))
    out = desk.scan(token, at=at("2026-11-30 11:00"))
    assert (out.stars, out.stars_reached) == (2, 2)
    assert stars.label(out.stars) == "二星志愿者"


def test_the_migration_adds_the_columns_to_an_older_kiosk(tmp_path):
    from kiosk.store import open_store
    store = open_store(tmp_path / "old.db")
    db.execute_sql("CREATE TABLE v2 AS SELECT vid, name, team, role, phone FROM volunteer")
    db.execute_sql("DROP TABLE volunteer")
    db.execute_sql("ALTER TABLE v2 RENAME TO volunteer")
    db.execute_sql("DELETE FROM migration WHERE name = '0004_city_totals'")
    assert migrate(db) == ["0004_city_totals"] and "0004_city_totals" in dict(MIGRATIONS)
    assert {"year", "total_minutes"} <= {c.name for c in db.get_columns("volunteer")}
    assert store is not None
