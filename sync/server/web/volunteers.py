"""Volunteer pages: the roster (search, site and team filters, import, export, badge sheet)
and one volunteer (badges: issue, reissue, revoke). JSON twins: `api.volunteers`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from sync.server.api.auth import Actor, current_actor
from sync.server.api.deps import get_settings
from sync.server.api.volunteers import csv_response, pdf_response
from sync.server.services import ServiceError, badges, coordinator_pins, sites, volunteers
from sync.server.services.csvfiles import ImportRefused
from sync.server.settings import ServerSettings
from sync.server.web.pages import render

router = APIRouter(include_in_schema=False)
PAGE = 50


def _roster_page(request: Request, actor: Actor, site: str | None, q: str | None, team: str | None,
                 page: int = 1, status_code: int = 200, **extra):
    result = volunteers.roster(actor.scope, site=site or None, q=q, team=team, limit=PAGE,
                               offset=(max(page, 1) - 1) * PAGE)
    return render(request, "volunteers.html", actor, status_code=status_code, result=result, site=site or "",
                  q=q or "", team=team or "", page=max(page, 1), pages=(result["total"] + PAGE - 1) // PAGE,
                  stations=volunteers.stations_in_scope(actor.scope),
                  teams=sites.team_names(None if actor.scope.is_root else sorted(actor.scope.sites)), **extra)


@router.get("/volunteers", response_class=HTMLResponse)
def roster(request: Request, site: str | None = Query(None, max_length=32), q: str | None = Query(None, max_length=50),
           team: str | None = Query(None, max_length=100), page: int = Query(1, ge=1, le=100000),
           actor: Actor = Depends(current_actor)):
    return _roster_page(request, actor, site, q, team, page)


@router.post("/volunteers/import", response_class=HTMLResponse)
async def import_roster(request: Request, site: str = Form(..., max_length=32), file: UploadFile = File(...),
                        actor: Actor = Depends(current_actor)):
    data = await file.read(20_000_001)
    try:
        if len(data) > 20_000_000:
            raise ServiceError("too_large", "the file is larger than 20 MB")
        count = volunteers.import_csv(actor.scope, site, data, actor.username)
    except ImportRefused as exc:
        return _roster_page(request, actor, site, None, None, status_code=422, refused=exc.rows)
    return _roster_page(request, actor, site, None, None, imported=count)


@router.get("/volunteers/export.csv")
def export(site: str | None = Query(None, max_length=32), q: str | None = Query(None, max_length=50),
           team: str | None = Query(None, max_length=100), actor: Actor = Depends(current_actor)):
    return csv_response(volunteers.export_csv(actor.scope, site=site or None, q=q, team=team),
                        f"volunteers-{site or 'all'}.csv")


@router.get("/volunteers/badges.pdf")
def badge_sheet(site: str | None = Query(None, max_length=32), actor: Actor = Depends(current_actor),
                settings: ServerSettings = Depends(get_settings)):
    return pdf_response(badges.sheet_pdf(actor.scope, settings.keys_dir, site=site or None),
                        f"badges-{site or 'all'}.pdf")


def _volunteer_page(request: Request, actor: Actor, vid: str, settings: ServerSettings, status_code: int = 200,
                    **extra):
    from datetime import date

    from sync.server.services import certificates
    v = volunteers.get(actor.scope, vid)
    pin = coordinator_pins.pin_state(actor.scope, vid) if v["role"] == "coordinator" else None
    return render(request, "volunteer.html", actor, status_code=status_code, v=v, pin=pin,
                  certs=certificates.of_volunteer(actor.scope, vid), cert_from=f"{date.today().year}-01-01",
                  cert_to=date.today().isoformat(), **_own_page(request, actor, v, settings), **extra)


@router.get("/volunteers/{vid}", response_class=HTMLResponse)
def volunteer(request: Request, vid: str, done: str | None = Query(None, max_length=20),
              serial: int | None = Query(None, ge=0, le=10**12), actor: Actor = Depends(current_actor),
              settings: ServerSettings = Depends(get_settings)):
    return _volunteer_page(request, actor, vid, settings, done=done, serial=serial)


@router.post("/volunteers/{vid}/pin", response_class=HTMLResponse)
async def coordinator_pin(request: Request, vid: str, pin: str = Form("", max_length=16),
                          action: str = Form("set", pattern="^(set|clear)$"), actor: Actor = Depends(current_actor),
                          settings: ServerSettings = Depends(get_settings)):
    """Set (or clear) a coordinator's kiosk PIN; a wrong PIN shows the page again saying why."""
    try:
        if action == "clear":
            coordinator_pins.clear_pin(actor.scope, vid, actor.username)
        else:
            coordinator_pins.set_pin(actor.scope, vid, pin, actor.username)
    except ServiceError as exc:
        if exc.code not in ("bad_pin", "weak_pin"):
            raise
        return _volunteer_page(request, actor, vid, settings, status_code=422, pin_error=exc.code)
    return RedirectResponse(f"/volunteers/{vid}?done=pin_{action}", status_code=303)


def _own_page(request: Request, actor: Actor, v: dict, settings: ServerSettings) -> dict:
    """The volunteer's own page link and its QR code (for a volunteer registered at a station)."""
    from markupsafe import Markup

    from sync.server.services import fleet, mypage
    if not v.get("site"):
        return {}
    url = str(request.base_url).rstrip("/") + "/me/" + mypage.link_token(actor.scope, v["vid"], settings.session_secret())
    return {"own_url": url, "own_qr": Markup(fleet.qr_svg(url))}


@router.post("/volunteers/{vid}/badge")
async def badge_action(vid: str, action: str = Form(..., pattern="^(issue|reissue|revoke)$"),
                       reason: str = Form("", max_length=500), actor: Actor = Depends(current_actor),
                       settings: ServerSettings = Depends(get_settings)):
    if action == "revoke":
        result = badges.revoke(actor.scope, vid, actor.username, reason=reason)
    else:
        result = badges.issue(actor.scope, vid, settings.keys_dir, actor.username, reissue=action == "reissue",
                              reason=reason)
    return RedirectResponse(f"/volunteers/{vid}?done={action}&serial={result['serial']}", status_code=303)
