"""Hour review as JSON (the same services as the /review page):

    GET  /api/v1/review?site=CODE            -> {"items": [{"session_id","vid","minutes","flags","state",...}], ...}
    POST /api/v1/review/{session_id}         {"action": "approve"|"adjust"|"reject", "minutes": n, "reason": "..."}
    POST /api/v1/review                      {"session_ids": [...], "action", "minutes", "reason"}  (bulk: all or none)
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from sync.server.api.auth import Actor, current_actor
from sync.server.api.errors import BAD_BODY, BAD_QUERY, CENTER_AUTH, NOT_FOUND, _doc
from sync.server.services import review

router = APIRouter(prefix="/review", tags=["center"], responses={
    **BAD_BODY, **CENTER_AUTH, **NOT_FOUND, **BAD_QUERY,
    409: _doc("not_in_review: the session is open or closed, not waiting for a person")})


class ReviewItem(BaseModel):
    session_id: str
    vid: str
    name: str
    station: str
    station_name: str
    activity_id: str | None
    activity: str
    check_in_at: int
    check_out_at: int | None
    minutes: int | None
    kiosk_minutes: int | None
    flags: list[str]
    state: str


class ReviewPage(BaseModel):
    items: list[ReviewItem]
    total: int
    limit: int
    offset: int


class Decision(BaseModel):
    action: Literal["approve", "adjust", "reject"]
    minutes: int | None = Field(None, ge=0, le=review.MAX_MINUTES, description="required to adjust")
    reason: str = Field("", max_length=500, description="required to adjust or reject")


class BulkDecision(Decision):
    session_ids: list[str] = Field(min_length=1, max_length=review.MAX_BULK)


class Decided(BaseModel):
    session_id: str
    state: str
    minutes: int | None


@router.get("", response_model=ReviewPage)
def queue(site: str | None = Query(None, max_length=32), limit: int = Query(100, ge=1, le=review.MAX_BULK),
          offset: int = Query(0, ge=0, le=10**9), actor: Actor = Depends(current_actor)):
    """Sessions waiting for a person in the site's subtree, oldest first, each with its flags."""
    return review.queue(actor.scope, site=site, limit=limit, offset=offset)


@router.post("", response_model=list[Decided])
def decide_many(body: BulkDecision, actor: Actor = Depends(current_actor)):
    """One decision for many sessions, in one transaction."""
    done = review.decide_many(actor.scope, body.session_ids, body.action, body.minutes, body.reason, actor.username)
    return [Decided(session_id=d["id"], state=d["state"], minutes=d["minutes"]) for d in done]


@router.post("/{session_id}", response_model=Decided)
def decide(session_id: str, body: Decision, actor: Actor = Depends(current_actor)):
    d = review.decide(actor.scope, session_id, body.action, body.minutes, body.reason, actor.username)
    return Decided(session_id=d["id"], state=d["state"], minutes=d["minutes"])
