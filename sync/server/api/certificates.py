"""Service-record certificates as JSON and PDF (the same service as the dashboard's forms):

    POST /api/v1/certificates          {"vid", "from", "to"[, "signer", "contact"]} -> {"number", "url", ...}
    POST /api/v1/certificates/batch    {"vids": [...], "from", "to"}  -> one PDF, every certificate
    GET  /api/v1/certificates/{number}.pdf                            -> the PDF (scoped)
    GET  /api/v1/certificates/{number}                                -> what was recorded (scoped)
    GET  /api/v1/verify/{number}       (no log-in)                    -> {"genuine": bool, ...}
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from sync.server.api.auth import Actor, current_actor
from sync.server.api.deps import get_settings
from sync.server.api.errors import BAD_BODY, CENTER_AUTH, NOT_FOUND, _doc
from sync.server.services import certificates
from sync.server.settings import ServerSettings

router = APIRouter(tags=["center"], responses={
    **BAD_BODY, **CENTER_AUTH, **NOT_FOUND,
    400: _doc("bad_period: from/to are not dates, or to is before from"),
    409: _doc("no_hours: no confirmed hours in the period at the caller's sites")})
public = APIRouter(tags=["public"])


class CertificateRequest(BaseModel):
    vid: str = Field(min_length=1, max_length=32)
    from_: str | None = Field(None, alias="from", max_length=10)
    to: str | None = Field(None, max_length=10)
    signer: str = Field("", max_length=50, description="the person in charge (default: the server's setting)")
    contact: str = Field("", max_length=50, description="a contact telephone (default: the server's setting)")


class BatchRequest(BaseModel):
    vids: list[str] = Field(min_length=1, max_length=certificates.MAX_BATCH)
    from_: str | None = Field(None, alias="from", max_length=10)
    to: str | None = Field(None, max_length=10)
    signer: str = Field("", max_length=50)
    contact: str = Field("", max_length=50)


class Issued(BaseModel):
    number: str
    url: str
    verify_url: str
    vid: str
    name: str
    minutes: int
    stars: int
    from_: str = Field(alias="from")
    to: str


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def pdf_response(data: bytes, filename: str, numbers: list[str] | None = None) -> Response:
    headers = {"Content-Disposition": f'inline; filename="{filename}"'}
    if numbers is not None:
        headers["X-Certificate-Numbers"] = ",".join(numbers[:1000])
    return Response(data, media_type="application/pdf", headers=headers)


@router.post("/certificates", response_model=Issued)
def issue(body: CertificateRequest, request: Request, actor: Actor = Depends(current_actor),
          settings: ServerSettings = Depends(get_settings)):
    """Issue and record one certificate; `url` gives its PDF."""
    c = certificates.issue(actor.scope, body.vid, body.from_, body.to, actor.username, settings.session_secret(),
                           body.signer or settings.certificate_signer, body.contact or settings.certificate_contact)
    root = base_url(request)
    return {"number": c["number"], "url": f"{root}/api/v1/certificates/{c['number']}.pdf",
            "verify_url": certificates.verify_url(root, c["number"]), "vid": c["vid"], "name": c["name"],
            "minutes": c["minutes"], "stars": c["stars"], "from": c["from"], "to": c["to"]}


@router.post("/certificates/batch", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def batch(body: BatchRequest, request: Request, actor: Actor = Depends(current_actor),
          settings: ServerSettings = Depends(get_settings)):
    """One certificate per volunteer with confirmed hours in the period, all in one PDF."""
    made = certificates.issue_many(actor.scope, body.vids, body.from_, body.to, actor.username, settings.session_secret(),
                                   body.signer or settings.certificate_signer,
                                   body.contact or settings.certificate_contact, skip_empty=True)
    return pdf_response(certificates.pdf(made, base_url(request)), "certificates.pdf", [c["number"] for c in made])


@router.get("/certificates/{number}.pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def certificate_pdf(number: str, request: Request, actor: Actor = Depends(current_actor)):
    c = certificates.get(actor.scope, number)
    return pdf_response(certificates.pdf([c], base_url(request)), f"{c['number']}.pdf")


@router.get("/certificates/{number}", response_model=dict[str, Any])
def certificate(number: str, actor: Actor = Depends(current_actor)):
    return certificates.get(actor.scope, number)


@public.get("/verify/{number}", response_model=dict[str, Any])
def verify(number: str, settings: ServerSettings = Depends(get_settings)):
    """Anyone holding a printed certificate: is this number genuine, and what did it certify?"""
    return certificates.verify(number[:64], settings.session_secret())


@public.get("/volunteer-page/{token}", response_model=dict[str, Any], responses={
    404: _doc("link_invalid: not a volunteer's page link, or altered"), 410: _doc("link_expired")})
def volunteer_page(token: str, settings: ServerSettings = Depends(get_settings)):
    """A volunteer's own figures, sessions and certificates, by their signed, expiring link
    (404 link_invalid: altered or unknown; 410 link_expired)."""
    from sync.server.services import mypage
    return mypage.page(token[:120], settings.session_secret())
