"""The review page: the queue with each session's reasons, a decision per row (in place
with htmx, or a plain post without JavaScript) and bulk decisions. JSON twin: api.review."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sync.server.api.auth import Actor, current_actor
from sync.server.services import ServiceError, review, volunteers
from sync.server.web.pages import render

router = APIRouter(include_in_schema=False)


def _minutes(text: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ServiceError("bad_decision", "minutes must be a whole number")
    return int(text)


@router.get("/review", response_class=HTMLResponse)
def page(request: Request, site: str | None = Query(None, max_length=32), done: int | None = None,
         actor: Actor = Depends(current_actor)):
    result = review.queue(actor.scope, site=site or None, limit=200)
    return render(request, "review.html", actor, result=result, site=site or "", done=done,
                  stations=volunteers.stations_in_scope(actor.scope))


@router.post("/review/bulk")
async def bulk(request: Request, action: str = Form(...), reason: str = Form("", max_length=500),
               minutes: str = Form("", max_length=6), site: str = Form("", max_length=32),
               actor: Actor = Depends(current_actor)):
    ids = [str(v) for v in (await request.form()).getlist("session_id")][:review.MAX_BULK]
    try:
        done = review.decide_many(actor.scope, ids, action, _minutes(minutes), reason, actor.username)
    except ServiceError as exc:
        if exc.code not in ("reason_required", "bad_decision", "not_in_review"):
            raise
        result = review.queue(actor.scope, site=site or None, limit=200)
        return render(request, "review.html", actor, status_code=422, result=result, site=site, error=exc.code,
                      error_message=exc.message, stations=volunteers.stations_in_scope(actor.scope))
    return RedirectResponse(f"/review?site={site}&done={len(done)}", status_code=303)


@router.post("/review/{session_id}", response_class=HTMLResponse)
def decide(request: Request, session_id: str, action: str = Form(...), reason: str = Form("", max_length=500),
           minutes: str = Form("", max_length=6), actor: Actor = Depends(current_actor)):
    """htmx: answers the row, decided (or with the reason it was refused); else back to the page."""
    error = None
    try:
        review.decide(actor.scope, session_id, action, _minutes(minutes), reason, actor.username)
    except ServiceError as exc:
        if exc.code not in ("reason_required", "bad_decision", "not_in_review"):
            raise
        error = exc
    if request.headers.get("hx-request"):
        row = review.session(actor.scope, session_id)
        total = review.credited_minutes(actor.scope, row["vid"])
        return render(request, "review_row.html", actor, s=row, total_minutes=total,
                      error=error.code if error else None, status_code=200)
    if error:
        raise error
    return RedirectResponse("/review?done=1", status_code=303)

