"""The reports page: a table and its bar chart (SVG drawn here) per site, team, month,
category, activity or volunteer, over any period, for the user's subtree; the busiest
stations and activities; hours waiting for review apart; CSV and XLSX of the same table.
JSON twin: api.reports."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from sync.server.api.auth import Actor, current_actor
from sync.server.services import reports, volunteers
from sync.server.web.i18n import language_of, translator
from sync import stars
from sync.server.web.pages import render, templates

router = APIRouter(include_in_schema=False)
templates.env.filters["star_label"] = lambda n, language="zh_CN": stars.label(int(n or 0), language)


@router.get("/reports", response_class=HTMLResponse)
def page(request: Request, site: str | None = Query(None, max_length=32),
         from_: str | None = Query(None, alias="from", max_length=10), to: str | None = Query(None, max_length=10),
         by: str = Query("site", max_length=16), actor: Actor = Depends(current_actor)):
    language = language_of(request)
    t = translator(language)
    if by not in reports.BY:
        by = "site"
    # The table's report and the busiest stations and activities: one pass over the sessions.
    many = reports.hours_many(actor.scope, site=site or None, start=from_, end=to,
                              bys=tuple(dict.fromkeys((by, "site", "activity"))), language=language)
    report = many[by]
    title = t("report.chart", by=t(f"report.by.{by}"))
    # The same bars twice: wide for a desktop, narrow (bigger type) for a phone; CSS shows one.
    chart = Markup(reports.bar_chart_svg(report["rows"], title, unit=t("report.unit_h"), css="wide")
                   + reports.bar_chart_svg(report["rows"], title, unit=t("report.unit_h"), width=380, left=110,
                                           css="narrow"))
    busiest = {}
    for what in ("site", "activity"):
        top = many[what]
        busiest[what] = Markup(reports.bar_chart_svg(top["rows"][:5], t(f"report.busiest.{what}"), max_bars=5,
                                                     unit=t("report.unit_h"), width=440, left=130))
    return render(request, "reports.html", actor, report=report, chart=chart, busiest=busiest, site=site or "",
                  by=by, bys=reports.BY, stations=volunteers.stations_in_scope(actor.scope))
