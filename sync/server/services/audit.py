"""The audit log: every change made at the center writes one row (who, when, what, before,
after, why), in the same transaction as the change itself.

    >>> with writing():
    ...     record(actor, "badge.revoke", "badge", "17", site="WBY", before={...}, after={...})
    >>> entries(scope, limit=50)                 # newest first, only rows of the scope's sites
"""

from __future__ import annotations

import json
import time

from sync.server.db import reading
from sync.server.models import AuditEntry


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record(actor: str, action: str, object_type: str, object_id: str, site: str | None = None,
           before=None, after=None, reason: str = "") -> None:
    """Write one row; call inside the `writing()` that makes the change."""
    AuditEntry.create(at=int(time.time()), actor=actor, action=action, object_type=object_type,
                      object_id=str(object_id), site=site, before=_json(before), after=_json(after),
                      reason=reason or "")


def as_dict(row: AuditEntry) -> dict:
    return {"id": row.id, "at": row.at, "actor": row.actor, "action": row.action,
            "object_type": row.object_type, "object_id": row.object_id, "site": row.site,
            "before": json.loads(row.before) if row.before else None,
            "after": json.loads(row.after) if row.after else None, "reason": row.reason}


def entries(scope, limit: int = 100, object_id: str | None = None) -> list[dict]:
    """The newest rows about objects in `scope` (a `services.scope.Scope`)."""
    with reading():
        query = AuditEntry.select().order_by(AuditEntry.id.desc()).limit(limit)
        query = query.where(scope.where(AuditEntry.site))
        if object_id is not None:
            query = query.where(AuditEntry.object_id == object_id)
        return [as_dict(r) for r in query]
