"""The server's tables (peewee). The database behind `db` is chosen at start-up
(`sync.server.db.open_database`): SQLite in the data dir, or PostgreSQL by DATABASE_URL.

Times are Unix seconds (UTC) in integer columns, as on the kiosk; on the server they are
on the server's clock (kiosk times are moved by the event's `clock_offset_ms`).
"""

from __future__ import annotations

from peewee import (SQL, BigAutoField, BigIntegerField, CharField, DatabaseProxy, IntegerField, Model,
                    TextField)

db = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = db


class Migration(BaseModel):
    name = CharField(primary_key=True)
    applied_at = BigIntegerField()

    class Meta:
        table_name = "migrations"


class User(BaseModel):
    """A person at the center's desk: one site, one role; acts on that site's subtree only
    (`services.scope`). Replaces the `admin` table (migration 0003 moves its rows here)."""
    username = CharField(primary_key=True, max_length=64)
    password_hash = CharField()                # argon2
    site = CharField(null=True)                # NULL: the root, the whole network
    role = CharField(default="coordinator")    # center_admin / coordinator / team_leader
    failed_logins = IntegerField(default=0)    # consecutive; reset by a good password
    locked_until = BigIntegerField(null=True)
    created_at = BigIntegerField()
    # Bumped at log-out, password reset and disable: every session cookie signed before
    # carries the old number and is refused (a copied cookie dies with the log-out).
    session_generation = IntegerField(default=0)
    disabled_at = BigIntegerField(null=True)   # a disabled account: no log-in, no session, no token
    team = IntegerField(null=True)             # a team leader's team (teams.id)

    class Meta:
        table_name = "users"


class ApiToken(BaseModel):
    """A user's API token for scripts and other systems, with that user's scope. Only the
    sha256 is stored (256 random bits: a slow hash buys nothing)."""
    token_hash = CharField(primary_key=True)
    username = CharField(index=True)
    created_at = BigIntegerField()
    revoked_at = BigIntegerField(null=True)

    class Meta:
        table_name = "api_tokens"


class AuditEntry(BaseModel):
    """One change made at the center: who, when, what, before, after, why."""
    id = BigAutoField()
    at = BigIntegerField()
    actor = CharField()                        # a username, or "cli"
    action = CharField(max_length=64)          # e.g. badge.revoke, session.adjust
    object_type = CharField(max_length=32)
    object_id = CharField()
    site = CharField(null=True, index=True)    # the object's site: who may read this row
    before = TextField(null=True)              # JSON
    after = TextField(null=True)               # JSON
    reason = TextField(default="")

    class Meta:
        table_name = "audit_log"


class Site(BaseModel):
    """One place of the network (中心 > 所 > 站): a center (its parent: none, or a center
    above it), an institute (parent: a center) or a station (parent: an institute or a
    center). Kiosks stand at stations; everything a coordinator sees is scoped to the
    subtree of their site (`services.scope`). Replaces the free-text `station` table
    (migration 0002 moves its rows here)."""
    code = CharField(primary_key=True, max_length=32)
    name = CharField()
    tier = CharField(max_length=16)            # center / institute / station
    parent = CharField(null=True, index=True)  # NULL: the root
    timezone = CharField(default="Asia/Shanghai")

    class Meta:
        table_name = "sites"


class Team(BaseModel):
    """A volunteer team (党员, 巾帼, 退役军人"军魂闪耀" …) belonging to one site."""
    site = CharField(max_length=32)
    name = CharField()

    class Meta:
        table_name = "teams"
        indexes = ((("site", "name"), True),)


class Device(BaseModel):
    id = CharField(primary_key=True, max_length=64)   # made by the kiosk at `kiosk init`, adopted
    station = CharField()
    name = CharField(default="kiosk")
    # sha256 of the bearer token: the token is 256 random bits, so a fast hash is enough
    # and a stolen database yields no usable token.
    token_hash = CharField(unique=True)
    enrolled_at = BigIntegerField()
    revoked_at = BigIntegerField(null=True)
    last_seen_at = BigIntegerField(null=True)
    # Short, fleet-unique, never reused: the middle group of this kiosk's order numbers
    # (sync.order_numbers). Given at first enrolment, kept when the kiosk enrols again.
    kiosk_number = IntegerField(null=True, unique=True)
    # What the kiosk last reported with a pull (the fleet page): its outbox, its refused
    # events, its measured clock offset, its app version.
    pending = IntegerField(null=True)
    refused = IntegerField(null=True)
    clock_offset_ms = BigIntegerField(null=True)
    app_version = CharField(null=True, max_length=32)


