"""The audit log page: the newest changes made at the center in the user's subtree.
JSON twin: GET /api/v1/audit."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from sync.server.api.auth import Actor, current_actor
from sync.server.services import audit
from sync.server.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/audit", response_class=HTMLResponse)
def page(request: Request, actor: Actor = Depends(current_actor)):
    return render(request, "audit.html", actor, entries=audit.entries(actor.scope, limit=200))
