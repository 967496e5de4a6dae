"""Reports: a report's numbers equal a direct count over the sessions (a property test
over random histories: the sums per site, team, month and category add up to the
center's total, and rejected, open and pending minutes are never in it); scope (a
station's coordinator sees its station only; another station's report is 404); the XLSX
and CSV exports hold exactly the JSON table, with formula cells neutralised; the chart
has one bar per row; bad dates are refused with a stable code."""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import stars
from sync.server.db import writing
from sync.server.models import Activity, HoursSession
from sync.server.services import accounts, reports
from sync.server.services.scope import CLI
from tests.sync.server.center import add, load_network
from tests.sync.server.test_desk_roster import csv_post

TZ = timezone(timedelta(hours=8))
DAY0 = date(2026, 1, 1)
STATIONS = {"WBY": ["14020200001", "14020200002"], "HYL": ["14020300001"], "YGZ": ["14021100001"]}
TEAMS = {"14020200001": "党员志愿服务队；巾帼志愿服务队", "14020200002": "巾帼志愿服务队", "14020300001": "",
         "14021100001": "=CMD|' /C calc'!A0"}
NAMES = {"14020200001": "林建国", "14020200002": "王秀英", "14020300001": "赵志强", "14021100001": "@SUM(1+1)"}
ACTIVITIES = {"a-wby": ("WBY", "义诊", "健康服务"), "a-hyl": ("HYL", "理发", "便民服务"), "a-ygz": ("YGZ", "宣讲", "理论宣讲")}


@pytest.fixture
def desk(server_app):
    accounts.reset_limits()
    load_network()
    for name, site in [("wby", "WBY"), ("hyl", "HYL"), ("pc", "PC"), ("dt", "DT")]:
        add(name, site)
    with TestClient(server_app) as client:
        client.tokens = {n: {"Authorization": f"Bearer {accounts.make_token(n)}"} for n in ("wby", "hyl", "pc", "dt")}
        for station, vids in STATIONS.items():
            roster = "vid,name,team\n" + "".join(f"{v},{NAMES[v]},\"{TEAMS[v]}\"\n" for v in vids)
            assert csv_post(client, station, roster, client.tokens["dt"]).status_code == 200
        with writing():
            for aid, (site, title, category) in ACTIVITIES.items():
                Activity.create(id=aid, station=site, title=title, category=category, starts_at=0, ends_at=1)
        yield client


def at(day: int, hour: int = 10) -> int:
    return int(datetime(DAY0.year, DAY0.month, DAY0.day, hour, tzinfo=TZ).timestamp()) + day * 86400


def make(station, vid, minutes, day, state="closed", activity=None, hour=10):
    with writing():
        HoursSession.create(id=str(uuid.uuid4()), vid=vid, serial=1, station=station, device_id="d",
                            activity_id=activity, check_in_at=at(day, hour), check_out_at=at(day, hour) + minutes * 60,
                            minutes=minutes, state=state)


