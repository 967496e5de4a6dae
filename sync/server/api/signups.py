"""An activity's public sign-up page as JSON (no log-in: anyone with the link; the page at
``/signup/TOKEN`` calls the same service, `sync.server.services.signups`):

    GET  /api/v1/signup/{token}     -> the activity, places left, state (open/full/over/cancelled)
    POST /api/v1/signup/{token}     {"phone", "name"} -> {"activity_id", "phone" (masked), "signed_up", ...}

Refusals: bad_phone 422, already_signed_up / activity_full / activity_over /
activity_cancelled 409, rate_limited 429 (per client address), not_found 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from sync.server.api.errors import BAD_BODY, NOT_FOUND, RefusalBody, _doc
from sync.server.services import signups

router = APIRouter(tags=["public"], responses={**NOT_FOUND})


class SignupPage(BaseModel):
    title: str
    category: str
    starts_at: int
    ends_at: int
    place: str
    team: str
    description: str
    site_name: str
    timezone: str
    capacity: int | None
    signed_up: int
    places_left: int | None
    state: str = Field(description="open / full / over / cancelled")


class SignupIn(BaseModel):
    phone: str = Field(min_length=1, max_length=20, description="a mainland China mobile number")
    name: str = Field("", max_length=20)


class SignupDone(BaseModel):
    activity_id: str
    title: str
    phone: str = Field(description="masked: 138****8000")
    signed_up: int
    places_left: int | None


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


@router.get("/signup/{token}", response_model=SignupPage)
def signup_page(token: str):
    return signups.view(token)


@router.post("/signup/{token}", response_model=SignupDone, responses={
    **BAD_BODY, 422: _doc("bad_phone, or a field is invalid (invalid_request, with detail)", RefusalBody),
    409: _doc("already_signed_up, activity_full, activity_over or activity_cancelled"),
    429: _doc("rate_limited: too many sign-ups from this address")})
def sign_up(token: str, body: SignupIn, request: Request):
    """Sign up with a phone number: one per phone per activity, counted against the capacity."""
    return signups.sign_up(token, body.phone, client_of(request), name=body.name)
