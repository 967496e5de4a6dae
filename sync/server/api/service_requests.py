"""Service requests as JSON (the same services as the /requests pages and the /team page):

    GET  /api/v1/requests?state=S&site=CODE     -> {"items": [...], "counts": {state: n}, "total", ...}
    GET  /api/v1/requests/{id}                  -> one request with its "transitions"
    GET  /api/v1/requests/{id}/teams            -> the teams it may be dispatched to
    POST /api/v1/requests/{id}/{action}         {"team", "reason", "report", "minutes", "volunteers"}
         action: review, reject, dispatch, open, close (coordinators); accept, decline, grab,
         complete (team leaders)

The resident (no account: the request number and the last four digits of the phone;
rate-limited per client address and per number):

    POST /api/v1/resident/lookup                {"number", "last4"}            -> the request's state
    POST /api/v1/resident/rate                  {"number", "last4", "rating", "comments"}
    POST /api/v1/resident/details               {"number", "last4", "details"}
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, Field

from sync.server.api.auth import Actor, current_actor
from sync.server.api.errors import BAD_BODY, BAD_QUERY, CENTER_AUTH, NOT_FOUND, _doc
from sync.server.services import ServiceError
from sync.server.services import service_requests as sr

router = APIRouter(tags=["center"], responses={
    **BAD_BODY, **CENTER_AUTH, **NOT_FOUND, **BAD_QUERY,
    409: _doc("illegal_transition: not from the request's state; already_taken: another team took it first")})

_limiter = MovingWindowRateLimiter(MemoryStorage())
RESIDENT_PER_CLIENT = RateLimitItemPerMinute(30)
RESIDENT_PER_NUMBER = RateLimitItemPerMinute(10)


def resident_allowed(client: str, number: str) -> None:
    """Four digits are few: guesses are limited per address and per request number."""
    if not _limiter.hit(RESIDENT_PER_CLIENT, "client", client or "?") or \
            not _limiter.hit(RESIDENT_PER_NUMBER, "number", (number or "").strip().upper()[:40]):
        raise ServiceError("rate_limited", "too many tries; wait a minute")


def reset_limits() -> None:
    _limiter.storage.reset()


class Transition(BaseModel):
    model_config = {"populate_by_name": True}
    from_: str = Field(alias="from")
    to: str
    action: str
    actor: str
    team: int | None
    note: str
    at: int


class RequestItem(BaseModel):
    id: str
    number: str
    station: str
    station_name: str
    service: str
    note: str
    details: str
    phone: str = Field(description="whole for the holding team and the station's coordinators, else masked")
    state: str
    team: int | None
    team_name: str
    created_at: int
    updated_at: int | None
    dispatched_at: int | None
    reason: str
    report: str
    minutes: int | None
    volunteers: list[str]
    rating: int | None
    comments: list[str]
    closed_at: int | None


class RequestDetail(RequestItem):
    transitions: list[dict]


class RequestPage(BaseModel):
    items: list[RequestItem]
    counts: dict[str, int]
    total: int
    limit: int
    offset: int
    state: str | None


class TeamItem(BaseModel):
    id: int
    name: str
    site: str


class Action(BaseModel):
    team: int | None = Field(None, description="dispatch: the team")
    reason: str = Field("", max_length=sr.MAX_TEXT, description="reject (required), decline")
    report: str = Field("", max_length=sr.MAX_TEXT, description="complete (required)")
    minutes: int | None = Field(None, ge=1, le=sr.MAX_MINUTES, description="complete: the time it took")
    volunteers: list[str] = Field([], max_length=50, description="complete: who delivered it (vids)")


class Moved(BaseModel):
    id: str
    number: str
    state: str
    team: int | None


@router.get("/requests", response_model=RequestPage)
def queue(state: str | None = Query(None, max_length=16), site: str | None = Query(None, max_length=32),
          limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0, le=10**9),
          actor: Actor = Depends(current_actor)):
    """Requests in the site's subtree (a team leader: their team's, and the open ones of their area)."""
    return sr.queue(actor.scope, state=state or None, site=site or None, limit=limit, offset=offset)


@router.get("/requests/{request_id}", response_model=RequestDetail)
def one(request_id: str, actor: Actor = Depends(current_actor)):
    return sr.get(actor.scope, request_id)


@router.get("/requests/{request_id}/teams", response_model=list[TeamItem])
def teams(request_id: str, actor: Actor = Depends(current_actor)):
    return sr.teams_for(actor.scope, request_id)


@router.post("/requests/{request_id}/{action}", response_model=Moved)
def act(request_id: str, action: Literal["review", "reject", "dispatch", "open", "accept", "decline", "grab",
                                         "complete", "close"],
        body: Action, actor: Actor = Depends(current_actor)):
    return sr.act(actor.scope, request_id, action, actor=actor.username, team=body.team, reason=body.reason,
                  report=body.report, minutes=body.minutes, volunteers=body.volunteers)


class ResidentKey(BaseModel):
    number: str = Field(max_length=40)
    last4: str = Field(pattern=r"^\d{4}$")


class Rating(ResidentKey):
    rating: int = Field(ge=1, le=5)
    comments: list[str] = Field([], max_length=len(sr.COMMENTS))


class Details(ResidentKey):
    details: str = Field(max_length=sr.MAX_TEXT)


class ResidentView(BaseModel):
    number: str
    service: str
    state: str
    team_name: str
    created_at: int
    updated_at: int | None
    reason: str
    rating: int | None
    details: str
    phone: str


resident = APIRouter(prefix="/resident", tags=["resident"], responses={
    **BAD_BODY, **NOT_FOUND, 429: _doc("rate_limited: too many tries from this address or for this number"),
    409: _doc("illegal_transition: the request cannot be rated now")})


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


@resident.post("/lookup", response_model=ResidentView)
def lookup(body: ResidentKey, request: Request):
    resident_allowed(_client(request), body.number)
    return sr.status_for_resident(body.number, body.last4)


@resident.post("/rate", response_model=Moved)
def rate(body: Rating, request: Request):
    resident_allowed(_client(request), body.number)
    return sr.rate(body.number, body.last4, body.rating, body.comments)


@resident.post("/details", response_model=ResidentView)
def details(body: Details, request: Request):
    resident_allowed(_client(request), body.number)
    return sr.add_details(body.number, body.last4, body.details)


class MenuItem(BaseModel):
    service: str = Field(min_length=1, max_length=100)
    presets: list[str] = Field([], max_length=10)
    service_en: str = Field("", max_length=100, description="the name in English (optional)")
    presets_en: list[str] = Field([], max_length=10, description="the presets in English, one for each (optional)")


class Menu(BaseModel):
    items: list[MenuItem] = Field(min_length=1, max_length=30)


class MenuAnswer(BaseModel):
    items: list[MenuItem]
    site: str | None


@router.get("/service-menu", response_model=MenuAnswer)
def get_menu(site: str | None = Query(None, max_length=32), actor: Actor = Depends(current_actor)):
    """The menu the kiosks at or below the site show (the nearest set at or above it, else the default)."""
    from sync.server.services import service_menu
    return service_menu.get_menu(actor.scope, site or None)


@router.put("/service-menu", response_model=MenuAnswer)
def put_menu(body: Menu, site: str = Query(..., max_length=32), actor: Actor = Depends(current_actor)):
    """Set the site's menu (center administrators only); published to the kiosks of its
    stations in the pull (service_menu)."""
    from sync.server.services import service_menu
    done = service_menu.set_menu(actor.scope, site, [i.model_dump() for i in body.items], actor.username)
    return {"items": done["items"], "site": done["site"]}
