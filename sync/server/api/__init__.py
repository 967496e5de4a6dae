"""The HTTP layer: one router per resource under `sync.protocol.API_PREFIX`. A route
parses (FastAPI + the pydantic models of `sync.protocol`), calls a service, and answers;
a service's `ServiceError` becomes an `ErrorBody` by its code (`api.errors`).
"""
