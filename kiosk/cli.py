"""The `weiguang` command: parse, call, print. Heavy modules are imported inside the
handlers so that `weiguang kiosk scan` does not pay for Kivy or FastAPI.

Every command that prints a result prints one JSON object per line (with `--json`,
or by nature, as `decode` and `kiosk scan` do). The invocations in DESIGN.md are a
contract: add options freely, keep those working.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path


def emit(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str), flush=True)


def fail(message: str, code: int = 2) -> int:
    print(f"weiguang: {message}", file=sys.stderr)
    return code


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2029-12-31") from None


def parse_when(text: str) -> int:
    """ISO 8601 to Unix seconds; a time without an offset is the station's (Asia/Shanghai)."""
    from zoneinfo import ZoneInfo
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time like 2026-11-30T09:00+08:00") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return int(when.timestamp())


def existing_store(path: str):
    if not Path(path).exists():
        raise SystemExit(fail(f"no kiosk database at {path}: run `weiguang kiosk init` first"))
    return usable_store(path)


def usable_store(path: str):
    """The store, or exit with the reason it cannot be used (damaged, empty, read-only)."""
    from kiosk.store import StoreError, open_store
    try:
        return open_store(path)
    except StoreError as exc:
        raise SystemExit(fail(str(exc)))


# --- keys and badges ---------------------------------------------------------------------

def cmd_keys_init(args) -> int:
    from sync.badges import init_keys, public_key_b64
    key = init_keys(Path(args.dir))
    emit({"kid": key.kid, "public_key": public_key_b64(key.public_key), "dir": args.dir})
    return 0


def cmd_badge_issue(args) -> int:
    from sync.badges import issue, load_signing_key
    from sync.roster import IssueLog, RosterEntry, RosterError, read_roster
    key = load_signing_key(Path(args.keys))
    if args.csv:
        try:
            entries = read_roster(args.csv)
        except (RosterError, OSError) as exc:
            return fail(str(exc))
    elif args.vid and args.name:
        entries = [RosterEntry(args.vid, args.name, args.team or "", args.role)]
    else:
        return fail("give --vid and --name for one badge, or --csv ROSTER.csv")
    expires = args.expires or date.today() + timedelta(days=3 * 365)
    log = IssueLog(args.keys)
    serial = args.serial or log.next_serial()
    cards = []
    for entry in entries:
        try:
            token = issue(key, entry.vid, serial, entry.role, expires)
        except ValueError as exc:
            return fail(f"{entry.vid}: {exc}")
        log.append(serial, entry.vid, entry.name, entry.role, expires)
        cards.append({"token": token, "name": entry.name, "team": entry.team, "vid": entry.vid,
                      "role": entry.role, "serial": serial})
        serial += 1
    out = args.out
    if out == "-":
        for card in cards:
            print(card["token"])
        return 0
    from sync import printing
    if out.lower().endswith(".pdf"):
        printing.badge_sheet_pdf(cards, out)
    elif out.lower().endswith(".png"):
        if len(cards) != 1:
            return fail("a .png holds one badge; use a .pdf for a roster")
        c = cards[0]
        printing.badge_png(c["token"], c["name"], c["team"], c["vid"], c["role"], out)
    else:
        return fail("--out must end in .png or .pdf, or be - for token text")
    emit({"out": out, "badges": len(cards), "serials": [c["serial"] for c in cards]})
    return 0


def cmd_badge_verify(args) -> int:
    from sync.badges import KeyRing, load_public_keys, verify
    revoked = {int(s) for s in args.revoked.split(",") if s} if args.revoked else set()
    check = verify(args.text, KeyRing(load_public_keys(Path(args.keys)), revoked))
    emit(check.as_dict())
    return 0


def cmd_decode(args) -> int:
    from kiosk.scanner.cli import decode_command
    return decode_command(args.images)


# --- the kiosk ---------------------------------------------------------------------------

