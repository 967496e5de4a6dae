"""Reports: confirmed hours and active volunteers per site, team, month, activity
category, activity or volunteer, over any period, for a coordinator's subtree.

    >>> hours(scope, site="PC", start="2026-01-01", end="2026-12-31", by="month")
    {"rows": [{"key": "2026-11", "label": "2026年11月", "minutes": 5400, "volunteers": 31}, …],
     "total_minutes": 5400, "total_volunteers": 31, "pending_minutes": 120, …}
    >>> xlsx_bytes(report), csv_text(report)        # the same table as a file
    >>> bar_chart_svg(report["rows"])                # the same table as bars (SVG, drawn here)

Only closed, approved and adjusted minutes count (`sync.hours.COUNTED_STATES`); minutes
waiting for review are given apart (`pending_minutes`), rejected and open ones nowhere.
A session belongs to the day (Asia/Shanghai, UTC+8, no daylight saving) its check-in
falls on; the period's both ends are included. A volunteer in several teams counts for
the first one listed (so the teams' sums add up to the total); a session without an
activity is station duty (key "").

The SQL does the heavy part: one pass per (station, volunteer, activity) over the period,
read from a covering index (REPORT_INDEX); Python folds every report asked for (site, team,
category, activity, volunteer) from that pass, so the same code runs on SQLite and
PostgreSQL and the page's several reports cost one pass. The report by month groups in SQL.
"""

from __future__ import annotations

import html
import io
from datetime import date, datetime, timedelta, timezone

from peewee import SQL, Case, fn

from sync import stars
from sync.hours import COUNTED_STATES, STATE_REVIEW
from sync.server.db import reading
from sync.server.models import Activity, HoursSession
from sync.server.services import ServiceError
from sync.server.services.csvfiles import neutralise, write_csv
from sync.server.services.scope import Scope

BY = ("site", "team", "month", "category", "volunteer", "activity")
TZ = timezone(timedelta(hours=8))
MAX_DAYS = 366 * 50
LABELS = {  # the keys without a name of their own, in each language
    "no_team": ("未分队", "No team"),
    "duty": ("站点值守", "Station duty"),
}
COLUMNS = {
    "zh_CN": {"key": "编码", "label": "名称", "hours": "小时", "minutes": "分钟", "volunteers": "志愿者人数",
              "stars": "星级"},
    "en": {"key": "Key", "label": "Name", "hours": "Hours", "minutes": "Minutes", "volunteers": "Volunteers",
           "stars": "Stars"},
}


def _word(key: str, language: str) -> str:
    zh, en = LABELS[key]
    return en if language == "en" else zh


def parse_day(text: str | None, field: str) -> date | None:
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise ServiceError("bad_period", f"{field} must be a date YYYY-MM-DD") from None


def period(start: str | date | None, end: str | date | None, today: date | None = None) -> tuple[date, date]:
    """The period asked for (default: this year up to today), checked."""
    today = today or datetime.now(TZ).date()
    start = start if isinstance(start, date) else parse_day(start, "from")
    end = end if isinstance(end, date) else parse_day(end, "to")
    start = start or date(today.year, 1, 1)
    end = end or max(today, start)
    if end < start:
        raise ServiceError("bad_period", "to is before from")
    if (end - start).days > MAX_DAYS:
        raise ServiceError("bad_period", "the period is longer than 50 years")
    return start, end


def _bounds(start: date, end: date) -> tuple[int, int]:
    """Unix seconds of the period: [start 00:00, end+1 00:00) in UTC+8."""
    lo = int(datetime(start.year, start.month, start.day, tzinfo=TZ).timestamp())
    after = end + timedelta(days=1)
    return lo, int(datetime(after.year, after.month, after.day, tzinfo=TZ).timestamp())


def _filtered(query, codes, lo: int, hi: int):
    query = query.where((HoursSession.check_in_at >= lo) & (HoursSession.check_in_at < hi))
    if codes is not None:
        query = query.where(HoursSession.station.in_(sorted(codes)))
    return query


