from __future__ import annotations

from fastapi import APIRouter

from sync.protocol import EnrollRequest, EnrollResponse, StationInfo
from sync.server.api.errors import BAD_BODY, _doc, now
from sync.server.services import devices

router = APIRouter(prefix="/devices", tags=["devices"])


@router.post("/enroll", response_model=EnrollResponse,
             responses={**BAD_BODY, 400: _doc("code_unknown, code_used, code_expired, bad_device_id or not JSON"),
                        403: _doc("This kiosk id was revoked (device_revoked)")})
def enroll(request: EnrollRequest) -> EnrollResponse:
    """Trade a one-time enrolment code for a device token (the code is the credential)."""
    done = devices.enroll(request.code, request.device_id, request.device_name)
    return EnrollResponse(device_id=done.device_id, token=done.token, station=StationInfo(**done.station),
                          public_keys=done.public_keys, server_time=now(), kiosk_number=done.kiosk_number)
