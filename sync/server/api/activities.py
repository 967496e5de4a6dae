"""Activities and the fleet as JSON (the same services as the /activities and /fleet pages):

    GET  /api/v1/activities?site=CODE             -> {"items": [...]}
    POST /api/v1/activities                       {"site","title","category","starts_at","ends_at",...}
    PATCH /api/v1/activities/{id}                 some fields
    POST /api/v1/activities/{id}/cancel           {"reason"}
    GET  /api/v1/activities/{id}/signups          -> who signed up on its public page (phones masked but for its site)
    GET  /api/v1/kiosks?site=CODE                 -> {"items": [{"id","station","last_seen_at","pending",...}]}
    POST /api/v1/kiosks/codes                     {"station"} -> {"code", "qr_svg", ...}
    POST /api/v1/kiosks/{id}/revoke

Times are ISO 8601 with an offset (2026-12-01T09:00:00+08:00); a time without one is refused.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import AwareDatetime, BaseModel, Field

from sync.server.api.auth import Actor, current_actor
from sync.server.api.errors import BAD_BODY, BAD_QUERY, CENTER_AUTH, NOT_FOUND, _doc
from sync.server.services import activities, fleet, signups

router = APIRouter(tags=["center"], responses={**BAD_BODY, **CENTER_AUTH, **NOT_FOUND, **BAD_QUERY,
                                              409: _doc("activity_cancelled: a cancelled activity is not edited")})


class ActivityItem(BaseModel):
    id: str
    site: str | None
    site_name: str
    title: str
    category: str
    starts_at: int = Field(description="Unix seconds")
    ends_at: int
    place: str
    team: str
    capacity: int | None
    description: str
    rules: dict[str, Any] | None
    cancelled: bool
    closed_at: int | None = Field(None, description="ended early at a kiosk (Unix seconds); null: not")
    closed_by: str | None = Field(None, description="the number of the coordinator who ended it at the kiosk")
    signed_up: int = Field(0, description="sign-ups on its public page")
    signup_url: str = Field("", description="its public sign-up page (a path when the server has no public_url)")


class ActivityList(BaseModel):
    items: list[ActivityItem]


class ActivityIn(BaseModel):
    site: str | None = Field(None, max_length=32, description="a site's code; none: every station (root only)")
    title: str = Field(min_length=1, max_length=100)
    category: str = Field("志愿服务", max_length=50)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    place: str = Field("", max_length=200)
    team: str = Field("", max_length=100)
    capacity: int | None = Field(None, ge=1, le=100000)
    description: str = Field("", max_length=2000)
    rules: dict[str, int] | None = None


class ActivityPatch(BaseModel):
    site: str | None = Field("", max_length=32, description="omit to keep where it is held")
    title: str | None = Field(None, min_length=1, max_length=100)
    category: str | None = Field(None, max_length=50)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    place: str | None = Field(None, max_length=200)
    team: str | None = Field(None, max_length=100)
    capacity: int | None = Field(None, ge=1, le=100000)
    description: str | None = Field(None, max_length=2000)


class Reason(BaseModel):
    reason: str = Field("", max_length=500)


def _values(body: BaseModel) -> dict:
    values = body.model_dump(exclude_unset=True, exclude={"site", "rules"})
    for name in ("starts_at", "ends_at"):
        if values.get(name) is not None:
            values[name] = int(values[name].timestamp())
    return {k: v for k, v in values.items() if v is not None}


@router.get("/activities", response_model=ActivityList)
def list_activities(site: str | None = Query(None, max_length=32), include_past: bool = False,
                    actor: Actor = Depends(current_actor)):
    return activities.listing(actor.scope, site=site, include_past=include_past)


@router.post("/activities", response_model=ActivityItem)
def create_activity(body: ActivityIn, actor: Actor = Depends(current_actor)):
    """Published to the kiosks of the site and every station below it at their next pull."""
    return activities.create(actor.scope, body.site, _values(body), actor.username, rules=body.rules)


@router.get("/activities/{activity_id}", response_model=ActivityItem)
def get_activity(activity_id: str, actor: Actor = Depends(current_actor)):
    return activities.get(actor.scope, activity_id)


@router.patch("/activities/{activity_id}", response_model=ActivityItem)
def update_activity(activity_id: str, body: ActivityPatch, actor: Actor = Depends(current_actor)):
    site = body.site if "site" in body.model_fields_set else ""
    return activities.update(actor.scope, activity_id, _values(body), actor.username, site=site)


@router.post("/activities/{activity_id}/cancel", response_model=ActivityItem)
def cancel_activity(activity_id: str, body: Reason = Body(default_factory=Reason),
                    actor: Actor = Depends(current_actor)):
    return activities.cancel(actor.scope, activity_id, actor.username, reason=body.reason)


class SignupItem(BaseModel):
    name: str
    phone: str = Field(description="whole for coordinators of the activity's own site, else masked; "
                                   "empty once deleted (services.signups.RETENTION_DAYS after the activity)")
    created_at: int


class SignupList(BaseModel):
    activity_id: str
    signup_url: str
    signed_up: int
    capacity: int | None
    phones_whole: bool
    items: list[SignupItem]


@router.get("/activities/{activity_id}/signups", response_model=SignupList)
def activity_signups(activity_id: str, actor: Actor = Depends(current_actor)):
    """Who signed up on the activity's public page."""
    return signups.for_activity(actor.scope, activity_id)


class KioskItem(BaseModel):
    id: str
    name: str
    station: str
    station_name: str
    enrolled_at: int
    last_seen_at: int | None
    revoked: bool
    revoked_at: int | None
    pending: int | None
    refused: int | None
    clock_offset_ms: int | None
    app_version: str | None


class KioskList(BaseModel):
    items: list[KioskItem]


class CodeIn(BaseModel):
    station: str = Field(min_length=1, max_length=32)
    hours: float = Field(24, gt=0, le=24 * 14)


class CodeOut(BaseModel):
    code: str
    station: str
    station_name: str
    hours: float
    expires_at: int
    qr_svg: str


@router.get("/kiosks", response_model=KioskList)
def list_kiosks(site: str | None = Query(None, max_length=32), actor: Actor = Depends(current_actor)):
    return {"items": fleet.kiosks(actor.scope, site=site)}


@router.post("/kiosks/codes", response_model=CodeOut)
def enrolment_code(body: CodeIn, actor: Actor = Depends(current_actor)):
    """A one-time enrolment code for a station of the caller's subtree, with its QR code (SVG)."""
    return fleet.make_code(actor.scope, body.station, actor.username, hours=body.hours)


@router.post("/kiosks/{device_id}/revoke", response_model=KioskItem)
def revoke_kiosk(device_id: str, body: Reason = Body(default_factory=Reason), actor: Actor = Depends(current_actor)):
    return fleet.revoke(actor.scope, device_id, actor.username, reason=body.reason)
