"""Service request pages: the coordinators' queue per state (/requests) and one request with
its transitions and the actions its state allows (/requests/{id}); the team leader's phone
page (/team: accept, decline, take an open one, complete with a report); the resident's
page (/r/{number}: the request's state, their own words, the rating), opened from the QR
code on the kiosk's receipt. JSON twin: `api.service_requests`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sync.server.api.auth import Actor, check_csrf, current_actor
from sync.server.api.service_requests import resident_allowed
from sync.server.services import ServiceError, volunteers
from sync.server.services import service_requests as sr
from sync.server.web.pages import render

router = APIRouter(include_in_schema=False)

# Refusals shown on the page itself (the rest: the error page).
SHOWN = ("illegal_transition", "already_taken", "reason_required", "bad_team", "bad_minutes", "bad_volunteers",
         "unknown_volunteer", "bad_request_text", "bad_rating")
QUEUE_STATES = ("submitted", "reviewed", "dispatched", "open", "accepted", "completed", "rated", "closed",
                "rejected")


def _minutes(text: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 5:
        raise ServiceError("bad_minutes", "minutes must be a whole number")
    return int(text)


def _team(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _vids(text: str) -> list[str]:
    return [v for v in text.replace("，", ",").replace("、", ",").replace(" ", ",").split(",") if v][:51]


@router.get("/requests", response_class=HTMLResponse)
def queue(request: Request, state: str = Query("submitted", max_length=16), site: str | None = Query(None, max_length=32),
          actor: Actor = Depends(current_actor)):
    if actor.user.role == "team_leader":
        return RedirectResponse("/team", status_code=303)
    result = sr.queue(actor.scope, state=state or None, site=site or None, limit=200)
    return render(request, "requests.html", actor, result=result, state=state, site=site or "",
                  states=QUEUE_STATES, stations=volunteers.stations_in_scope(actor.scope))


def _detail(request, actor, request_id, status_code=200, **extra):
    item = sr.get(actor.scope, request_id)
    teams = sr.teams_for(actor.scope, request_id) if item["state"] == "reviewed" and actor.scope.can("manage") else []
    return render(request, "request.html", actor, status_code=status_code, r=item, teams=teams, **extra)


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def detail(request: Request, request_id: str, done: str = Query("", max_length=16),
           actor: Actor = Depends(current_actor)):
    return _detail(request, actor, request_id, done=done)


@router.post("/requests/{request_id}", response_class=HTMLResponse)
def act(request: Request, request_id: str, action: str = Form(..., max_length=16), team: str = Form("", max_length=12),
        reason: str = Form("", max_length=500), report: str = Form("", max_length=500),
        minutes: str = Form("", max_length=6), volunteers_: str = Form("", alias="volunteers", max_length=1000),
        actor: Actor = Depends(current_actor)):
    try:
        sr.act(actor.scope, request_id, action, actor=actor.username, team=_team(team), reason=reason,
               report=report, minutes=_minutes(minutes), volunteers=_vids(volunteers_))
    except ServiceError as exc:
        if exc.code not in SHOWN:
            raise
        return _detail(request, actor, request_id, status_code=422, error=exc.code, error_message=exc.message)
    return RedirectResponse(f"/requests/{request_id}?done={action}", status_code=303)


@router.get("/team", response_class=HTMLResponse)
def team_page(request: Request, done: str = Query("", max_length=16), actor: Actor = Depends(current_actor)):
    return _team_page(request, actor, done=done)


def _team_page(request, actor, status_code=200, **extra):
    result = sr.queue(actor.scope, limit=200)
    live = [i for i in result["items"] if i["state"] in ("open", "dispatched", "accepted")]
    recent = [i for i in result["items"] if i["state"] not in ("open", "dispatched", "accepted")][-20:]
    return render(request, "team.html", actor, status_code=status_code, live=live, recent=recent,
                  has_team=sr.team_of(actor.scope) is not None, **extra)


@router.post("/team/{request_id}", response_class=HTMLResponse)
def team_act(request: Request, request_id: str, action: str = Form(..., max_length=16),
             reason: str = Form("", max_length=500), report: str = Form("", max_length=500),
             minutes: str = Form("", max_length=6), volunteers_: str = Form("", alias="volunteers", max_length=1000),
             actor: Actor = Depends(current_actor)):
    if action not in ("accept", "decline", "grab", "complete"):
        raise ServiceError("bad_action", "a team leader accepts, declines, takes or completes")
    try:
        sr.act(actor.scope, request_id, action, actor=actor.username, reason=reason, report=report,
               minutes=_minutes(minutes), volunteers=_vids(volunteers_))
    except ServiceError as exc:
        if exc.code not in SHOWN:
            raise
        return _team_page(request, actor, status_code=422, error=exc.code, error_message=exc.message,
                          error_id=request_id)
    return RedirectResponse(f"/team?done={action}", status_code=303)


# --- the resident's page (no account) ----------------------------------------------------------

def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


@router.get("/r/{number}", response_class=HTMLResponse)
def resident_page(request: Request, number: str):
    return render(request, "resident.html", None, number=number[:40], view=None, comments=sr.COMMENTS)


@router.post("/r/{number}", response_class=HTMLResponse)
async def resident_post(request: Request, number: str, last4: str = Form("", max_length=4),
                        op: str = Form("lookup", max_length=16), rating: str = Form("", max_length=1),
                        details: str = Form("", max_length=500)):
    await check_csrf(request)
    number = number[:40]
    comments = [str(c) for c in (await request.form()).getlist("comment")][:len(sr.COMMENTS)]
    error = done = None
    view = None
    try:
        resident_allowed(_client(request), number)
        if op == "rate":
            sr.rate(number, last4, int(rating) if rating.isdigit() else 0, comments)
            done = "rated"
        elif op == "details":
            sr.add_details(number, last4, details)
            done = "details"
        view = sr.status_for_resident(number, last4)
    except ServiceError as exc:
        if exc.code == "not_found":
            error = "resident_not_found"
        elif exc.code in ("illegal_transition", "bad_rating", "bad_request_text", "rate_limited"):
            error = exc.code
            try:
                view = sr.status_for_resident(number, last4)
            except ServiceError:
                view = None
        else:
            raise
    return render(request, "resident.html", None, status_code=200 if error is None else 422, number=number,
                  last4=last4 if view else "", view=view, comments=sr.COMMENTS, error=error, done=done)


from sync.server.web import service_menu as _menu_page  # noqa: E402 - the menu page, beside the requests

router.include_router(_menu_page.router)
