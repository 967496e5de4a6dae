"""The server's logic, one module per resource; the HTTP layer (`sync.server.api`) only
parses, calls these, and maps a `ServiceError`'s stable `code` to an answer.

Loading data (what the demo and tests call; each write appends to the change log that
kiosks pull)::

    from sync.server.services import changes, devices
    changes.upsert_station("dgj", "东关街站", institute="东关街道所", center="广陵区中心")
    changes.upsert_activity("a1", "义诊", starts_at=..., ends_at=..., station="dgj")
    changes.import_roster(read_roster("roster.csv"), station="dgj")
    changes.revoke_badge(17, vid="14020200001")
    changes.set_rules({"rounding_minutes": 30})            # center default; station= to override
    code = devices.make_enroll_code("dgj")                  # for `weiguang kiosk enroll`
"""

from __future__ import annotations


class ServiceError(Exception):
    """A domain refusal with a stable, machine-readable code (the API answers it as-is)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
