"""Reports as JSON and as files (the same service as the /reports page):

    GET /api/v1/reports/hours?site=CODE&from=YYYY-MM-DD&to=YYYY-MM-DD&by=site|team|month|category|volunteer|activity
        -> {"rows": [{"key","label","minutes","volunteers"}], "total_minutes", "pending_minutes", ...}
    ...&format=csv | &format=xlsx   -> the same table as a file
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from sync.server.api.auth import Actor, current_actor
from sync.server.api.errors import BAD_QUERY, CENTER_AUTH, NOT_FOUND, _doc
from sync.server.services import reports

router = APIRouter(prefix="/reports", tags=["center"], responses={
    **CENTER_AUTH, **NOT_FOUND, **BAD_QUERY, 400: _doc("bad_period: from/to are not dates, or to is before from")})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportRow(BaseModel):
    key: str
    label: str
    minutes: int
    volunteers: int
    stars: int | None = None


class HoursReport(BaseModel):
    by: str
    site: str
    from_: str = Field(alias="from")
    to: str
    rows: list[ReportRow]
    total_minutes: int
    total_volunteers: int
    pending_minutes: int


def file_response(report: dict, fmt: str, language: str) -> Response:
    from sync.server.api.volunteers import csv_response
    name = f"hours-{report['by']}-{report['site'] or 'all'}-{report['from']}-{report['to']}"
    if fmt == "csv":
        return csv_response(reports.csv_text(report, language), name + ".csv")
    return Response(reports.xlsx_bytes(report, language), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


def language(request: Request, lang: str | None) -> str:
    from sync.server.web.i18n import LANGUAGES, language_of
    return lang if lang in LANGUAGES else language_of(request)


@router.get("/hours", response_model=HoursReport)
def hours(request: Request, site: str | None = Query(None, max_length=32),
          from_: str | None = Query(None, alias="from", max_length=10),
          to: str | None = Query(None, max_length=10),
          by: Literal["site", "team", "month", "category", "volunteer", "activity"] = "site",
          format: Literal["json", "csv", "xlsx"] = "json", lang: str | None = Query(None, max_length=5),
          actor: Actor = Depends(current_actor)):
    """Confirmed hours and active volunteers per key of `by` in the site's subtree; minutes
    waiting for review apart (`pending_minutes`)."""
    words = language(request, lang)
    report = reports.hours(actor.scope, site=site or None, start=from_, end=to, by=by, language=words)
    if format != "json":
        return file_response(report, format, words)
    return Response(_json(report), media_type="application/json")


def _json(report: dict) -> str:
    import json
    return json.dumps(report, ensure_ascii=False)
