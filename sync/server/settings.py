"""The server's one settings object (pydantic-settings), read from the environment.

    >>> settings = ServerSettings(data_dir="/srv/weiguang")        # tests pass values directly
    >>> settings.database                                           # sqlite:////srv/weiguang/weiguang.db

Environment: ``DATABASE_URL`` (PostgreSQL in production, e.g.
``postgresql://user:pw@db/weiguang``; the SQLite file in the data dir when unset) and
``WEIGUANG_*`` for the rest (``WEIGUANG_DATA_DIR``, ``WEIGUANG_ENV``, ``WEIGUANG_SECRET_KEY``…).
The dashboard's session key is WEIGUANG_SECRET_KEY or else a random one kept in DATA/secret_key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

import limits
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync import protocol

# The session-signing key comes from WEIGUANG_SECRET_KEY (several servers behind one load
# balancer share it) or else from DATA/secret_key, made at random on first use (0600).
SECRET_FILE = "secret_key"
MIN_SECRET_CHARS = 32


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEIGUANG_", extra="ignore")

    data_dir: Path = Path("server-data")
    # Unprefixed, as every hosting platform names it.
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL", "database_url"))
    env: Literal["development", "production"] = "development"
    # Signs coordinator dashboard sessions; never the default in production.
    secret_key: str | None = None
    pool_size: int = Field(default=20, ge=1)

    # Limits (the wire's hard limits stay in sync.protocol; these may only be lower).
    max_body_bytes: int = Field(default=protocol.MAX_BODY_BYTES, ge=1024, le=protocol.MAX_BODY_BYTES)
    page_size: int = Field(default=protocol.PAGE_SIZE, ge=1, le=protocol.PAGE_SIZE)
    enroll_code_hours: float = Field(default=24, gt=0)

    # Admission control for pushes (app.PushGate): at most `push_concurrency` pushes read,
    # validated and queued for the group writer at once; up to `push_queue` more wait, body
    # unread (a socket buffer each, ~64 KiB at most), at most `push_wait_seconds` (under a
    # kiosk's 30 s read timeout, with room for the commit) for a slot; beyond that a push
    # is answered 503 busy with Retry-After.
    push_concurrency: int = Field(default=64, ge=1)
    push_queue: int = Field(default=2048, ge=0)
    push_wait_seconds: float = Field(default=20, gt=0)
    # Pushes of one device admitted or waiting for a slot at once, and as many again
    # waiting behind them (a kiosk pushes one batch at a time; a retry beside a slow
    # answer, or the CLI beside the app, makes two or three). Beyond: 429 rate_limited at
    # once, so one token, slow or stolen, cannot hold the slots (or the queue) of many.
    push_per_device: int = Field(default=8, ge=1)
    # A request body (every POST) must arrive completely within this many seconds of the
    # server starting to read it (for a push: once admitted), else 408 body_timeout and
    # the connection is closed: a slow sender cannot hold a slot. A kiosk's batch of 200
    # check-ins is ~72 KB: under a second at 100 KB/s.
    body_timeout_seconds: float = Field(default=5, gt=0)
    # Enrolment attempts per client address (the `limits` notation: "10/minute",
    # "100/hour"), counted in memory; beyond it 429 rate_limited with Retry-After.
    enroll_rate_limit: str = "10/minute"

    # Review thresholds for server-side session flags (sync.hours FLAG_*).
    offline_after_seconds: int = 3600          # recorded_offline: reached us this long after it happened
    clock_skew_ms: int = 5 * 60 * 1000         # clock_skew: kiosk clock off by more than this
    two_stations_seconds: int = 30 * 60        # two_stations: same vid at two stations within this
    future_tolerance_seconds: int = 5 * 60     # future_time: later than our clock (+ the kiosk's offset) by more

    # The dashboard's log-in limits (services.accounts): tries per minute from one address
    # and for one username; wrong passwords in a row before the account locks.
    login_per_client_per_minute: int = Field(default=20, ge=1)
    login_per_username_per_minute: int = Field(default=10, ge=1)

    # Printed on service-record certificates (services.certificates): the person in charge
    # of the issuing organisation and a contact (a telephone), unless the request names them.
    certificate_signer: str = ""
    certificate_contact: str = ""

    log_level: str = "INFO"
    # The address residents' phones reach this server at (e.g. https://weiguang.example.cn), for
    # the sign-up links in activities' QR codes; unset: a path, which kiosks complete with theirs.
    public_url: str | None = Field(default=None, max_length=200)

    @field_validator("secret_key")
    @classmethod
    def _a_real_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value) < MIN_SECRET_CHARS:
            raise ValueError(f"WEIGUANG_SECRET_KEY must be at least {MIN_SECRET_CHARS} random characters")
        return value

    def session_secret(self) -> str:
        """The key that signs dashboard sessions: WEIGUANG_SECRET_KEY, else DATA/secret_key,
        made at random the first time. Never a value written in the source: a known key
        would let anyone forge an administrator's session."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / SECRET_FILE
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:   # another server process made it first
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
        secret = path.read_text().strip()
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"{path} holds no usable key; remove it to make a new one")
        return secret

    @field_validator("enroll_rate_limit")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        try:
            limits.parse(value)
        except ValueError as exc:
            raise ValueError(f"not a rate such as '10/minute': {value!r}") from exc
        return value

    @property
    def database(self) -> str:
        """The URL to open: DATABASE_URL, else the SQLite file in the data dir."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'weiguang.db').resolve()}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"