class EnrollCode(BaseModel):
    code_hash = CharField(primary_key=True)   # sha256 of the normalised code
    station = CharField()
    created_at = BigIntegerField()
    expires_at = BigIntegerField()
    used_at = BigIntegerField(null=True)
    device_id = CharField(null=True)

    class Meta:
        table_name = "enroll_codes"


class StoredEvent(BaseModel):
    """Every event a kiosk pushed, stored once: the primary key is the idempotency key."""
    id = CharField(primary_key=True, max_length=36)
    device_id = CharField(max_length=64)
    station = CharField()
    seq = BigIntegerField()
    type = CharField(max_length=32)
    device_time = CharField()                 # ISO 8601 as sent
    clock_offset_ms = BigIntegerField()
    payload = TextField()                     # JSON
    received_at = BigIntegerField()
    # sha256 of (device, type, payload): a re-sent id with other content is a conflict
    digest = CharField(max_length=64, null=True)
    session_id = CharField(max_length=36, null=True)  # check-ins, check-outs, corrections
    # 1: stored, but waiting for an earlier event of its device (its session's check-in)
    deferred = IntegerField(default=0)

    class Meta:
        table_name = "events"
        indexes = ((("device_id", "seq"), False), (("type",), False))


# Deferred events by session (`sessions._deferred_for`, on every push, the only reader by
# session): a partial index of the few deferred rows. The full index it replaces (made
# twice, under two names) cost two inserts at random pages per event stored (migration
# 0017_deferred_events_index).
StoredEvent.add_index(StoredEvent.index(StoredEvent.session_id, name="events_deferred_session_id",
                                        where=SQL('"deferred" = 1')))


class Refusal(BaseModel):
    """Every event refused, with its code: the fleet page shows them, and a device's sequence
    numbers are complete (stored + refused) once nothing is missing."""
    id = BigAutoField()
    event_id = CharField(max_length=36)
    device_id = CharField(max_length=64)
    seq = BigIntegerField()
    type = CharField(max_length=32)
    code = CharField(max_length=32)
    digest = CharField(max_length=64, null=True)
    received_at = BigIntegerField()

    class Meta:
        table_name = "refusals"
        indexes = ((("device_id", "seq"), False),)


class FailedScan(BaseModel):
    """A scan a kiosk refused (issue 11): when, why, and the badge's number and serial when
    it was one of ours. The fleet page lists them, so a revoked badge tried three times this
    morning, or a poster's QR code the camera keeps reading, is seen at the center."""
    id = CharField(primary_key=True, max_length=36)    # the kiosk's id for it (its event's payload)
    device_id = CharField(max_length=64)
    station = CharField()
    at = BigIntegerField()                             # on the server's clock
    code = CharField(max_length=32)
    vid = CharField(max_length=32, null=True)
    serial = BigIntegerField(null=True)
    received_at = BigIntegerField()

    class Meta:
        table_name = "failed_scans"
        # The fleet page and the daily cap read by arrival (received_at); the old (…, at)
        # indexes stay for the kiosk's own time order.
        indexes = ((("station", "at"), False), (("device_id", "at"), False),
                   (("device_id", "received_at"), False), (("received_at",), False))


class ChangeRow(BaseModel):
    """The change log kiosks pull; `version` is the cursor. station NULL: for every kiosk."""
    version = BigAutoField()
    kind = CharField(max_length=32)
    key = CharField()
    station = CharField(null=True)
    data = TextField(null=True)               # JSON; NULL: deleted
    created_at = BigIntegerField()

    class Meta:
        table_name = "changes"


