"""`weiguang server init|code|run|stats` (the parser lives in kiosk/cli.py; these are the
handlers). Each takes the parsed args and returns the exit code::

    weiguang server init --data DIR [--admin-password PW] [--json]
    weiguang server code --data DIR --station NAME [--hours H] [--json]   # {"code": "ABCD-EFGH-JKMN", ...}
    weiguang server run --data DIR [--host H] [--port P] [--workers N]    # DATABASE_URL overrides SQLite
    weiguang server stats --data DIR --json
    weiguang server migrate --data DIR [--json]                          # {"applied": [...], ...}
    weiguang server copy-to-postgres --data DIR --to URL [--json]        # {"tables": {...}, "rows": N}
    weiguang server sites import --data DIR SITES.csv [--json]        # code,name,tier,parent[,timezone]
    weiguang server user add --data DIR --username U --site CODE [--role R] [--password P] [--json]
    weiguang server team --data DIR --site CODE --name NAME [--leader U] [--json]   # {"id", "site", "name"}
    weiguang server token --data DIR --username U --json                # {"token": "wgu_…"}
    weiguang server devices --data DIR --json                            # {"devices": [...]}
    weiguang server revoke-device --data DIR DEVICE_ID [--reason R] [--json]

A refusal (a wrong row, an unknown station) exits 1 with the reason on stderr, or as
{"error": code, "message": ..., ...} with --json.
"""

from __future__ import annotations

import json
from pathlib import Path

from sync.server.settings import ServerSettings


def _emit(args, obj: dict, text: str) -> None:
    print(json.dumps(obj, ensure_ascii=False) if getattr(args, "json", False) else text, flush=True)


def _open(args) -> ServerSettings:
    from sync.server import db
    settings = ServerSettings(data_dir=Path(args.data))
    db.open_database(settings)
    db.migrate()
    return settings


def init(args) -> int:
    """The database, the center's signing key in DIR/keys, an admin account (idempotent:
    an existing key and account are kept unless --admin-password resets it)."""
    from sync.badges import init_keys, load_signing_key
    from sync.server import db
    from sync.server.services import admin, changes
    settings = _open(args)
    key = load_signing_key(settings.keys_dir) if (settings.keys_dir / "current").exists() \
        else init_keys(settings.keys_dir)
    changes.publish_public_keys(settings.keys_dir)
    password = None
    if args.admin_password or not admin.admin_exists():
        password = admin.create_admin("admin", args.admin_password)
    generated = password if password and not args.admin_password else None
    text = f"server data in {settings.data_dir} ({db.describe()}); signing key {key.kid} in {settings.keys_dir}"
    if generated:
        text += f"\nadmin password (shown once): {generated}"
    _emit(args, {"data": str(settings.data_dir), "database": db.describe(), "kid": key.kid,
                 "keys": str(settings.keys_dir), "admin": "admin", "admin_password": generated,
                 "migrations": db.applied_migrations()}, text)
    return 0


def _refuse(args, exc, **extra) -> int:
    """A service refusal: one JSON line with --json, else the message on stderr; exit 1."""
    import sys
    if getattr(args, "json", False):
        print(json.dumps({"error": exc.code, "message": exc.message, **extra}, ensure_ascii=False), flush=True)
    else:
        print(f"weiguang: {exc.message}", file=sys.stderr)
        for row in extra.get("rows", []):
            print(f"  line {row['line']}: {row['error']}", file=sys.stderr)
    return 1


def migrate(args) -> int:
    """`server migrate`: apply the pending migrations and say which (the server does it at
    start too; run it alone before starting several workers or servers after an upgrade)."""
    from sync.server import db
    settings = ServerSettings(data_dir=Path(args.data))
    db.open_database(settings)
    applied = db.migrate()
    _emit(args, {"database": db.describe(), "applied": applied, "migrations": db.applied_migrations()},
          f"{db.describe()}: " + (f"applied {', '.join(applied)}" if applied else "up to date"))
    return 0


def copy_to_postgres(args) -> int:
    """`server copy-to-postgres`: the data folder's SQLite database, every table, into an empty
    PostgreSQL database (services.move). Stop the server first; then start it with
    DATABASE_URL set to the target. The SQLite file is left as it was (keep it as a backup)."""
    import sys

    from sync.server.services import ServiceError, move
    path = Path(args.data) / "weiguang.db"

    def progress(table: str, rows: int) -> None:
        if not getattr(args, "json", False):
            print(f"  {table}: {rows:,} rows", file=sys.stderr, flush=True)
    try:
        result = move.copy_to_postgres(path, args.to, progress=progress)
    except ServiceError as exc:
        return _refuse(args, exc)
    _emit(args, result, f"copied {result['rows']:,} rows in {len(result['tables'])} tables from {path} "
                        f"to PostgreSQL; start the server with DATABASE_URL set to it")
    return 0


def code(args) -> int:
    from sync.server.services import ServiceError, devices
    _open(args)
    try:
        enrol_code = devices.make_enroll_code(args.station, hours=args.hours)
    except ServiceError as exc:
        return _refuse(args, exc)
    _emit(args, {"code": enrol_code, "station": args.station, "hours": args.hours},
          f"{enrol_code}  (station {args.station}, valid {args.hours:g} h, once)")
    return 0


