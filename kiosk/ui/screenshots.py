"""Screenshots of every screen, portrait and landscape, Chinese and English -> docs/screenshots/.

    xvfb-run -s "-screen 0 1920x1920x24" .venv/bin/python -m kiosk.ui.screenshots [--out docs/screenshots]

Each (size, language) runs in its own process (one Kivy window per process) on a sample
kiosk (kiosk.ui.sample.make_kiosk).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SIZES = {"landscape": (1280, 800), "portrait": (1080, 1920), "phone": (720, 1280)}
LANGS = ["zh_CN", "en"]


def shoot(out: Path, layout: str, lang: str) -> None:
    w, h = SIZES[layout]
    from kiosk.app import configure_kivy, make_app_class
    configure_kivy(size=(w, h))
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kiosk import i18n
    from kiosk.ui.services import KioskServices
    from kiosk.ui.sample import FakeClock, make_kiosk
    folder = Path(tempfile.mkdtemp(prefix="wg-shots-"))
    clock = FakeClock()
    store, tokens = make_kiosk(folder, activities="two", clock=clock)
    from kiosk.store import Revocation
    Revocation.replace(serial=2, vid="14020200002", revoked_at=0).execute()
    # The center's figures for 14020200001 (as a pull leaves them): 98 hours ever, so the
    # check-out below crosses 100 and the screen shows the star.
    from datetime import datetime
    from kiosk.store import Volunteer
    Volunteer.update(year=datetime.fromtimestamp(clock()).year, year_minutes=97 * 60 + 30, year_pending_minutes=90,
                     total_minutes=98 * 60).where(Volunteer.vid == "14020200001").execute()
    # ... and, as a pull leaves them, the center's address and this station's key: the
    # check-out shows the volunteer's own page as a QR code.
    import base64
    from sync import mylink
    store.settings.set(server_url="http://center.example:8000",
                       page_key=base64.urlsafe_b64encode(mylink.station_key("demo", "WBY")).decode())
    # a request the center completed (its state pulled): looked up and rated below
    from kiosk.store import RequestState
    from sync.service_menu import check
    RequestState.replace(number="261130-17-001", service="家电维修", state="completed",
                         check=check("261130-17-001", "8000")).execute()
    services = KioskServices(store)
    from kiosk.coordinator import hash_pin, receive_pin_hash
    receive_pin_hash(store, "14020200009", hash_pin("2468"))   # as the center sends it
    desk = services.attendance
    now = int(clock())
    desk.scan(tokens["14020200003"], at=now - 1200, activity_id="a1")   # here now: in the lists
    i18n.set_language(lang)
    app = make_app_class()(services, start_camera=False, sounds=False)
    from kiosk.ui.services import CoordinatorBadge

    def save(name):
        target = out / f"{name}-{layout}-{lang}.png"
        written = Window.screenshot(str(target))    # Kivy appends a counter: rename
        if written:
            os.replace(written, target)

    steps = []

    def go(fn, name=None, wait=0.6):
        steps.append((fn, name, wait))

    def camera():   # the home preview shows a replayed frame (a badge held up), not a black box
        from kiosk.scanner.replay import ReplaySource
        app.camera.play(ReplaySource(folder / "badges" / "14020200001.png", fps=5, hold_seconds=3600, loop=True,
                                     blank_frames=0), decode=False)

    # a checked-in decision needs one open activity: pick one for the scan
    go(camera, None, 0.3)
    go(lambda: None, "home", 1.2)
    go(lambda: app.on_decision(desk.scan(tokens["14020200001"], activity_id="a1")), "feedback-checked-in")
    go(lambda: (clock.advance(60), app.on_decision(desk.scan(tokens["14020200001"]))), "feedback-repeat-in")
    go(lambda: (clock.advance(9000 - 60), app.on_decision(desk.scan(tokens["14020200001"]))), "feedback-checked-out")
    go(lambda: app.on_decision(desk.scan(tokens["14020200001"])), "feedback-repeat")
    go(lambda: app.on_decision(desk.scan(tokens["14020200002"])), "feedback-refused")
    go(lambda: (clock.advance(-9000), setattr(desk, "_last_seen", {}),
                app.on_decision(_with_text(desk.scan(tokens["14020200009"]), tokens["14020200009"]))),
       "feedback-choose")
    go(lambda: (app.screen("my_hours").start(), app.go("my_hours")), "my-hours-prompt")
    go(lambda: app.screen("my_hours").show(services.my_hours.answer(tokens["14020200001"])), "my-hours")
    go(lambda: (app.screen("activities").refresh(), app.go("activities")), None, 0.5)
    go(lambda: None, "activities")
    go(lambda: (app.screen("activity_detail").show(app.screen("activities").items[0]), app.go("activity_detail")),
       "activity-detail")
    go(lambda: (app.screen("order").reset(), app.go("order")), "order")
    go(lambda: _order_filled(app.screen("order")), "order-pad")
    go(lambda: app.screen("order").submit(), "order-receipt", 1.2)
    go(lambda: (_status_found(app.screen("request_status")), app.go("request_status")), None, 1.0)
    go(lambda: _status_rating(app.screen("request_status")), "request-rating")
    go(lambda: (app.screen("unlock").offer(CoordinatorBadge(tokens["14020200009"], "14020200009", "赵*燕", "赵春燕")),
                app.go("unlock")), "unlock-choice")
    go(lambda: setattr(app.screen("unlock"), "stage", "pin"), "unlock-pin")
    go(lambda: app.screen("unlock")._pin_state({"has_pin": False, "locked_for": 0, "failures": 0}),
       "unlock-no-pin")
    go(lambda: (setattr(app, "coordinator", {"vid": "14020200009", "name": "赵春燕"}),
                app.screen("coordinator").open(), app.go("coordinator")), "coordinator-here")
    go(lambda: app.screen("coordinator").show("correct"), None)
    # the open session (checked in two hours ago): correcting its check-in on the picker
    go(lambda: app.screen("coordinator").edit(next(r for r in app.screen("coordinator").recent
                                                   if r["check_out_at"] is None)), None, 0.3)
    go(lambda: app.screen("coordinator").ids.picker.step(-600), "coordinator-correct")
    go(lambda: app.screen("coordinator").show("sync"), "coordinator-sync")
    go(lambda: app.screen("coordinator").show("device"), "coordinator-device")
    go(lambda: app.screen("coordinator").ask_reset(), "coordinator-unenrol")
    go(lambda: (app.screen("coordinator")._dialog.dismiss(), app.go_home(), app.set_large_text(True)), "home-large")
    go(lambda: app.set_large_text(False), None, 0.3)

    redrawn = {}

    def run_steps(i=0):
        if app.sm.transition.is_active:       # a screen change still fading: shoot when it is over
            Clock.schedule_once(lambda dt: run_steps(i), 0.1)
            return
        if i > 0 and steps[i - 1][1] and not redrawn.get(i):
            redrawn[i] = True                 # draw once more: the shot reads the last frame drawn
            Window.canvas.ask_update()
            Clock.schedule_once(lambda dt: run_steps(i), 0.15)
            return
        if i > 0 and steps[i - 1][1]:
            save(steps[i - 1][1])
        if i == len(steps):
            app.allow_quit = True
            app.stop()
            return
        fn, name, wait = steps[i]
        fn()
        Clock.schedule_once(lambda dt: run_steps(i + 1), wait)

    Clock.schedule_once(lambda dt: run_steps(), 1.0)
    app.run()


def _order_filled(order):
    """A resident's order on its way: a service, a preset description, the phone on the pad."""
    order.pick("家电维修", "down")
    order.toggle_preset("冰箱不制冷", "down")
    order._build()
    order.ids.pad.value = "13912345678"


def _status_found(screen):
    screen.reset()
    screen.number = "261130-17-001"
    screen.focus("last4")
    screen.ids.pad.value = "8000"
    screen.look()


def _status_rating(screen):
    screen.set_stars(4)
    screen.toggle("态度很好", "down")
    screen._build_comments()
    screen.ids.scroll.scroll_y = 0


def _with_text(decision, text):
    decision.scanned_text = text
    return decision


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="docs/screenshots")
    p.add_argument("--layouts", default="landscape,portrait,phone")
    p.add_argument("--langs", default="zh_CN,en")
    p.add_argument("--one", nargs=2, metavar=("LAYOUT", "LANG"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.one:
        shoot(out, *args.one)
        return 0
    env = dict(os.environ, WEIGUANG_NO_SOUND="1", KIVY_NO_CONSOLELOG="1")
    for layout in args.layouts.split(","):
        for lang in args.langs.split(","):
            subprocess.run([sys.executable, "-m", "kiosk.ui.screenshots", "--out", str(out), "--one", layout, lang],
                           check=True, env=env)
            print(f"{layout} {lang}: done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
