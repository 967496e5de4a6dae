"""Certificates on the dashboard: issue one from a volunteer's page, a batch (one PDF)
from the reports page, download a recorded one; and the public verification page a QR
code on the paper opens (no log-in). JSON twins: api.certificates."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sync.server.api.auth import Actor, current_actor
from sync.server.api.certificates import base_url, pdf_response
from sync.server.api.deps import get_settings
from sync.server.services import certificates, reports
from sync.server.settings import ServerSettings
from sync.server.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/verify/{number}", response_class=HTMLResponse)
def verify(request: Request, number: str, settings: ServerSettings = Depends(get_settings)):
    result = certificates.verify(number[:64], settings.session_secret())
    return render(request, "verify.html", None, result=result, hours=certificates.hours_text(result.get("minutes", 0)))


@router.post("/volunteers/{vid}/certificate")
def issue(request: Request, vid: str, from_: str = Form("", alias="from", max_length=10),
          to: str = Form("", max_length=10), signer: str = Form("", max_length=50),
          contact: str = Form("", max_length=50), actor: Actor = Depends(current_actor),
          settings: ServerSettings = Depends(get_settings)):
    c = certificates.issue(actor.scope, vid, from_ or None, to or None, actor.username, settings.session_secret(),
                           signer or settings.certificate_signer, contact or settings.certificate_contact)
    return RedirectResponse(f"/certificates/{c['number']}.pdf", status_code=303)


@router.get("/certificates/{number}.pdf")
def certificate_pdf(request: Request, number: str, actor: Actor = Depends(current_actor)):
    c = certificates.get(actor.scope, number)
    return pdf_response(certificates.pdf([c], base_url(request)), f"{c['number']}.pdf")


@router.post("/reports/certificates")
def batch(request: Request, site: str = Form("", max_length=32), from_: str = Form("", alias="from", max_length=10),
          to: str = Form("", max_length=10), actor: Actor = Depends(current_actor),
          settings: ServerSettings = Depends(get_settings)):
    """A certificate for every volunteer of the report (site, period), in one PDF."""
    report = reports.hours(actor.scope, site=site or None, start=from_ or None, end=to or None, by="volunteer")
    vids = [r["key"] for r in report["rows"]][:certificates.MAX_BATCH]
    made = certificates.issue_many(actor.scope, vids, report["from"], report["to"], actor.username,
                                   settings.session_secret(), settings.certificate_signer, settings.certificate_contact,
                                   skip_empty=True) if vids else []
    if not made:
        from sync.server.services import ServiceError
        raise ServiceError("no_hours", "no volunteer has confirmed hours in this period")
    return pdf_response(certificates.pdf(made, base_url(request)), "certificates.pdf", [c["number"] for c in made])