def cmd_kiosk_init(args) -> int:
    from kiosk.store import TrustedKey, valid_timezone
    from sync.badges import load_public_keys, public_key_b64
    if not valid_timezone(args.timezone):   # "Asia/Beijing" is not a zone: every scan would fail
        return fail(f"unknown time zone {args.timezone!r}; China's is Asia/Shanghai")
    store = usable_store(args.db)
    store.settings.set(station={"code": args.code or args.station, "name": args.station,
                                "timezone": args.timezone})
    if args.keys:
        for kid, public in load_public_keys(Path(args.keys)).items():
            TrustedKey.replace(kid=kid, public_key=public_key_b64(public)).execute()
    if args.roster:
        from kiosk.store import Volunteer
        from sync.roster import RosterError, read_roster
        try:
            entries = read_roster(args.roster)
        except RosterError as exc:
            return fail(str(exc))
        for e in entries:
            # No phone number: a kiosk never needs one (privacy at rest).
            Volunteer.replace(vid=e.vid, name=e.name, team=e.team, role=e.role).execute()
    emit({"db": args.db, "station": args.station, "device_id": store.settings.get("device_id"),
          "trusted_keys": sorted(store.public_keys())})
    return 0


def cmd_kiosk_scan(args) -> int:
    from kiosk.attendance import Attendance
    store = existing_store(args.db)
    emit(Attendance(store).scan(args.text, at=args.at, activity_id=args.activity).as_dict())
    return 0


def cmd_kiosk_request(args) -> int:
    from kiosk.orders import take_order
    store = existing_store(args.db)
    emit(take_order(store, args.service, args.phone, args.note or "").as_dict())
    return 0


def cmd_kiosk_lookup(args) -> int:
    from kiosk.orders import lookup
    emit(lookup(existing_store(args.db), args.number, args.last4).as_dict())
    return 0


def cmd_kiosk_rate(args) -> int:
    from kiosk.orders import rate
    emit(rate(existing_store(args.db), args.number, args.last4, args.rating, args.comment or []).as_dict())
    return 0


def cmd_kiosk_run(args) -> int:
    from kiosk.app import run
    from kiosk.store import StoreError
    try:
        return run(db_path=args.db, replay=args.replay, fullscreen=args.fullscreen, language=args.language,
                   log_level=args.log_level)
    except StoreError as exc:   # before any window opens: said plainly, no traceback
        return fail(str(exc))


def cmd_kiosk_enroll(args) -> int:
    from sync.client import EnrollError, enroll
    store = existing_store(args.db)
    try:
        answer = enroll(store, args.server, args.code)
    except EnrollError as exc:
        emit({"enrolled": False, "code": exc.code, "message": str(exc)})
        return 1
    emit({"enrolled": True, "device_id": answer.device_id, "kiosk_number": answer.kiosk_number,
          "station": answer.station.model_dump()})
    return 0


def cmd_sync(args) -> int:
    import logging
    logging.basicConfig(level=getattr(logging, args.log_level), format="%(levelname)s %(name)s: %(message)s")
    from sync.client import SyncAgent
    store = existing_store(args.db)
    status = SyncAgent(store).sync_once()
    emit(status)
    return 0 if status.get("ok") else 1


def cmd_demo(args) -> int:
    from kiosk.demo import main as demo_main
    return demo_main(args)


# --- the server --------------------------------------------------------------------------

def cmd_server(args) -> int:
    from sync.server import cli as server_cli
    return getattr(server_cli, args.server_command.replace("-", "_"))(args)