def _months(start: date, end: date) -> list[tuple[str, int]]:
    """("YYYY-MM", the first second after that month in UTC+8) for each month of the period:
    a CASE over these bounds gives each session its month in SQL, on either backend."""
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        nxt = (year + month // 12, month % 12 + 1)
        out.append((f"{year:04d}-{month:02d}", int(datetime(nxt[0], nxt[1], 1, tzinfo=TZ).timestamp())))
        year, month = nxt
    return out


def _month_label(key: str, language: str) -> str:
    year, month = key.split("-")
    return f"{year}-{month}" if language == "en" else f"{year}年{int(month)}月"


def cumulative_minutes(vids) -> dict[str, int]:
    """Each volunteer's confirmed minutes over all time, network-wide (their star level's base)."""
    vids = list(vids)
    out: dict[str, int] = {}
    with reading():
        if len(vids) > 2000:
            # Many volunteers: one pass over the reports' covering index (every session,
            # no table row read) beats thousands of index probes.
            wanted = set(vids)
            for _, vid, _, _, _, _, ever in _pass(None, None, 0, 0, ever=True):
                if vid in wanted and ever:
                    out[vid] = out.get(vid, 0) + ever
            return out
        for i in range(0, len(vids), 900):
            chunk = vids[i:i + 900]
            # state || '': keeps the planner on the (vid, check_in_at) index, not the state one.
            query = (HoursSession.select(HoursSession.vid, fn.SUM(HoursSession.minutes))
                     .where(HoursSession.vid.in_(chunk) & HoursSession.state.concat("").in_(COUNTED_STATES))
                     .group_by(HoursSession.vid))
            out.update({vid: int(m or 0) for vid, m in query.tuples()})
    return out


def star_hours() -> tuple[int, ...]:
    """The center's star thresholds (its hours rules' ``star_hours``)."""
    from sync.server.services.changes import rule_overrides
    try:
        return stars.thresholds(rule_overrides(None))
    except ValueError:
        return stars.DEFAULT_HOURS


def hours(scope: Scope, site: str | None = None, start=None, end=None, by: str = "site",
          language: str = "zh_CN", today: date | None = None) -> dict:
    """The report: one row per key of `by`, the total, and the minutes awaiting review."""
    return hours_many(scope, site, start, end, (by,), language, today)[by]


def hours_many(scope: Scope, site: str | None = None, start=None, end=None, bys=("site",),
               language: str = "zh_CN", today: date | None = None) -> dict[str, dict]:
    """Several reports of one subtree and period ({by: report}), from one pass over the
    sessions where they allow it (the page shows the report by site and the busiest
    activities: one pass, not two)."""
    scope.require("read")
    for by in bys:
        if by not in BY:
            raise ServiceError("bad_report", f"by must be one of {', '.join(BY)}")
    codes = scope.sites_under(site)
    start, end = period(start, end, today)
    lo, hi = _bounds(start, end)
    out: dict[str, dict] = {}
    with reading():
        folded = [by for by in bys if by != "month"]
        if folded:
            base = _per_station_volunteer(scope, codes, lo, hi)
            everyone = len({vid for _, vid, _, counted, _, _ in base if counted})
            pending = sum(p for _, _, _, _, _, p in base)
            for by in folded:
                grouped, labels = _fold(by, base, language)
                out[by] = _report(by, grouped, labels, everyone, pending)
        if "month" in bys:
            out["month"] = _by_month(codes, start, end, lo, hi, language)
    for report in out.values():
        report.update({"site": site or scope.site or "", "from": start.isoformat(), "to": end.isoformat()})
    return {by: out[by] for by in bys}


def _report(by: str, grouped, labels, everyone: int, pending: int) -> dict:
    rows = [{"key": key, "label": labels(key), "minutes": m, "volunteers": n} for key, m, n in grouped]
    if by == "month":
        rows.sort(key=lambda r: r["key"])
    else:
        rows.sort(key=lambda r: (-r["minutes"], r["key"]))
    if by == "volunteer":
        hours_ = star_hours()
        totals = cumulative_minutes(r["key"] for r in rows)
        for row in rows:
            row["stars"] = stars.level(totals.get(row["key"], 0), hours_)
    return {"by": by, "rows": rows, "total_minutes": sum(r["minutes"] for r in rows),
            "total_volunteers": int(everyone), "pending_minutes": int(pending or 0)}


# The index the reports read (migration 0015_reports_covering_index): in (station, vid)
# order, so the GROUP BY below streams without a sort, and covering (activity, check-in,
# state, minutes), so no table row is read. SQLite's planner would rather take the
# (state, check_in_at) index and fetch millions of rows one by one: it is told.
REPORT_INDEX = "hourssession_station_vid_activity_id_check_in_at_state_minutes"


def _per_station_volunteer(scope: Scope, codes, lo: int, hi: int) -> list[tuple]:
    """(station, vid, activity or "", counted?, counted minutes, pending minutes) per
    station, volunteer and activity with sessions in [lo, hi): one pass."""
    return [row[:6] for row in _pass(scope, codes, lo, hi)]


def _pass(scope: Scope | None, codes, lo: int, hi: int, ever: bool = False) -> list[tuple]:
    from sync.server import db
    sql, params = pass_sql(scope, codes, lo, hi, ever)
    return [(st, vid, aid, int(c), int(m or 0), int(p or 0), int(e or 0)) for st, vid, aid, c, m, p, e in
            db.db.execute_sql(sql, params).fetchall()]


LONG_PERIOD = 62 * 86400    # shorter: the (state, check_in_at) index finds the period's sessions


def pass_sql(scope: Scope | None, codes, lo: int, hi: int, ever: bool = False) -> tuple[str, list]:
    """The SQL (and its parameters) of the reports' one pass: per station, volunteer and
    activity, counted? / counted minutes / pending minutes in [lo, hi) and, with `ever`,
    the counted minutes of all time (then every session is read, of every station)."""
    from sync.server import db
    counted = ", ".join(f"'{state}'" for state in COUNTED_STATES)
    mark = "%s" if db.is_postgres() else "?"
    if ever:
        where, params = [f"state IN ({counted})"], []
        total = "SUM(minutes)"
    else:
        where = ["check_in_at >= " + mark, "check_in_at < " + mark, f"state IN ({counted}, '{STATE_REVIEW}')"]
        params = [lo, hi]
        total = "0"
        if codes is not None and not scope.whole_network(codes):
            where.append(f"station IN ({', '.join([mark] * len(codes))})")
            params += sorted(codes)
    long_period = ever or hi - lo > LONG_PERIOD
    indexed = f' INDEXED BY "{REPORT_INDEX}"' if long_period and not db.is_postgres() else ""
    sql = (f"SELECT station, vid, COALESCE(activity_id, ''), "
           f"MAX(CASE WHEN state IN ({counted}) AND minutes IS NOT NULL THEN 1 ELSE 0 END), "
           f"COALESCE(SUM(CASE WHEN state IN ({counted}) THEN minutes END), 0), "
           f"COALESCE(SUM(CASE WHEN state = '{STATE_REVIEW}' THEN minutes END), 0), "
           f"COALESCE({total}, 0) "
           f"FROM sessions{indexed} WHERE {' AND '.join(where)} GROUP BY station, vid, activity_id")
    return sql, params


def _fold(by: str, base: list[tuple], language: str):
    """(grouped [(key, minutes, volunteers)], label(key)) of one dimension, folded here."""
    if by in ("volunteer", "team"):
        per_vid: dict[str, int] = {}
        for _, vid, _, counted, minutes, _ in base:
            if counted:
                per_vid[vid] = per_vid.get(vid, 0) + minutes
        key_of, labels = _keys(by, list(per_vid.items()), language)
        keyed = [(key_of(vid), vid, minutes) for vid, minutes in per_vid.items()]
    else:
        if by == "site":
            key = lambda st, aid: st  # noqa: E731
        elif by == "activity":
            key = lambda st, aid: aid  # noqa: E731
        else:   # category: the activity's, "" for station duty or an activity unknown here
            ids = sorted({aid for _, _, aid, _, _, _ in base if aid})
            category: dict[str, str] = {}
            for i in range(0, len(ids), 900):
                category.update({a: c or "" for a, c in Activity.select(Activity.id, Activity.category)
                                 .where(Activity.id.in_(ids[i:i + 900])).tuples()})
            key = lambda st, aid: category.get(aid, "") if aid else ""  # noqa: E731
        keyed = [(key(st, aid), vid, minutes) for st, vid, aid, counted, minutes, _ in base if counted]
        labels = None
    groups: dict[str, list] = {}
    for k, vid, minutes in keyed:
        group = groups.get(k)
        if group is None:
            group = groups[k] = [0, set()]
        group[0] += minutes
        group[1].add(vid)
    grouped = [(k, m, len(vids)) for k, (m, vids) in groups.items()]
    return grouped, labels or _labels(by, [k for k, _, _ in grouped], language)


def _by_month(codes, start: date, end: date, lo: int, hi: int, language: str) -> dict:
    """Per month of the period, grouped in SQL (a CASE over the months' bounds)."""
    months = _months(start, end)
    month = Case(None, [(HoursSession.check_in_at < bound, key) for key, bound in months[:-1]], months[-1][0])
    counted = HoursSession.state.in_(COUNTED_STATES) & HoursSession.minutes.is_null(False)
    everyone = _filtered(HoursSession.select(fn.COUNT(fn.DISTINCT(HoursSession.vid))).where(counted),
                         codes, lo, hi).scalar() or 0
    pending = _filtered(HoursSession.select(fn.COALESCE(fn.SUM(HoursSession.minutes), 0))
                        .where(HoursSession.state == STATE_REVIEW), codes, lo, hi).scalar()
    query = HoursSession.select(month.alias("k"), fn.SUM(HoursSession.minutes), fn.COUNT(fn.DISTINCT(HoursSession.vid)))
    grouped = [(k or "", int(m or 0), int(n or 0)) for k, m, n in
               _filtered(query.where(counted), codes, lo, hi).group_by(SQL('"k"')).tuples()]
    return _report("month", grouped, _labels("month", [k for k, _, _ in grouped], language), everyone, pending)


def _labels(by: str, keys: list[str], language: str):
    """label(key) -> text for the keys grouped in SQL."""
    if by == "site":
        from sync.server.services import sites
        names = {code: site.name for code, site in sites.all_sites().items()}
        return lambda key: names.get(key, key)
    if by == "month":
        return lambda key: _month_label(key, language)
    duty = _word("duty", language)
    if by == "category":
        return lambda key: key or duty
    ids = sorted(k for k in keys if k)
    titles: dict[str, str] = {}
    for i in range(0, len(ids), 900):
        titles.update(dict(Activity.select(Activity.id, Activity.title).where(Activity.id.in_(ids[i:i + 900])).tuples()))
    return lambda key: titles.get(key, key) if key else duty


def _rows_by_vid(sql: str, vids: list[str], value) -> dict:
    """{vid: value(row)} of `sql` (an IN list to fill) over the vids, 900 at a time, in
    plain SQL: at 300,000 volunteers building peewee expressions costs more than the reads."""
    from sync.server import db
    mark = "%s" if db.is_postgres() else "?"
    out = {}
    for i in range(0, len(vids), 900):
        chunk = vids[i:i + 900]
        for row in db.db.execute_sql(sql.format(", ".join([mark] * len(chunk))), chunk).fetchall():
            out[row[0]] = value(row)
    return out


def _keys(by: str, per_vid, language: str):
    """(key_of(vid) -> key, label(key) -> text) for the reports folded per volunteer."""
    vids = sorted(vid for vid, _ in per_vid)
    people: dict[str, tuple[str, str]] = {}
    people.update(_rows_by_vid("SELECT vid, name, team FROM volunteer WHERE vid IN ({})", vids,
                               lambda row: (row[1], row[2])))
    if by == "team":
        from sync.server.services.volunteers import teams_of

        def first_team(vid):
            teams = teams_of(people.get(vid, ("", ""))[1] or "")
            return teams[0] if teams else ""
        no_team = _word("no_team", language)
        return first_team, (lambda key: key or no_team)
    return (lambda vid: vid), (lambda key: people.get(key, ("", ""))[0] or key)


# --- the same table as files -----------------------------------------------------------------

def table(report: dict, language: str = "zh_CN") -> tuple[list[str], list[list]]:
    """(header, rows) as the page shows them: key, name, hours, minutes, volunteers (, stars)."""
    names = COLUMNS.get(language, COLUMNS["zh_CN"])
    fields = ["key", "label", "hours", "minutes", "volunteers"] + (["stars"] if report["by"] == "volunteer" else [])
    rows = [[r["key"], r["label"], round(r["minutes"] / 60, 2), r["minutes"], r["volunteers"]]
            + ([r["stars"]] if report["by"] == "volunteer" else []) for r in report["rows"]]
    return [names[f] for f in fields], rows


def csv_text(report: dict, language: str = "zh_CN") -> str:
    header, rows = table(report, language)
    return write_csv(header, rows)


def xlsx_bytes(report: dict, language: str = "zh_CN") -> bytes:
    """An XLSX workbook: a header row (frozen), number cells, months as date cells; every
    text cell neutralised (a leading = + - @ never runs as a formula) and written as text.
    XlsxWriter, row by row (constant memory): a 300,000-row table in seconds, where
    openpyxl takes several times longer (bench/bench_reports.py)."""
    import xlsxwriter

    header, rows = table(report, language)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False, "strings_to_urls": False})
    sheet = book.add_worksheet(report["by"])
    sheet.freeze_panes(1, 0)
    bold, hours_format = book.add_format({"bold": True}), book.add_format({"num_format": "0.00"})
    month_format = book.add_format({"num_format": "yyyy-mm"})
    for c, name in enumerate(header):
        sheet.write_string(0, c, neutralise(name), bold)
    month = report["by"] == "month"
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if c == 0 and month:
                sheet.write_datetime(r, c, datetime.strptime(value + "-01", "%Y-%m-%d"), month_format)
            elif isinstance(value, str):
                sheet.write_string(r, c, neutralise(value))
            elif c == 2:
                sheet.write_number(r, c, value, hours_format)
            else:
                sheet.write_number(r, c, value)
    book.close()
    return buffer.getvalue()


