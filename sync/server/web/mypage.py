"""A volunteer's own page on their phone (no log-in; a signed, expiring link: `sync.mylink`).
JSON twin: GET /api/v1/volunteer-page/{token} (api.certificates.public)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from sync.server.api.certificates import base_url, pdf_response
from sync.server.api.deps import get_settings
from sync.server.services import certificates, mypage
from sync.server.settings import ServerSettings
from sync.server.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/me/{token}", response_class=HTMLResponse)
def page(request: Request, token: str, settings: ServerSettings = Depends(get_settings)):
    data = mypage.page(token[:120], settings.session_secret())
    response = render(request, "me.html", None, me=data, token=token, hours=certificates.hours_text)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"       # the link is the key: never sent onwards
    return response


@router.get("/me/{token}/certificates/{number}.pdf")
def certificate(request: Request, token: str, number: str, settings: ServerSettings = Depends(get_settings)):
    data = mypage.certificate_pdf(token[:120], number[:64], settings.session_secret(), base_url(request))
    return pdf_response(data, f"{certificates.normalise(number)}.pdf")