def add_log_level(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log-level", default="INFO", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                   help="how much the log says (default INFO)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="weiguang", description="微光 Weiguang: volunteer kiosks and their center")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="demo data, a local server and a kiosk with a replayed camera")
    p.add_argument("--dir", default="demo-data", help="where the demo keeps its files (default: ./demo-data)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--no-window", action="store_true", help="set everything up, run the server, but open no kiosk window")
    p.add_argument("--language", default="zh_CN", choices=["zh_CN", "en"])
    add_log_level(p)
    p.set_defaults(func=cmd_demo)

    keys = sub.add_parser("keys", help="the center's badge-signing keys").add_subparsers(dest="keys_command", required=True)
    p = keys.add_parser("init", help="make a new Ed25519 signing key (older keys keep verifying)")
    p.add_argument("--dir", required=True)
    p.set_defaults(func=cmd_keys_init)

    badge = sub.add_parser("badge", help="issue and verify badges").add_subparsers(dest="badge_command", required=True)
    p = badge.add_parser("issue", help="one badge (--vid/--name) or a roster (--csv) to .png, .pdf or - (token text)")
    p.add_argument("--keys", required=True)
    p.add_argument("--vid")
    p.add_argument("--name")
    p.add_argument("--team")
    p.add_argument("--role", default="volunteer", choices=["volunteer", "coordinator"])
    p.add_argument("--expires", type=parse_date, help="YYYY-MM-DD (default: three years)")
    p.add_argument("--serial", type=int, help="first serial (default: next after KEYS/issued.csv)")
    p.add_argument("--csv", help="roster CSV: vid,name[,team,role,phone]")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_badge_issue)
    p = badge.add_parser("verify", help="check a badge text offline")
    p.add_argument("--keys", required=True)
    p.add_argument("--revoked", help="comma-separated revoked serials")
    p.add_argument("text")
    p.set_defaults(func=cmd_badge_verify)

    p = sub.add_parser("decode", help="decode the QR codes in image files")
    p.add_argument("images", nargs="+")
    p.set_defaults(func=cmd_decode)

    kiosk = sub.add_parser("kiosk", help="the station kiosk").add_subparsers(dest="kiosk_command", required=True)
    p = kiosk.add_parser("init", help="a standalone kiosk database trusting KEYS' public keys")
    p.add_argument("--db", required=True)
    p.add_argument("--station", required=True, help="station name, e.g. 文博苑社区")
    p.add_argument("--code", help="station code (default: the name)")
    p.add_argument("--keys")
    p.add_argument("--timezone", default="Asia/Shanghai")
    p.add_argument("--roster", help="roster CSV, so the screen can greet volunteers by (masked) name")
    p.set_defaults(func=cmd_kiosk_init)
    p = kiosk.add_parser("scan", help="decide and record one scanned text")
    p.add_argument("--db", required=True)
    p.add_argument("--at", type=parse_when, help="ISO 8601 time of the scan (replaying a log or paper sheet)")
    p.add_argument("--activity", help="the activity picked when two are open")
    p.add_argument("text")
    p.set_defaults(func=cmd_kiosk_scan)
    p = kiosk.add_parser("request", help="a resident's service order (点单)")
    p.add_argument("--db", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--phone", required=True)
    p.add_argument("--note")
    p.set_defaults(func=cmd_kiosk_request)
    p = kiosk.add_parser("lookup", help="a request's state, by its number and the phone's last four digits")
    p.add_argument("--db", required=True)
    p.add_argument("--number", required=True)
    p.add_argument("--last4", required=True)
    p.set_defaults(func=cmd_kiosk_lookup)
    p = kiosk.add_parser("rate", help="a resident's rating (评单) of a completed request, queued for the center")
    p.add_argument("--db", required=True)
    p.add_argument("--number", required=True)
    p.add_argument("--last4", required=True)
    p.add_argument("--rating", type=int, required=True, help="1 to 5")
    p.add_argument("--comment", action="append", help="one of the preset comments; repeat for more")
    p.set_defaults(func=cmd_kiosk_rate)
    p = kiosk.add_parser("run", help="the touchscreen app")
    p.add_argument("--db", default="kiosk.db")
    p.add_argument("--replay", help="a folder of images or a video played as the camera")
    p.add_argument("--fullscreen", action="store_true")
    p.add_argument("--language", choices=["zh_CN", "en"])
    add_log_level(p)
    p.set_defaults(func=cmd_kiosk_run)
    p = kiosk.add_parser("enroll", help="enrol this kiosk with a center using a one-time code")
    p.add_argument("--db", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("code")
    p.set_defaults(func=cmd_kiosk_enroll)

    p = sub.add_parser("sync", help="one push+pull round with the center")
    p.add_argument("--db", required=True)
    add_log_level(p)
    p.set_defaults(func=cmd_sync)

    server = sub.add_parser("server", help="the central server").add_subparsers(dest="server_command", required=True)
    p = server.add_parser("init", help="database, signing keys in DIR/keys, an admin account")
    p.add_argument("--data", required=True)
    p.add_argument("--admin-password", help="default: generated and printed once")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_server)
    p = server.add_parser("code", help="a one-time kiosk enrolment code")
    p.add_argument("--data", required=True)
    p.add_argument("--station", required=True, help="a station's code or exact name (it must be in the network)")
    p.add_argument("--hours", type=float, default=24, help="valid for (default 24)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_server)
    sites = server.add_parser("sites", help="the network: centers, institutes, stations").add_subparsers(
        dest="sites_command", required=True)
    p = sites.add_parser("import", help="load or update sites from CSV (code,name,tier,parent[,timezone]); "
                                        "nothing is loaded while any row is wrong")
    p.add_argument("--data", required=True)
    p.add_argument("file", help="SITES.csv: UTF-8 (with or without BOM) or GBK")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_server)
    users = server.add_parser("user", help="accounts for the center's dashboard").add_subparsers(
        dest="user_command", required=True)
    p = users.add_parser("add", help="an account at one site; it acts on that site's subtree only")
    p.add_argument("--data", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--site", required=True, help="the site's code")
    p.add_argument("--role", default="coordinator", choices=["center_admin", "coordinator", "team_leader"])
    p.add_argument("--password", help="default: generated and printed once")
    p.add_argument("--replace", action="store_true",
                   help="reset an existing account (new password; its sessions and tokens end; enabled again)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_server)
    p = users.add_parser("disable", help="no more log-in, sessions or API tokens for this account "
                                         "(`user add --replace` with a new password enables it again)")
    p.add_argument("--data", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_server)
    p = server.add_parser("team", help="a volunteer team at a site, and its leader's account")
    p.add_argument("--data", required=True)
    p.add_argument("--site", required=True, help="the site's code")
    p.add_argument("--name", required=True)
    p.add_argument("--leader", help="a team_leader account: its team becomes this one")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_server)
    p = server.add_parser("token", help="an API token with a user's scope (Authorization: Bearer)")
    p.add_argument("--data", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--revoke", action="store_true", help="revoke every API token of this user instead")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_server)
    p = server.add_parser("devices", help="every kiosk: station, last seen, pending, refused, clock offset")
    p.add_argument("--data", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_server)
    p = server.add_parser("revoke-device", help="revoke a kiosk: its next request is refused (403 device_revoked)")
    p.add_argument("--data", required=True)
    p.add_argument("device_id")
    p.add_argument("--reason")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_server)
    p = server.add_parser("run", help="serve the API and the dashboard")
    p.add_argument("--data", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1,
                   help="server processes on this port (PostgreSQL only; SQLite has a single writer)")
    p.set_defaults(func=cmd_server)
    p = server.add_parser("migrate", help="apply pending database migrations (DATABASE_URL or the data folder's SQLite)")
    p.add_argument("--data", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_server)
    p = server.add_parser("copy-to-postgres", help="copy the data folder's SQLite database into an empty PostgreSQL "
                                                   "database (stop the server first)")
    p.add_argument("--data", required=True)
    p.add_argument("--to", required=True, metavar="URL", help="postgresql://user@host/database (empty)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_server)
    p = server.add_parser("stats", help="counts of events, sessions, requests, devices")
    p.add_argument("--data", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_server)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except FileNotFoundError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if type(exc).__name__ == "StoreError":   # kiosk.store, not imported here: a full disk, a read-only file
            return fail(str(exc))
        raise


if __name__ == "__main__":
    sys.exit(main())
