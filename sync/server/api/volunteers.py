"""The roster and badges as JSON (the contract other systems use; the pages in
`sync.server.web.volunteers` call the same services):

    GET  /api/v1/volunteers?site=CODE&q=TEXT        -> {"items": [{"vid","name","site","teams",...}], "total", ...}
    GET  /api/v1/volunteers/{vid}                   -> one volunteer, badges, sessions, confirmed minutes
    POST /api/v1/volunteers/import?site=CODE        (text/csv) -> {"imported": n} | 422 {"rows": [{"line","error"}]}
    GET  /api/v1/volunteers.csv?site=CODE           -> the roster as CSV (formula-safe)
    POST /api/v1/badges/{vid}/issue | /reissue | /revoke
    GET|POST|DELETE /api/v1/volunteers/{vid}/pin   -> a coordinator's kiosk PIN (POST {"pin"}: argon2 to the kiosks)
    GET  /api/v1/badges.pdf?site=CODE               -> a printable sheet of badge cards
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from sync.protocol import ErrorBody
from sync.server.api.auth import Actor, current_actor
from sync.server.api.deps import get_settings
from sync.server.api.errors import BAD_BODY, BAD_QUERY, CENTER_AUTH, NOT_FOUND, RefusalBody, _doc
from sync.server.services import badges, coordinator_pins, volunteers
from sync.server.settings import ServerSettings

router = APIRouter(tags=["center"], responses={**BAD_BODY, **CENTER_AUTH, **NOT_FOUND, **BAD_QUERY})

SITE = Query(None, max_length=32, description="a site's code: its subtree (default: the caller's whole scope)")


class BadgeState(BaseModel):
    serial: int
    revoked: bool


class VolunteerItem(BaseModel):
    vid: str
    name: str
    site: str | None
    site_name: str
    teams: list[str]
    role: str
    status: str
    phone: str = Field(description="masked (139****5678) except for coordinators of the volunteer's own site")
    badge: BadgeState | None
    stars: int = Field(0, description="star level (星级) by cumulative confirmed hours, 0-5")


class VolunteerPage(BaseModel):
    items: list[VolunteerItem]
    total: int
    limit: int
    offset: int


class VolunteerDetail(VolunteerItem):
    badges: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    minutes: int


class Imported(BaseModel):
    imported: int


class RowErrorItem(BaseModel):
    line: int
    error: str = Field(description="what is wrong, in English")
    code: str = Field("invalid", description="a stable code for it (id_card, name_empty, bad_phone, duplicate, ...)")


class ImportRefusedBody(ErrorBody):
    rows: list[RowErrorItem]


class BadgeIssued(BaseModel):
    vid: str
    serial: int
    token: str
    revoked_serial: int | None


class BadgeRevoked(BaseModel):
    vid: str
    serial: int
    revoked: bool


class Reason(BaseModel):
    reason: str = Field("", max_length=500)


@router.get("/volunteers", response_model=VolunteerPage)
def list_volunteers(site: str | None = SITE, q: str | None = Query(None, max_length=50),
                    team: str | None = Query(None, max_length=100),
                    limit: int = Query(100, ge=1, le=volunteers.MAX_PAGE), offset: int = Query(0, ge=0, le=10**9),
                    actor: Actor = Depends(current_actor)):
    """The roster of a site's subtree; `q` matches a name (contains) or a number (prefix)."""
    return volunteers.roster(actor.scope, site=site, q=q, team=team, limit=limit, offset=offset)


@router.get("/volunteers.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "the roster, UTF-8 with BOM"}})
def export_volunteers(site: str | None = SITE, q: str | None = Query(None, max_length=50),
                      actor: Actor = Depends(current_actor)):
    """The roster as CSV: every cell starting with = + - @ is neutralised."""
    return csv_response(volunteers.export_csv(actor.scope, site=site, q=q), f"volunteers-{site or 'all'}.csv")


@router.get("/volunteers/{vid}", response_model=VolunteerDetail)
def get_volunteer(vid: str, actor: Actor = Depends(current_actor)):
    return volunteers.get(actor.scope, vid)


@router.post("/volunteers/import", response_model=Imported,
             responses={422: _doc("import_refused: nothing imported; `rows` names each wrong row", ImportRefusedBody)},
             openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {
                 "type": "string", "description": "vid,name[,team,role,phone,status]; UTF-8 ± BOM or GBK"}}}}})