def run(args) -> int:
    """Serve. --workers N (N > 1): N worker processes on one port (uvicorn's supervisor
    forks them and restarts one that dies), PostgreSQL only: SQLite has one writer, and
    its writes are serialised inside one process (db.writing), so a second process would
    only wait on the file lock. Every worker is stateless apart from brief caches (device
    tokens, TOKEN_CACHE_SECONDS; the network, a minute); admission limits (PushGate) and
    enrolment rate limits are counted per worker (see the README, "Several workers")."""
    import os
    import sys

    import uvicorn

    from sync.server.app import create_app
    settings = ServerSettings(data_dir=Path(args.data))
    workers = getattr(args, "workers", 1)
    if workers < 1:
        print("weiguang: --workers must be 1 or more", file=sys.stderr)
        return 2
    if workers > 1 and not settings.database.startswith("postgres"):
        print("weiguang: --workers > 1 needs PostgreSQL (set DATABASE_URL=postgresql://…): SQLite has a single "
              "writer, and a second server process would only queue behind it. Run one worker on SQLite.",
              file=sys.stderr)
        return 2
    # log_config=None: keep the JSON logging that create_app set up. backlog: the morning
    # after an outage every kiosk of the city connects at once (admission is app.PushGate's
    # job; uvicorn's own limit_concurrency would refuse pulls and health alike, without
    # Retry-After). httptools and uvloop (the server extra) are picked up when installed.
    if workers == 1:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_config=None, backlog=4096)
        return 0
    # Migrate once here, before the workers start (each would take the migration lock in turn).
    from sync.server import db
    db.open_database(settings)
    db.migrate()
    db.close_database()
    os.environ["WEIGUANG_DATA_DIR"] = str(settings.data_dir.resolve())   # read by each worker's settings
    uvicorn.run("sync.server.app:create_app", factory=True, workers=workers, host=args.host, port=args.port,
                log_config=None, backlog=4096)
    return 0


def stats(args) -> int:
    from sync.server.services.stats import stats as count
    _open(args)
    result = count()
    _emit(args, result, "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


def sites(args) -> int:
    """`server sites import`: the network from CSV, all or nothing."""
    from sync.server.services import sites as network
    from sync.server.services.csvfiles import ImportRefused
    _open(args)
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        import sys
        print(f"weiguang: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        count = network.import_sites(data)
    except ImportRefused as exc:
        return _refuse(args, exc, rows=[r.as_dict() for r in exc.rows])
    _emit(args, {"imported": count}, f"{count} sites loaded or updated")
    return 0


def user(args) -> int:
    """`server user add`: an account at one site (the password is printed once when generated);
    `server user disable`: no more log-in, sessions or tokens for it."""
    from sync.server.services import ServiceError, accounts
    _open(args)
    if args.user_command == "disable":
        try:
            accounts.disable_user(args.username)
        except ServiceError as exc:
            return _refuse(args, exc)
        _emit(args, {"username": args.username, "disabled": True}, f"account {args.username} disabled")
        return 0
    try:
        password = accounts.add_user(args.username, site=args.site, role=args.role, password=args.password,
                                     replace=args.replace)
    except ServiceError as exc:
        return _refuse(args, exc)
    generated = None if args.password else password
    text = f"account {args.username} ({args.role}) at {args.site}"
    if generated:
        text += f"\npassword (shown once): {generated}"
    _emit(args, {"username": args.username, "site": args.site, "role": args.role, "password": generated}, text)
    return 0


def team(args) -> int:
    """`server team`: a volunteer team at a site (kept if it exists); --leader makes a team
    leader's account the leader of it (the /team page shows them its service requests)."""
    from sync.server.services import ServiceError, service_requests, sites
    _open(args)
    try:
        made = sites.add_team(args.site, args.name)
        if args.leader:
            service_requests.set_team(args.leader, made.id)
    except ServiceError as exc:
        return _refuse(args, exc)
    _emit(args, {"id": made.id, "site": made.site, "name": made.name, "leader": args.leader},
          f"team {made.id} {made.name} at {made.site}" + (f", led by {args.leader}" if args.leader else ""))
    return 0


def token(args) -> int:
    """`server token`: an API token with the user's scope, for scripts and other systems."""
    from sync.server.services import ServiceError, accounts
    _open(args)
    try:
        if args.revoke:
            count = accounts.revoke_tokens(args.username)
            _emit(args, {"username": args.username, "revoked": count}, f"{count} tokens of {args.username} revoked")
            return 0
        value = accounts.make_token(args.username)
    except ServiceError as exc:
        return _refuse(args, exc)
    _emit(args, {"token": value, "username": args.username}, value)
    return 0


def devices(args) -> int:
    """`server devices`: every kiosk with its station, last seen and what it last reported."""
    from sync.server.services import fleet
    from sync.server.services.scope import CLI
    _open(args)
    items = fleet.kiosks(CLI)
    lines = [f"{k['id']}  {k['station']}  last seen {k['last_seen_at'] or 'never'}  pending {k['pending']}  "
             f"refused {k['refused']}{'  REVOKED' if k['revoked'] else ''}" for k in items]
    _emit(args, {"devices": items}, "\n".join(lines) or "no kiosks")
    return 0


def revoke_device(args) -> int:
    """`server revoke-device`: a stolen or replaced kiosk; its next request is refused."""
    from sync.server.services import ServiceError, fleet
    from sync.server.services.scope import CLI
    _open(args)
    try:
        item = fleet.revoke(CLI, args.device_id, "cli", reason=args.reason or "")
    except ServiceError as exc:
        return _refuse(args, exc)
    _emit(args, item, f"kiosk {item['id']} at {item['station']} revoked")
    return 0
