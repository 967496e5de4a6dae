from __future__ import annotations

from fastapi import APIRouter

from sync.protocol import Health
from sync.server import db
from sync.server.api.errors import _doc, now

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=Health, responses={503: _doc("The database does not answer")})
def health() -> Health:
    """Liveness for load balancers and kiosks: the database answers a query."""
    with db.reading():
        db.db.execute_sql("SELECT 1")
    return Health(status="ok", database=db.describe(), server_time=now())