SESSION = st.tuples(st.sampled_from(sorted((s, v) for s, vs in STATIONS.items() for v in vs)),
                    st.integers(0, 600), st.integers(-5, 400),
                    st.sampled_from(["closed", "approved", "adjusted", "review", "rejected", "open"]),
                    st.sampled_from([None, "a-wby", "a-hyl", "a-ygz"]), st.sampled_from([0, 7, 15, 23]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(SESSION, max_size=40))
def test_sums_add_up_to_the_direct_count(desk, history):
    with writing():
        HoursSession.delete().execute()
    for (station, vid), minutes, day, state, activity, hour in history:
        make(station, vid, minutes, day, state, activity, hour)
    start, end = DAY0, DAY0 + timedelta(days=364)

    def inside(day, hour):
        return 0 <= day <= 364
    counted = [(s, v, m) for (s, v), m, d, state, a, h in history
               if state in ("closed", "approved", "adjusted") and inside(d, h)]
    pending = sum(m for (s, v), m, d, state, a, h in history if state == "review" and inside(d, h))
    for site, stations in [(None, set(STATIONS)), ("PC", {"WBY", "HYL"}), ("HYL", {"HYL"})]:
        expected = sum(m for s, v, m in counted if s in stations)
        people = {v for s, v, m in counted if s in stations}
        pending_here = sum(m for (s, v), m, d, state, a, h in history
                           if state == "review" and inside(d, h) and s in stations)
        for by in ("site", "team", "month", "category", "activity", "volunteer"):
            report = reports.hours(CLI, site=site, start=start, end=end, by=by)
            assert report["total_minutes"] == expected == sum(r["minutes"] for r in report["rows"]), (site, by)
            assert report["total_volunteers"] == len(people)
            assert report["pending_minutes"] == pending_here
        # The page's several reports from one pass are the same reports.
        many = reports.hours_many(CLI, site=site, start=start, end=end, bys=reports.BY)
        for by in reports.BY:
            assert many[by] == reports.hours(CLI, site=site, start=start, end=end, by=by), (site, by)
        by_site = reports.hours(CLI, site=site, start=start, end=end, by="site")["rows"]
        assert {r["key"] for r in by_site} <= stations
        for row in by_site:
            assert row["minutes"] == sum(m for s, v, m in counted if s == row["key"])
            assert row["volunteers"] == len({v for s, v, m in counted if s == row["key"]})
    assert pending == reports.hours(CLI, start=start, end=end)["pending_minutes"]


def test_months_teams_and_categories(desk):
    make("WBY", "14020200001", 60, 0, activity="a-wby")            # 2026-01-01 10:00 +08
    make("WBY", "14020200001", 30, 31, hour=0)                     # 2026-02-01 00:00 +08: February, not January
    make("WBY", "14020200002", 45, 30, hour=23)                    # 2026-01-31 23:00 +08: January
    make("HYL", "14020300001", 120, 40, state="rejected")
    make("HYL", "14020300001", 90, 40, state="review")
    wby = desk.tokens["pc"]
    body = desk.get("/api/v1/reports/hours?from=2026-01-01&to=2026-12-31&by=month", headers=wby).json()
    assert [(r["key"], r["minutes"], r["volunteers"]) for r in body["rows"]] == [("2026-01", 105, 2), ("2026-02", 30, 1)]
    assert body["total_minutes"] == 135 and body["pending_minutes"] == 90
    teams = desk.get("/api/v1/reports/hours?from=2026-01-01&to=2026-12-31&by=team", headers=wby).json()["rows"]
    assert [(r["key"], r["minutes"]) for r in teams] == [("党员志愿服务队", 90), ("巾帼志愿服务队", 45)]
    categories = desk.get("/api/v1/reports/hours?from=2026-01-01&to=2026-12-31&by=category", headers=wby).json()["rows"]
    assert [(r["key"], r["label"], r["minutes"]) for r in categories] == [("", "站点值守", 75), ("健康服务", "健康服务", 60)]
    # Only the period asked for: the 1st of January alone.
    one_day = desk.get("/api/v1/reports/hours?from=2026-01-01&to=2026-01-01&by=site", headers=wby).json()
    assert one_day["total_minutes"] == 60 and one_day["rows"] == [
        {"key": "WBY", "label": "文博苑社区", "minutes": 60, "volunteers": 1}]


def test_scope_a_station_sees_only_its_own(desk):
    make("WBY", "14020200001", 60, 3)
    make("HYL", "14020300001", 30, 3)
    make("YGZ", "14021100001", 15, 3)
    q = "from=2026-01-01&to=2026-12-31"
    rows = lambda who, extra="": desk.get(f"/api/v1/reports/hours?{q}{extra}", headers=desk.tokens[who])  # noqa: E731
    assert [r["key"] for r in rows("hyl").json()["rows"]] == ["HYL"]
    assert [r["key"] for r in rows("pc").json()["rows"]] == ["WBY", "HYL"]
    assert {r["key"] for r in rows("dt").json()["rows"]} == {"WBY", "HYL", "YGZ"}
    assert rows("hyl", "&by=volunteer").json()["rows"][0]["key"] == "14020300001"
    for extra in ("&site=WBY", "&site=PC", "&site=NOPE", "&site=WBY&format=xlsx", "&site=WBY&format=csv"):
        answer = rows("hyl", extra)
        assert answer.status_code == 404 and answer.json()["code"] == "not_found", extra
    assert desk.get(f"/api/v1/reports/hours?{q}").status_code == 401


@pytest.mark.parametrize("query,code", [("from=2026-13-01", "bad_period"), ("from=2026-02-01&to=2026-01-01", "bad_period"),
                                        ("from=yesterday", "bad_period"), ("by=everything", "invalid_request"),
                                        ("format=pdf", "invalid_request")])
def test_bad_queries_are_refused_with_a_code(desk, query, code):
    answer = desk.get(f"/api/v1/reports/hours?{query}", headers=desk.tokens["pc"])
    assert answer.status_code in (400, 422) and answer.json()["code"] == code


def test_xlsx_and_csv_hold_the_json_table(desk):
    from openpyxl import load_workbook
    make("WBY", "14020200001", 75, 3)
    make("WBY", "14020200002", 30, 40)
    make("YGZ", "14021100001", 45, 40)
    for by in ("site", "month", "volunteer", "team"):
        q = f"/api/v1/reports/hours?from=2026-01-01&to=2026-12-31&by={by}"
        body = desk.get(q, headers=desk.tokens["dt"]).json()
        answer = desk.get(q + "&format=xlsx", headers=desk.tokens["dt"])
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/vnd.openxml")
        book = load_workbook(io.BytesIO(answer.content))
        sheet = book.active
        assert sheet.freeze_panes == "A2"
        values = list(sheet.iter_rows(values_only=True))
        assert values[0][:5] == ("编码", "名称", "小时", "分钟", "志愿者人数")
        table = []
        for row in values[1:]:
            unquote = lambda text: text[1:] if text.startswith("'=") or text.startswith("'@") else text  # noqa: E731
            key = row[0].strftime("%Y-%m") if by == "month" else unquote(row[0])
            assert isinstance(row[3], int) and isinstance(row[4], int) and isinstance(row[2], (int, float))
            label = unquote(row[1])
            table.append({"key": key, "label": label, "minutes": row[3], "volunteers": row[4],
                          **({"stars": row[5]} if by == "volunteer" else {})})
        assert table == body["rows"], by
        if by == "month":
            assert sheet.cell(2, 1).is_date
    # Formula cells are neutralised in both files.
    q = "/api/v1/reports/hours?from=2026-01-01&to=2026-12-31&by=volunteer"
    sheet = load_workbook(io.BytesIO(desk.get(q + "&format=xlsx", headers=desk.tokens["dt"]).content)).active
    cells = [c.value for row in sheet.iter_rows() for c in row]
    assert "'@SUM(1+1)" in cells and not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    team_csv = desk.get(q.replace("volunteer", "team") + "&format=csv", headers=desk.tokens["dt"]).text
    assert "'=CMD" in team_csv and ",=CMD" not in team_csv
    assert desk.get(q + "&format=csv&lang=en", headers=desk.tokens["dt"]).text.startswith("\ufeffKey,Name,Hours")


def test_stars_in_the_volunteer_report(desk):
    make("WBY", "14020200001", 100 * 60, 3)                                # 100 h: one star
    make("WBY", "14020200002", 299 * 60, 3)
    rows = {r["key"]: r for r in desk.get("/api/v1/reports/hours?from=2026-01-01&to=2026-12-31&by=volunteer",
                                          headers=desk.tokens["wby"]).json()["rows"]}
    assert rows["14020200001"]["stars"] == 1 and rows["14020200002"]["stars"] == 1
    make("WBY", "14020200002", 60, 400)                                    # next year: still cumulative
    rows = {r["key"]: r for r in desk.get("/api/v1/reports/hours?from=2026-01-01&to=2026-01-31&by=volunteer",
                                          headers=desk.tokens["wby"]).json()["rows"]}
    assert rows["14020200002"]["stars"] == 2


def test_the_page_draws_one_bar_per_row(desk):
    from tests.sync.server.center import log_in
    make("WBY", "14020200001", 60, 3)
    make("HYL", "14020300001", 30, 3)
    make("YGZ", "14021100001", 15, 3)
    assert log_in(desk, "dt").status_code == 303
    page = desk.get("/reports?from=2026-01-01&to=2026-12-31&by=site").text
    chart = page.split('id="chart"')[1].split("</svg>")[0]                # the wide one (the narrow one: the same)
    assert chart.count('class="bar"') == 3 and "<script" not in page.split("<main>")[1]
    assert "文博苑社区" in page and "&#39;" not in chart.split("aria-label")[0]


def test_star_levels():
    assert [stars.level(h * 60) for h in (0, 99, 100, 299, 300, 600, 999, 1000, 1500, 9999)] == \
        [0, 0, 1, 1, 2, 3, 3, 4, 5, 5]
    assert stars.crossed(99 * 60 + 59, 100 * 60) == 1 and stars.crossed(100 * 60, 120 * 60) == 0
    assert stars.level(50 * 60, stars.thresholds({"star_hours": [50, 80]})) == 1
    for bad in ([], [100, 100], [0], ["1"], "100"):
        with pytest.raises(ValueError):
            stars.thresholds({"star_hours": bad})
    assert stars.label(3) == "三星志愿者" and stars.label(3, "en") == "3-star volunteer"


def test_stars_on_the_roster_and_the_volunteer(desk):
    make("WBY", "14020200001", 300 * 60, 3, state="approved")              # 300 h: two stars
    make("WBY", "14020200002", 99 * 60, 3)
    make("WBY", "14020200002", 5 * 60, 4, state="review")                  # waiting: not counted
    items = {i["vid"]: i for i in desk.get("/api/v1/volunteers?site=WBY", headers=desk.tokens["wby"]).json()["items"]}
    assert items["14020200001"]["stars"] == 2 and items["14020200002"]["stars"] == 0
    assert desk.get("/api/v1/volunteers/14020200001", headers=desk.tokens["wby"]).json()["stars"] == 2


def test_the_report_reads_one_covering_index(desk):
    """At a city's size the report must not fetch millions of rows one by one through the
    state index: on SQLite its pass is an index-only scan in (station, volunteer) order."""
    from sync.server import db
    if db.is_postgres():
        pytest.skip("the planner's choice on PostgreSQL follows its statistics")
    for site in (None, "PC", "WBY"):
        codes = CLI.sites_under(site)
        lo, hi = reports._bounds(DAY0, DAY0 + timedelta(days=364))
        sql, params = reports.pass_sql(CLI, codes, lo, hi)
        plan = [str(step) for step in db.db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
        assert any(f"COVERING INDEX {reports.REPORT_INDEX}" in step for step in plan), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan
