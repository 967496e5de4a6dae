"""Open an existing kiosk database as `weiguang kiosk run` does (its own store, its own sync
agent against the center it is enrolled with) and drive one journey through the real window.

    python -m tests.kiosk.ui.real_kiosk --db kiosk.db --journey order_offline --dir TMP [--param k=v]

The journeys are in tests/kiosk/ui/request_journeys.py; they take their parameters from
ctx.params and may wait for the test to go on: `ctx.signal("offline")` writes
DIR/offline.flag, `ctx.go("online")` waits for DIR/online.go (the test writes it). What the
screen said goes to DIR/result.json, as with harness.py. One journey per process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from tests.kiosk.ui.harness import Ctx, drive, until


class RealCtx(Ctx):
    params: dict = {}

    def signal(self, name: str) -> None:
        (self.folder / f"{name}.flag").write_text(json.dumps(self.result, ensure_ascii=False, default=str))

    def go(self, name: str, timeout: float = 300):
        return until(lambda: (self.folder / f"{name}.go").exists(), timeout, f"the test's go-ahead {name!r}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--journey", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--size", default="1280x800")
    p.add_argument("--lang", default="zh_CN")
    p.add_argument("--param", action="append", default=[])
    args = p.parse_args(argv)
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    w, h = (int(v) for v in args.size.split("x"))
    os.environ.setdefault("WEIGUANG_NO_SOUND", "")
    from kiosk.app import build_services, configure_kivy, make_app_class
    configure_kivy(size=(w, h))
    from kiosk import i18n
    from tests.kiosk.ui import request_journeys
    journey = getattr(request_journeys, args.journey)
    services = build_services(args.db)            # what `weiguang kiosk run --db` builds
    i18n.set_language(args.lang)
    app = make_app_class()(services, replay=None, start_camera=False, sounds=False)
    ctx = RealCtx(app, services.store, folder, clock=None, tokens={})
    ctx.params = dict(item.split("=", 1) for item in args.param)
    from kivy.clock import Clock
    Clock.schedule_once(lambda dt: drive(ctx, journey), 0.5)
    app.run()
    if services.sync_agent is not None:
        services.sync_agent.stop(5)
    return 0 if not ctx.result.get("error") else 1


if __name__ == "__main__":
    sys.exit(main())
