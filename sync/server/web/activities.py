"""Activity pages: the list per site, a form to create or edit, cancel. JSON twin:
`api.activities`. Times typed in the form are the site's local time (its time zone)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sync.server.api.auth import Actor, current_actor
from sync.server.services import ServiceError, activities, fleet, signups, sites, volunteers
from sync.server.web.pages import render

router = APIRouter(include_in_schema=False)
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def _zone(site: str | None) -> ZoneInfo:
    row = sites.get_site(site) if site else None
    return ZoneInfo(row.timezone if row else sites.DEFAULT_TIMEZONE)


def _parse_local(text: str, site: str | None) -> int | None:
    try:
        return int(datetime.strptime(text.strip(), LOCAL_FORMAT).replace(tzinfo=_zone(site)).timestamp())
    except ValueError:
        return None


def _form_values(title, category, place, team, capacity, description, starts_at, ends_at, site) -> dict:
    capacity = capacity.strip()
    if capacity and not capacity.isdigit():
        raise ServiceError("bad_activity", "capacity is a whole number")
    return {"title": title, "category": category, "place": place, "team": team, "description": description,
            "capacity": int(capacity) if capacity else None,
            "starts_at": _parse_local(starts_at, site), "ends_at": _parse_local(ends_at, site)}


def _page(request, actor, site, status_code=200, **extra):
    return render(request, "activities.html", actor, status_code=status_code,
                  result=activities.listing(actor.scope, site=site or None), site=site or "",
                  stations=volunteers.stations_in_scope(actor.scope), **extra)


@router.get("/activities", response_class=HTMLResponse)
def listing(request: Request, site: str | None = Query(None, max_length=32), saved: int = 0,
            actor: Actor = Depends(current_actor)):
    return _page(request, actor, site, saved=bool(saved))


@router.post("/activities", response_class=HTMLResponse)
def create(request: Request, site: str = Form("", max_length=32), title: str = Form("", max_length=100),
           category: str = Form("", max_length=50), place: str = Form("", max_length=200),
           team: str = Form("", max_length=100), capacity: str = Form("", max_length=7),
           description: str = Form("", max_length=2000), starts_at: str = Form("", max_length=20),
           ends_at: str = Form("", max_length=20), actor: Actor = Depends(current_actor)):
    try:
        values = _form_values(title, category, place, team, capacity, description, starts_at, ends_at, site)
        activities.create(actor.scope, site or None, values, actor.username)
    except ServiceError as exc:
        if exc.code != "bad_activity":
            raise
        return _page(request, actor, site, status_code=422, error=exc.message, form=dict(
            title=title, category=category, place=place, team=team, capacity=capacity, description=description,
            starts_at=starts_at, ends_at=ends_at))
    return RedirectResponse(f"/activities?site={site}&saved=1", status_code=303)


@router.get("/activities/{activity_id}", response_class=HTMLResponse)
def edit_page(request: Request, activity_id: str, actor: Actor = Depends(current_actor)):
    a = activities.get(actor.scope, activity_id)
    zone = _zone(a["site"])
    form = {**a, "starts_at": datetime.fromtimestamp(a["starts_at"], zone).strftime(LOCAL_FORMAT),
            "ends_at": datetime.fromtimestamp(a["ends_at"], zone).strftime(LOCAL_FORMAT),
            "capacity": a["capacity"] or ""}
    return render(request, "activity.html", actor, a=a, form=form, **_signups(request, actor, activity_id))


def _signups(request: Request, actor: Actor, activity_id: str) -> dict:
    """Who signed up on the public page, and its link and QR (absolute: this server's address
    when no public_url is set)."""
    signups.maybe_purge()
    found = signups.for_activity(actor.scope, activity_id)
    link = found["signup_url"]
    if link.startswith("/"):
        link = str(request.base_url).rstrip("/") + link
    return {"signups": found, "signup_link": link, "signup_qr": fleet.qr_svg(link) if link else ""}


@router.post("/activities/{activity_id}", response_class=HTMLResponse)
def edit(request: Request, activity_id: str, title: str = Form("", max_length=100),
         category: str = Form("", max_length=50), place: str = Form("", max_length=200),
         team: str = Form("", max_length=100), capacity: str = Form("", max_length=7),
         description: str = Form("", max_length=2000), starts_at: str = Form("", max_length=20),
         ends_at: str = Form("", max_length=20), actor: Actor = Depends(current_actor)):
    a = activities.get(actor.scope, activity_id)
    try:
        values = _form_values(title, category, place, team, capacity, description, starts_at, ends_at, a["site"])
        activities.update(actor.scope, activity_id, values, actor.username)
    except ServiceError as exc:
        if exc.code != "bad_activity":
            raise
        return render(request, "activity.html", actor, status_code=422, a=a, error=exc.message, form=dict(
            title=title, category=category, place=place, team=team, capacity=capacity, description=description,
            starts_at=starts_at, ends_at=ends_at), **_signups(request, actor, activity_id))
    return RedirectResponse(f"/activities?site={a['site'] or ''}&saved=1", status_code=303)


@router.post("/activities/{activity_id}/cancel")
def cancel(activity_id: str, reason: str = Form("", max_length=500), actor: Actor = Depends(current_actor)):
    a = activities.cancel(actor.scope, activity_id, actor.username, reason=reason)
    return RedirectResponse(f"/activities?site={a['site'] or ''}", status_code=303)