# --- the same table as a chart ---------------------------------------------------------------

def bar_chart_svg(rows: list[dict], title: str = "", max_bars: int = 30, unit: str = "h", width: int = 720,
                  left: int = 180, css: str = "") -> str:
    """Horizontal bars (hours), one per row (the first `max_bars`), as an inline SVG that
    scales to the page's width. Text is escaped; no script, no external reference."""
    shown = rows[:max_bars]
    bar_h, gap, top = 22, 6, 28 if title else 6
    height = top + len(shown) * (bar_h + gap) + 6
    peak = max([r["minutes"] for r in shown] + [1])
    extra = f" {css}" if css else ""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart{extra}" role="img" viewBox="0 0 {width} {height}" '
             f'preserveAspectRatio="xMinYMin meet" aria-label="{html.escape(title)}">']
    if title:
        parts.append(f'<text x="0" y="18" class="chart-title">{html.escape(title)}</text>')
    for i, row in enumerate(shown):
        y = top + i * (bar_h + gap)
        w = max(1.0, (width - left - 90) * row["minutes"] / peak) if row["minutes"] else 0
        room = max(4, (left - 12) // 14)
        label = row["label"] if len(row["label"]) <= room else row["label"][:room - 1] + "…"
        value = f"{row['minutes'] / 60:.1f} {unit}"
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end" class="chart-label">{html.escape(label)}</text>'
                     f'<rect class="bar" x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3">'
                     f'<title>{html.escape(row["label"])}: {html.escape(value)}</title></rect>'
                     f'<text x="{left + w + 6:.1f}" y="{y + 16}" class="chart-value">{html.escape(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)