async def import_volunteers(request: Request, site: str = Query(..., max_length=32),
                            actor: Actor = Depends(current_actor)):
    """Add or update a station's volunteers from CSV, all or nothing."""
    data = await request.body()
    return Imported(imported=volunteers.import_csv(actor.scope, site, data, actor.username))


@router.post("/badges/{vid}/issue", response_model=BadgeIssued, responses={409: _doc("has_badge: reissue instead")})
def issue_badge(vid: str, body: Reason = Body(default_factory=Reason), actor: Actor = Depends(current_actor),
                settings: ServerSettings = Depends(get_settings)):
    return badges.issue(actor.scope, vid, settings.keys_dir, actor.username, reason=body.reason)


@router.post("/badges/{vid}/reissue", response_model=BadgeIssued)
def reissue_badge(vid: str, body: Reason = Body(default_factory=Reason), actor: Actor = Depends(current_actor),
                  settings: ServerSettings = Depends(get_settings)):
    """A new serial; the old badge is revoked (kiosks refuse it after their next pull)."""
    return badges.issue(actor.scope, vid, settings.keys_dir, actor.username, reissue=True, reason=body.reason)


@router.post("/badges/{vid}/revoke", response_model=BadgeRevoked)
def revoke_badge(vid: str, body: Reason = Body(default_factory=Reason), actor: Actor = Depends(current_actor)):
    """Revoke the volunteer's newest badge; every kiosk refuses it after its next pull."""
    return badges.revoke(actor.scope, vid, actor.username, reason=body.reason)


@router.get("/badges.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "A4 sheet of badge cards"}})
def badge_sheet(site: str | None = SITE, actor: Actor = Depends(current_actor),
                settings: ServerSettings = Depends(get_settings)):
    return pdf_response(badges.sheet_pdf(actor.scope, settings.keys_dir, site=site), f"badges-{site or 'all'}.pdf")


def _ascii(filename: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", filename)


def csv_response(text: str, filename: str) -> Response:
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_ascii(filename)}"'})


def pdf_response(data: bytes, filename: str) -> Response:
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{_ascii(filename)}"'})


# --- coordinators' kiosk PINs ---------------------------------------------------------------

class PinBody(BaseModel):
    pin: str = Field(..., min_length=1, max_length=16, description="4 to 8 digits; only its argon2 hash is kept")
    reason: str = Field("", max_length=500)


class PinState(BaseModel):
    vid: str
    pin_set: bool
    set_at: int | None = None
    set_by: str | None = None
    stations: list[str] = Field(description="the stations whose kiosks get (or got) the hash")


PIN_ERRORS = {422: _doc("bad_pin (not 4-8 digits), weak_pin, not_coordinator, or a field is invalid "
                        "(invalid_request, with detail)", RefusalBody)}


@router.get("/volunteers/{vid}/pin", response_model=PinState, responses={422: _doc("not_coordinator")})
def coordinator_pin_state(vid: str, actor: Actor = Depends(current_actor)):
    """Whether this coordinator has a kiosk PIN (never the PIN or its hash)."""
    return coordinator_pins.pin_state(actor.scope, vid)


@router.post("/volunteers/{vid}/pin", response_model=PinState, responses=PIN_ERRORS)
def set_coordinator_pin(vid: str, body: PinBody, actor: Actor = Depends(current_actor)):
    """Set a coordinator's kiosk PIN: the kiosks of the coordinator's subtree get its argon2
    hash at their next pull. Audited (without the PIN)."""
    return coordinator_pins.set_pin(actor.scope, vid, body.pin, actor.username, reason=body.reason)


@router.delete("/volunteers/{vid}/pin", response_model=PinState, responses={422: _doc("not_coordinator")})
def clear_coordinator_pin(vid: str, actor: Actor = Depends(current_actor)):
    """The kiosks forget this coordinator's PIN at their next pull (no coordinator mode)."""
    return coordinator_pins.clear_pin(actor.scope, vid, actor.username)
