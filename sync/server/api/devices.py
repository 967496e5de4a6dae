from __future__ import annotations

from fastapi import APIRouter

from sync.protocol import EnrollRequest, EnrollResponse, StationInfo
from sync.server.api.errors import BAD_BODY, _doc, now
from sync.server.services import devices

router = APIRouter(prefix="/devices", tags=["devices"])


@router.post("/enroll", response_model=EnrollResponse,
             responses={**BAD_BODY,
                        400: _doc("code_invalid (the code is unknown, used or expired: one answer for all three), "
                                  "bad_device_id, or not JSON"),
                        403: _doc("This kiosk id was revoked (device_revoked)"),
                        408: _doc("The body did not arrive in time (body_timeout); the connection is closed"),
                        409: _doc("A kiosk with this device id is enrolled already (device_exists): enrol "
                                  "with a fresh id; the code stays unused"),
                        429: _doc("Too many enrolment attempts from this address (rate_limited); retry after "
                                  "the Retry-After header's seconds")})
def enroll(request: EnrollRequest) -> EnrollResponse:
    """Trade a one-time enrolment code for a device token (the code is the credential).
    Attempts are limited per client address (`app.EnrolLimit`)."""
    done = devices.enroll(request.code, request.device_id, request.device_name)
    return EnrollResponse(device_id=done.device_id, token=done.token, station=StationInfo(**done.station),
                          public_keys=done.public_keys, server_time=now(), kiosk_number=done.kiosk_number)
