"""The wire between kiosk and center: JSON schemas (pydantic), shared by client and server.

Everything lives under ``/api/v1``; every answer carries ``server_time``.

    POST /api/v1/devices/enroll   EnrollRequest  -> EnrollResponse      (no token: the one-time code is the credential)
    POST /api/v1/events           PushRequest    -> PushResponse        (Authorization: Bearer <device token>)
    GET  /api/v1/changes?cursor=N&limit=M         -> PullResponse       (Authorization: Bearer <device token>)
    GET  /api/v1/health                           -> Health

Push before pull. The event id is the idempotency key: a re-sent event is answered
``duplicate`` and stored once. A refused event is answered with a reason code and the
kiosk keeps it, visible, with that code.

Times inside payloads (``at``) are Unix seconds by the kiosk's clock; the envelope's
``clock_offset_ms`` (server clock minus kiosk clock, as last measured) lets the server
put them on its own clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt

API_PREFIX = "/api/v1"
MAX_BATCH = 500            # events in one push
MAX_BODY_BYTES = 2_000_000  # larger push bodies are answered 413
PAGE_SIZE = 500            # changes in one pull page

EventType = Literal["checkin", "checkout", "correction", "activity_closed", "service_request", "service_rating",
                    "failed_scan"]
EventStatus = Literal["stored", "duplicate", "refused"]
ChangeKind = Literal["activity", "volunteer", "revocation", "public_key", "station", "rules", "session",
                     "coordinator_pin",
                     "service_menu", "request_state"]

# Codes a server answers for a refused event (keep in sync with kiosk/i18n catalogs and
# the README's table).
REFUSAL_CODES = (
    "bad_payload",        # the payload fails its model (a time that is not an integer, a missing field…)
    "bad_text",           # a text the database cannot hold (a NUL character)
    "wrong_device",       # the envelope names another device than the token
    "unknown_session",    # a check-out or correction of a session this server never saw
    "wrong_station",      # a check-out or correction from a device of another station
    "activity_not_here",  # a check-in to an activity that is not this station's, nor above it
    "already_closed",     # a second check-out of a closed session
    "already_reviewed",   # a change to a session a person has approved, adjusted or rejected
    "conflict",           # an event id stored before with other content
    "storage_error",      # the database refused this one event (the rest of the batch is stored)
    "duplicate_number",   # a service-request number another request has already
    "foreign_number",     # a service-request number not of this kiosk's series
    "device_revoked",
    "unknown_type",       # an event type this server does not know (a newer kiosk): refused, the batch goes on
)

# Times on the wire are integers of Unix seconds: StrictInt refuses true and "1796040000",
# which a lax integer would take as 1 and as a number. Up to the last second a calendar
# shows (9999): a year 2200 is stored and flagged future_time; a year 285 million is no
# time at all, and would break every page that shows it. From 0: a kiosk without a
# battery-backed clock boots in 1970, and its measured offset still puts its scans right.
EARLIEST, LATEST = 0, 253_402_300_799
Seconds = Annotated[StrictInt, Field(ge=EARLIEST, le=LATEST)]

# Codes of error answers (ErrorBody.code) at the doors: enrolment and admission.
CODE_INVALID = "code_invalid"    # 400: the enrolment code is unknown, used or expired (one answer for all)
DEVICE_EXISTS = "device_exists"  # 409: a kiosk with this device id is enrolled; enrol with a fresh id
RATE_LIMITED = "rate_limited"    # 429: too many enrolment attempts from this address, or too many pushes
                                 #      of this device in flight; retry after Retry-After seconds
BODY_TIMEOUT = "body_timeout"    # 408: the request body did not arrive in time; the connection is closed


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- event payloads, one model per type --------------------------------------------

class CheckinPayload(Strict):
    session_id: UUID
    vid: str = Field(min_length=1, max_length=32)
    serial: StrictInt = Field(ge=0)
    role: Literal["volunteer", "coordinator"] = "volunteer"
    activity_id: str | None = Field(default=None, max_length=64)  # None: general station duty (站点值班)
    at: Seconds


class CheckoutPayload(Strict):
    session_id: UUID
    vid: str = Field(min_length=1, max_length=32)
    at: Seconds
    minutes: StrictInt = Field(ge=0)          # what the kiosk showed; the server computes its own
    flags: list[str] = Field(default=[], max_length=20)
    # late: the scan after an automatic close of the same session (its end proposed for review)
    closed_by: Literal["scan", "auto", "coordinator", "late"] = "scan"
    by_vid: str | None = Field(default=None, min_length=1, max_length=32)  # the coordinator who closed it


class CorrectionPayload(Strict):
    session_id: UUID
    field: Literal["check_in", "check_out"]
    value: Seconds
    reason: str = Field(min_length=1, max_length=500)
    by_vid: str = Field(min_length=1, max_length=32)


class ActivityClosedPayload(Strict):
    activity_id: str = Field(min_length=1, max_length=64)
    at: Seconds
    by_vid: str = Field(min_length=1, max_length=32)


class ServiceRequestPayload(Strict):
    number: str = Field(min_length=1, max_length=32)
    service: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=5, max_length=20)
    note: str = Field(default="", max_length=500)
    at: Seconds


class ServiceRatingPayload(Strict):
    """A resident's rating (评单) of a completed request, at any kiosk, by its number and the
    last four digits of the phone; the center checks both (refusals: unknown_request,
    illegal_transition)."""
    number: str = Field(min_length=1, max_length=40)
    last4: str = Field(pattern=r"^\d{4}$")
    rating: StrictInt = Field(ge=1, le=5)
    comments: list[str] = Field(default=[], max_length=10)
    at: Seconds


class FailedScanPayload(Strict):
    """A refused scan at the kiosk (issue 11): when, why, and the badge's number and serial
    when the text was one of ours (its signature checked). Never the text of a foreign code.
    The same thing read again within seconds is one failed scan (kiosk.failed_scans)."""
    id: UUID
    at: Seconds
    code: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")   # the kiosk's stable word
    vid: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")
    serial: StrictInt | None = Field(default=None, ge=0)


# Event types a kiosk sends only to a center that says it accepts them (PullResponse.event_types):
# a center from before them answers a whole batch holding one with 422.
HELD_BACK_TYPES = frozenset({"failed_scan"})

PAYLOAD_MODELS: dict[str, type[Strict]] = {
    "checkin": CheckinPayload,
    "checkout": CheckoutPayload,
    "correction": CorrectionPayload,
    "activity_closed": ActivityClosedPayload,
    "service_request": ServiceRequestPayload,
    "service_rating": ServiceRatingPayload,
    "failed_scan": FailedScanPayload,
}


# --- envelopes -----------------------------------------------------------------------

class Event(Strict):
    id: UUID                      # UUIDv7 made by the kiosk: the idempotency key
    device_id: str = Field(min_length=1, max_length=64)
    seq: StrictInt = Field(ge=1)  # per-device sequence number, gapless on the kiosk
    # A type this server does not know (a newer kiosk) is refused per event (unknown_type),
    # so one new kind never stops a whole batch, as Change.kind for pulls.
    type: EventType | Annotated[str, Field(min_length=1, max_length=32)]
    device_time: datetime         # when the kiosk recorded it, by the kiosk's clock
    clock_offset_ms: StrictInt = 0  # server clock minus kiosk clock, as last measured
    payload: dict[str, Any]


class PushRequest(Strict):
    events: list[Event] = Field(max_length=MAX_BATCH)


class EventResult(BaseModel):
    id: UUID
    status: EventStatus
    code: str | None = None       # set when refused


class PushResponse(BaseModel):
    results: list[EventResult]
    server_time: datetime


class Change(BaseModel):
    # A kind this kiosk does not know (a newer server) is accepted and skipped by the store,
    # so one new kind never stops a whole fleet's pulls.
    kind: ChangeKind | str
    key: str
    data: dict[str, Any] | None = None  # None: deleted
    version: int                         # the cursor value of this change


class PullResponse(BaseModel):
    changes: list[Change]
    cursor: int                   # pass back as ?cursor= to continue
    more: bool                    # another page is waiting
    server_time: datetime
    # This station's key for volunteers' own page links (sync.mylink), base64url; the
    # kiosk shows a signed link as a QR code after a check-out. Absent from older servers.
    page_key: str | None = None
    # The event types this center accepts. Absent from an older center: the kiosk then holds
    # back the types newer than that center (HELD_BACK_TYPES), which it would answer 422.
    event_types: list[str] | None = None


class EnrollRequest(Strict):
    code: str = Field(min_length=4, max_length=64)
    # The id the kiosk made for itself at `kiosk init`; events recorded before enrolment
    # already carry it, so the server adopts it (a new one is made when absent).
    device_id: str | None = Field(default=None, min_length=1, max_length=64)
    device_name: str = Field(default="kiosk", max_length=100)


class StationInfo(BaseModel):
    code: str
    name: str
    institute: str = ""
    center: str = ""
    timezone: str = "Asia/Shanghai"


class EnrollResponse(BaseModel):
    device_id: str
    token: str
    station: StationInfo
    public_keys: dict[str, str]   # kid -> base64 raw Ed25519 public key
    server_time: datetime
    # Short and fleet-unique, the same at every enrolment of this device: the kiosk's part of
    # its order numbers (sync.order_numbers). None from a center that does not assign them.
    kiosk_number: int | None = None


class Health(BaseModel):
    status: Literal["ok"]
    database: str
    server_time: datetime


class ErrorBody(BaseModel):
    code: str
    message: str
    server_time: datetime


# --- what the sync agent needs from the kiosk store --------------------------------

class SyncStore(Protocol):
    """The kiosk store as the sync agent sees it (`sync` never imports `kiosk`)."""

    def pending_events(self, limit: int) -> list[dict]: ...
    def record_push_results(self, results: list[EventResult]) -> None: ...
    def apply_changes(self, changes: list[Change], cursor: int) -> None: ...  # one transaction
    def sync_state(self) -> dict: ...          # server_url, token, device_id, cursor, clock_offset_ms
    def set_sync_state(self, **values) -> None: ...
    def count_pending(self) -> int: ...
