"""The home page: the user's part of the network at a glance (JSON twin: GET /api/v1/overview)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from sync.server.api.auth import Actor, current_actor
from sync.server.services import dashboard
from sync.server.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, actor: Actor = Depends(current_actor)):
    return render(request, "home.html", actor, overview=dashboard.overview(actor.scope))
