"""The service menu page (/menu?site=CODE): what residents order from at the kiosks below a
site, each service with the descriptions they tap instead of typing, in Chinese and
(optionally) English. Center administrators only; saved, it reaches the kiosks in their
next pull. JSON twin: GET/PUT /api/v1/service-menu (`api.service_requests`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sync import service_menu as menus
from sync.server.api.auth import Actor, current_actor
from sync.server.services import ServiceError, sites, volunteers
from sync.server.services import service_menu
from sync.server.web.pages import render

router = APIRouter(include_in_schema=False)
BLANK_ROWS = 3


def _site(actor: Actor, site: str | None) -> str:
    actor.scope.require("admin")
    code = (site or "").strip() or actor.scope.site or (sites.root().code if sites.root() else "")
    actor.scope.require_site(code, "site")
    if sites.get_site(code) is None:
        raise ServiceError("not_found", "no such site")
    return code


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace("\r", "").split("\n") if line.strip()]


def _page(request, actor, code, rows, status_code=200, **extra):
    current = service_menu.menu_for(code)
    network = sites.all_sites()
    rows = list(rows) + [{"service": "", "presets": []}] * max(0, min(BLANK_ROWS, menus.MAX_ITEMS - len(rows)))
    return render(request, "menu.html", actor, status_code=status_code, site=code, site_name=network[code].name,
                  source=current["site"], source_name=network[current["site"]].name if current["site"] else "",
                  rows=rows, stations=volunteers.stations_in_scope(actor.scope), **extra)


@router.get("/menu", response_class=HTMLResponse)
def menu_page(request: Request, site: str | None = Query(None, max_length=32), done: str = Query("", max_length=8),
              actor: Actor = Depends(current_actor)):
    code = _site(actor, site)
    return _page(request, actor, code, service_menu.menu_for(code)["items"], done=done == "saved")


@router.post("/menu", response_class=HTMLResponse)
async def menu_save(request: Request, site: str = Query(..., max_length=32), actor: Actor = Depends(current_actor)):
    code = _site(actor, site)
    form = await request.form()
    rows = []
    for index in range(menus.MAX_ITEMS + BLANK_ROWS):
        fields = {k: str(form.get(f"{k}_{index}", ""))[:2000] for k in ("service", "service_en", "presets",
                                                                        "presets_en")}
        if not any(v.strip() for v in fields.values()):
            continue                                   # a blank row, or a service emptied out: left off
        rows.append({"service": fields["service"].strip(), "service_en": fields["service_en"].strip(),
                     "presets": _lines(fields["presets"]), "presets_en": _lines(fields["presets_en"])})
    try:
        menus.clean_menu(rows)                     # first here, to say which service on the page
    except menus.MenuError as exc:
        return _page(request, actor, code, rows, status_code=422, error=exc.key,
                     error_item=None if exc.index is None else exc.index + 1)
    service_menu.set_menu(actor.scope, code, rows, actor=actor.username)
    return RedirectResponse(f"/menu?site={code}&done=saved", status_code=303)
