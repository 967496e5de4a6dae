"""The center's desk as JSON: who am I, and my part of the network at a glance. The same
service calls as the pages (`sync.server.web`); session cookie or user API token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from sync.server.api.auth import Actor, current_actor
from sync.server.api.errors import BAD_QUERY, CENTER_AUTH
from sync.server.services import audit, dashboard

router = APIRouter(tags=["center"], responses={**CENTER_AUTH, **BAD_QUERY})


class Me(BaseModel):
    username: str
    role: str
    site: str | None          # None: the root (the whole network)
    sites: list[str] | None   # every site code in scope; None: the whole network


@router.get("/me", response_model=Me)
def me(actor: Actor = Depends(current_actor)) -> Me:
    """The caller and the sites they act on."""
    sites = None if actor.scope.sites is None else sorted(actor.scope.sites)
    return Me(username=actor.username, role=actor.user.role, site=actor.user.site, sites=sites)


class Overview(BaseModel):
    site: dict[str, Any] | None
    stations: int
    volunteers: int
    review: int
    hours: float
    activities: int
    kiosks: int
    network: list[dict[str, Any]]


@router.get("/overview", response_model=Overview)
def overview(actor: Actor = Depends(current_actor)) -> Overview:
    """The home page's figures for the caller's subtree."""
    return Overview(**dashboard.overview(actor.scope))


@router.get("/audit", response_model=list[dict[str, Any]])
def audit_log(limit: int = Query(100, ge=1, le=1000), actor: Actor = Depends(current_actor)):
    """The newest audit rows about the caller's part of the network: who, when, what, before, after, why."""
    return audit.entries(actor.scope, limit=limit)