class Activity(BaseModel):
    id = CharField(primary_key=True, max_length=64)
    station = CharField(null=True)            # a site's code (its stations and below); NULL: every station
    title = CharField()
    category = CharField(default="志愿服务")
    starts_at = BigIntegerField()
    ends_at = BigIntegerField()
    place = CharField(default="")
    team = CharField(default="")
    capacity = IntegerField(null=True)
    description = TextField(default="")
    rules = TextField(null=True)              # JSON overrides of the hours rules
    # Closed early by a coordinator at a kiosk of its station (an activity_closed event):
    # server time, and the coordinator's number.
    closed_at = BigIntegerField(null=True)
    closed_by = CharField(null=True, max_length=32)
    cancelled_at = BigIntegerField(null=True)  # cancelled at the center: gone from the kiosks
    signup_token = CharField(null=True, unique=True, max_length=32)   # its public sign-up page: /signup/TOKEN


class Volunteer(BaseModel):
    vid = CharField(primary_key=True, max_length=32)
    name = CharField()
    team = CharField(default="")              # one or more team names, separated by "、"
    role = CharField(default="volunteer")
    phone = CharField(default="")
    station = CharField(null=True)            # whose kiosks get this roster row
    status = CharField(default="active")      # active / inactive

    class Meta:
        # A site's roster, and a search by name or number in it, from the index alone
        # (migration 0012_center_scale_indexes; replaces the index on station)
        indexes = ((("station", "name", "vid"), False),)


class Badge(BaseModel):
    """A badge the center issued (serials are never reused: `weiguang badge issue` logs
    its serials in KEYS/issued.csv, and the center takes the next after both)."""
    serial = BigIntegerField(primary_key=True)
    vid = CharField(max_length=32, index=True)
    role = CharField(default="volunteer")
    expires = CharField()                     # ISO date
    issued_at = BigIntegerField()
    revoked_at = BigIntegerField(null=True)

    class Meta:
        table_name = "badges"


class Revocation(BaseModel):
    serial = BigIntegerField(primary_key=True)
    vid = CharField(default="")
    revoked_at = BigIntegerField()


class RuleSet(BaseModel):
    scope = CharField(primary_key=True)       # "" for the center's defaults, else a station code
    overrides = TextField()                   # JSON

    class Meta:
        table_name = "rules"


class PublishedKey(BaseModel):
    kid = CharField(primary_key=True)
    public_key = CharField()                  # base64 raw Ed25519

    class Meta:
        table_name = "public_keys"


class HoursSession(BaseModel):
    """A check-in and its check-out as the server rebuilt them; minutes are authoritative."""
    id = CharField(primary_key=True, max_length=36)   # the kiosk's session_id
    vid = CharField(max_length=32)
    serial = BigIntegerField()
    role = CharField(default="volunteer")
    station = CharField()
    device_id = CharField()
    activity_id = CharField(null=True)
    check_in_at = BigIntegerField()
    check_out_at = BigIntegerField(null=True)
    closed_by = CharField(null=True)          # scan / auto / coordinator / late
    closed_by_vid = CharField(null=True)      # the coordinator who checked the volunteer out
    minutes = IntegerField(null=True)
    kiosk_minutes = IntegerField(null=True)   # what the kiosk showed, for comparison
    flags = CharField(default="")             # comma-separated sync.hours FLAG_*
    state = CharField(default="open")         # sync.hours STATES: open / closed / review / approved / …

    class Meta:
        table_name = "sessions"
        # The review queue, oldest first, from the index alone (migration
        # 0012_center_scale_indexes): the network's by (state, check_in_at, id), a
        # station's or a district's by (station, state, check_in_at, id).
        indexes = ((("vid", "check_in_at"), False), (("state", "check_in_at", "id"), False),
                   (("station", "state", "check_in_at", "id"), False),
                   # The reports' one pass (services.reports; migration 0015_reports_covering_index).
                   (("station", "vid", "activity_id", "check_in_at", "state", "minutes"), False))


