"""Run the real kiosk app in this process and drive it through one journey.

    python -m tests.kiosk.ui.harness --journey check_in --dir TMP [--size 1280x800] [--lang zh_CN]

A journey is a generator in tests/kiosk/ui/journeys.py; it yields seconds to wait (or
`until(predicate, timeout)`), taps real widgets with simulated touches, plays badge
images through the app's camera path (CameraFeed <- ReplaySource), and records what the
screen said into ctx.result, written as JSON to DIR/result.json. The pytest side checks
that JSON and the kiosk database rows. One journey per process: Kivy opens one window
per process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

from kiosk.ui.sample import COORDINATOR, VOLUNTEERS, FakeClock, local, make_kiosk  # noqa: F401


# --- driving -----------------------------------------------------------------------------

class until:
    def __init__(self, predicate, timeout: float = 10.0, what: str = ""):
        self.predicate, self.timeout, self.what = predicate, timeout, what


def tap(widget) -> None:
    """A simulated finger on the widget's centre, through the window's real input path."""
    from kivy.tests.common import UnitTestTouch
    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()


def labels(root) -> list[str]:
    """Texts of the visible labels (and buttons) under `root`."""
    from kivy.uix.label import Label
    out = []

    def walk(w, visible=True):
        visible = visible and w.opacity > 0
        if isinstance(w, Label) and visible and w.text:
            out.append(w.text)
        for child in w.children:
            walk(child, visible)
    walk(root)
    return out


def find_button(root, text_part: str):
    """A button (or a card that is one: ButtonBehavior, its `title`) showing `text_part`."""
    from kivy.uix.behaviors import ButtonBehavior
    found = []

    def walk(w):
        text = getattr(w, "text", None) or getattr(w, "title", None) or ""
        if isinstance(w, ButtonBehavior) and isinstance(text, str) and text_part in text and not w.disabled:
            found.append(w)
        for child in w.children:
            walk(child)
    walk(root)
    if not found:
        raise AssertionError(f"no button containing {text_part!r} on screen; labels: {labels(root)}")
    return found[0]


def play(app, image: Path, hold_seconds: float = 2.0, fps: float = 15):
    """Hold a badge image in front of the (replayed) camera."""
    from kiosk.scanner.replay import ReplaySource
    app.camera.play(ReplaySource(image, fps=fps, hold_seconds=hold_seconds, loop=False, blank_frames=0))


class Ctx:
    def __init__(self, app, store, folder: Path, clock: FakeClock, tokens: dict):
        self.app, self.store, self.folder, self.clock, self.tokens = app, store, folder, clock, tokens
        self.result: dict = {"steps": []}

    def badge(self, name: str) -> Path:
        return self.folder / "badges" / f"{name}.png"

    def screen(self):
        return self.app.sm.current_screen

    def texts(self) -> list[str]:
        return labels(self.screen())

    def note(self, key: str, value=None) -> None:
        self.result[key] = self.texts() if value is None else value


def drive(ctx: Ctx, journey) -> None:
    from kivy.clock import Clock
    gen = journey(ctx)
    state = {"wait_until": 0.0, "cond": None, "deadline": 0.0}

    def finish(error: str | None = None):
        if error:
            ctx.result["error"] = error
            ctx.result["screen"] = ctx.app.sm.current if ctx.app.sm else None
            try:
                ctx.result["labels_at_error"] = ctx.texts()
            except Exception:  # noqa: BLE001
                pass
        ctx.result.setdefault("error", None)
        ctx.app.services.wait_idle(20)
        (ctx.folder / "result.json").write_text(json.dumps(ctx.result, ensure_ascii=False, indent=1, default=str))
        ctx.app.allow_quit = True
        ctx.app.stop()

    def step(dt):
        now = time.monotonic()
        cond = state["cond"]
        if cond is not None:
            if not cond.predicate():
                if now > state["deadline"]:
                    finish(f"timed out waiting for {cond.what or cond.predicate}")
                    return False
                return True
            state["cond"] = None
        elif now < state["wait_until"]:
            return True
        try:
            item = next(gen)
        except StopIteration:
            finish()
            return False
        except Exception:  # noqa: BLE001
            finish(traceback.format_exc())
            return False
        if hasattr(item, "predicate"):  # an `until` (this module may run as __main__)
            state["cond"], state["deadline"] = item, now + item.timeout
        else:
            state["wait_until"] = now + float(item or 0)
        return True

    Clock.schedule_interval(step, 0.05)


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--journey", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--size", default="1280x800")
    p.add_argument("--lang", default="zh_CN")
    p.add_argument("--activities", default="one")
    args = p.parse_args(argv)
    folder = Path(args.dir)
    w, h = (int(v) for v in args.size.split("x"))
    os.environ.setdefault("WEIGUANG_NO_SOUND", "")
    from kiosk.app import configure_kivy, make_app_class
    configure_kivy(size=(w, h))
    from kiosk import i18n
    from kiosk.ui.services import KioskServices
    from tests.kiosk.ui import journeys
    journey = getattr(journeys, args.journey)
    clock = FakeClock()
    store, tokens = make_kiosk(folder, activities=getattr(journey, "activities", args.activities), clock=clock)
    i18n.set_language(args.lang)
    services = KioskServices(store)
    setup = getattr(journey, "setup", None)
    if setup:
        setup(store, services, folder)
    app = make_app_class()(services, replay=None, start_camera=False, sounds=False)
    ctx = Ctx(app, store, folder, clock, tokens)
    from kivy.clock import Clock
    Clock.schedule_once(lambda dt: drive(ctx, journey), 0.5)
    app.run()
    return 0 if not ctx.result.get("error") else 1


if __name__ == "__main__":
    sys.exit(main())
