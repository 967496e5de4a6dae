"""The fleet page: enrolment codes as QR codes, every kiosk of the subtree, revoke one.
JSON twin: `api.activities` (/api/v1/kiosks)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sync.server.api.auth import Actor, current_actor
from sync.server.services import failed_scans, fleet, volunteers
from sync.server.web.pages import render

router = APIRouter(include_in_schema=False)


def _page(request, actor, site, **extra):
    since = int(time.time()) - failed_scans.RECENT_SECONDS
    kiosks = fleet.kiosks(actor.scope, site=site or None)
    failed_counts = failed_scans.counts_by_device(actor.scope, since, site=site or None)
    for kiosk in kiosks:
        kiosk["failed_scans"] = failed_counts.get(kiosk["id"], 0)
    return render(request, "fleet.html", actor, kiosks=kiosks, site=site or "",
                  stations=volunteers.stations_in_scope(actor.scope),
                  failed=failed_scans.recent(actor.scope, since, site=site or None), **extra)


@router.get("/fleet", response_class=HTMLResponse)
def page(request: Request, site: str | None = Query(None, max_length=32), actor: Actor = Depends(current_actor)):
    return _page(request, actor, site)


@router.post("/fleet/code", response_class=HTMLResponse)
def new_code(request: Request, station: str = Form(..., max_length=32), actor: Actor = Depends(current_actor)):
    """The code is shown once, on this answer (it is stored only as a hash)."""
    return _page(request, actor, "", code=fleet.make_code(actor.scope, station, actor.username))


@router.post("/fleet/{device_id}/revoke")
def revoke(device_id: str, reason: str = Form("", max_length=500), actor: Actor = Depends(current_actor)):
    fleet.revoke(actor.scope, device_id, actor.username, reason=reason)
    return RedirectResponse("/fleet", status_code=303)