class ServiceRequest(BaseModel):
    id = CharField(primary_key=True, max_length=36)   # the event id
    number = CharField(unique=True)           # what the resident keeps; one order per number
    station = CharField()
    device_id = CharField()
    service = CharField()
    phone = CharField()
    note = TextField(default="")
    # services.service_requests STATES: submitted / reviewed / rejected / dispatched / open /
    # accepted / completed / rated / closed ("ordered": before the state machine, = submitted)
    state = CharField(default="submitted")
    created_at = BigIntegerField()
    team = IntegerField(null=True)            # the team holding it (dispatched, accepted, …)
    updated_at = BigIntegerField(null=True)   # the last transition
    dispatched_at = BigIntegerField(null=True)  # for the time-out back to dispatch
    reason = TextField(null=True, default="")            # why it was rejected
    report = TextField(null=True, default="")            # the team's short report on completion
    minutes = IntegerField(null=True)         # the time the service took (hours credited)
    volunteers = TextField(null=True, default="")        # vids who delivered it, separated by ","
    rating = IntegerField(null=True)          # 1-5, the resident's
    comments = TextField(null=True, default="")          # the resident's chosen comments, separated by ","
    details = TextField(null=True, default="")           # added by the resident on their phone page
    closed_at = BigIntegerField(null=True)
    phone_erased_at = BigIntegerField(null=True)  # the number deleted a set time after closing

    class Meta:
        table_name = "service_requests"


class CoordinatorPin(BaseModel):
    """A coordinator's kiosk PIN, set at the center: only its argon2 hash, never the PIN."""
    vid = CharField(primary_key=True, max_length=32)
    pin_hash = CharField()
    set_at = BigIntegerField()
    set_by = CharField()

    class Meta:
        table_name = "coordinator_pins"


class ActivitySignup(BaseModel):
    """A resident's or volunteer's sign-up on an activity's public page (one per phone).
    The phone is kept until `services.signups.RETENTION_DAYS` after the activity ends."""
    id = BigAutoField()
    activity_id = CharField(max_length=64, index=True)
    phone = CharField(null=True, max_length=11)   # NULL once purged
    name = CharField(default="", max_length=40)
    created_at = BigIntegerField()

    class Meta:
        table_name = "activity_signups"
        indexes = ((("activity_id", "phone"), True),)


class ServiceMenu(BaseModel):
    """A center's (or any site's) service menu for the kiosks below it (sync.service_menu)."""
    site = CharField(primary_key=True, max_length=32)
    items = TextField()                       # JSON: [{"service", "presets": [...]}]
    updated_at = BigIntegerField()

    class Meta:
        table_name = "service_menus"


class RequestTransition(BaseModel):
    """Every move of a service request from one state to another: who, when, why."""
    id = BigAutoField()
    request_id = CharField(max_length=36, index=True)
    from_state = CharField(max_length=16)
    to_state = CharField(max_length=16)
    action = CharField(max_length=16)
    actor = CharField()                       # a username, "resident", "system", a kiosk
    team = IntegerField(null=True)
    note = TextField(default="")
    at = BigIntegerField()

    class Meta:
        table_name = "request_transitions"


class Certificate(BaseModel):
    """A service-record certificate (志愿服务记录证明) as issued: what it certified, by whom.
    The number carries an HMAC check part (`services.certificates`), so a number made up
    or altered is refused before the table is read."""
    number = CharField(primary_key=True, max_length=40)
    vid = CharField(max_length=32, index=True)
    name = CharField()
    site = CharField(null=True)               # the volunteer's station when issued
    start = CharField(max_length=10)          # ISO dates, both included
    end = CharField(max_length=10)
    minutes = IntegerField()
    stars = IntegerField(default=0)
    lines = TextField()                       # JSON: [{"activity","date","minutes","place"}]
    organisation = CharField()                # the issuing site's name
    organisation_site = CharField(null=True)  # its code (None: the whole network)
    signer = CharField(default="")            # the person in charge
    contact = CharField(default="")
    issuer = CharField()                      # the username who issued it
    issued_at = BigIntegerField()

    class Meta:
        table_name = "certificates"


MODELS = [Migration, User, ApiToken, AuditEntry, Site, Team, Badge, Device, EnrollCode, StoredEvent, Refusal,
          ChangeRow, Activity, Volunteer, Revocation, RuleSet, PublishedKey, HoursSession, ServiceRequest,
          CoordinatorPin, ActivitySignup, RequestTransition, ServiceMenu, Certificate, FailedScan]
