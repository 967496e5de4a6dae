"""An activity's public sign-up page for residents' phones (no log-in; the link is the
activity's unguessable token). CSRF-protected form, rate-limited per address. JSON twin:
`sync.server.api.signups`."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from sync.server.api.auth import check_csrf
from sync.server.api.errors import STATUS_BY_CODE
from sync.server.api.signups import client_of
from sync.server.services import ServiceError, signups
from sync.server.web.pages import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, token: str, status_code: int = 200, **extra) -> HTMLResponse:
    return render(request, "signup.html", None, status_code=status_code, a=signups.view(token), token=token,
                  retention_days=signups.RETENTION_DAYS, **extra)


@router.get("/signup/{token}", response_class=HTMLResponse)
def signup_page(request: Request, token: str):
    return _page(request, token)


@router.post("/signup/{token}", response_class=HTMLResponse)
async def sign_up(request: Request, token: str, phone: str = Form("", max_length=20),
                  name: str = Form("", max_length=20)):
    signups.view(token)                      # an unknown link: 404 before anything else
    try:
        await check_csrf(request)
        done = signups.sign_up(token, phone, client_of(request), name=name)
    except ServiceError as exc:
        if exc.code == "not_found":
            raise
        return _page(request, token, status_code=STATUS_BY_CODE.get(exc.code, 400), error=exc.code,
                     form={"phone": phone, "name": name})
    return _page(request, token, done=done)
