"""The central server (FastAPI): kiosks enrol, push events, pull changes.

    weiguang server init --data DIR            # database, DIR/keys, admin account
    weiguang server code --data DIR --station 东关街站 --json
    weiguang server run --data DIR --port 8000 # DATABASE_URL=postgresql://… for PostgreSQL

In Python (tests, the demo)::

    from sync.server.app import create_app
    from sync.server.settings import ServerSettings
    app = create_app(ServerSettings(data_dir="DIR"))

Layout: `settings` (one pydantic-settings object), `db` (opening, transactions,
migrations), `models` (tables), `services/` (the logic, raising `ServiceError(code)`),
`api/` (one router per resource: parse, call, answer), `app` (create_app, and the push
admission gate), `cli`. Pushes are committed in groups by one writer thread
(`services/writer.py`); over `settings.push_concurrency` a push waits, then gets 503 busy.
"""
