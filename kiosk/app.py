"""KioskApp: builds the screens and wires the services; no business logic here.

    weiguang kiosk run --db kiosk.db [--replay DIR] [--fullscreen] [--language en]

Threads: the UI thread only draws and routes. Frames are decoded on the FrameDecoder thread
(kiosk.camera), decisions and every store read/write run on the single DB worker
(kiosk.ui.services), the SyncAgent runs on its own thread; results come back to the UI
thread with Clock.schedule_once.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

UI_DIR = Path(__file__).resolve().parent / "ui"
RESIDENT_IDLE_SECONDS = 60       # a resident's screen goes back home after this long untouched
COORDINATOR_IDLE_SECONDS = 120   # coordinator mode ends after this long untouched
LARGE_TEXT = 1.3                 # the 大字 switch's factor
SCREENS = ["home", "feedback", "activities", "activity_detail", "order", "request_status", "unlock", "coordinator",
           "my_hours"]
# Built at start: what a scan shows. The others are built the first time they are opened (a
# resident's tap, a coordinator's badge): a kiosk that only takes scans never holds their
# widgets (about 18 MB on the software renderer).
EAGER_SCREENS = ["home", "feedback"]


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class _NoCutBuffer(logging.Filter):
    """Kivy reports at CRITICAL that it found no X cut buffer (xclip, xsel): a kiosk has no
    use for one, and never runs either (see configure_kivy)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Cutbuffer: Unable to find")


def configure_logging(level: str = "INFO") -> None:
    """`--log-level`: INFO by default. Kivy's own lines and Python's at the same level, with
    Pillow (a DEBUG line per chunk of every camera frame) and peewee (every SQL statement)
    held at WARNING whatever the level."""
    level = level.upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}")
    logging.getLogger("PIL").setLevel(logging.WARNING)
    logging.getLogger("peewee").setLevel(logging.WARNING)
    from kivy.logger import Logger   # Kivy's import points the root logger at its handlers
    Logger.setLevel(getattr(logging, level))
    Logger.addFilter(_NoCutBuffer())
    logging.root.setLevel(getattr(logging, level))   # Kivy leaves the root at NOTSET: everything


def configure_kivy(fullscreen: bool = False, size: tuple[int, int] | None = None, log_level: str = "INFO") -> None:
    """Kivy settings that must be in place before the window exists."""
    from kiosk.lean import lean_process
    lean_process()
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")   # no xclip/xsel on a kiosk
    os.environ.setdefault("KIVY_CAMERA", "opencv")    # (Kivy's own provider is unused: kiosk/capture.py reads the camera)
    import kivy
    kivy.kivy_options["cutbuffer"] = ()               # never ask for xclip or xsel (the X cut buffer)
    if "KIVY_IMAGE" not in os.environ:                # SDL2_image reads and writes the PNGs a kiosk has;
        kivy.kivy_options["image"] = ("tex", "dds", "sdl2")   # Kivy would load Pillow's provider too (≈ 3 MB)
    configure_logging(log_level)
    from kivy.config import Config
    Config.set("kivy", "log_level", log_level.lower())
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "pause_on_minimize", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "multisamples", "0")
    if fullscreen:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
    else:
        Config.set("graphics", "fullscreen", "0")
        w, h = size or (1280, 800)
        Config.set("graphics", "width", str(w))
        Config.set("graphics", "height", str(h))
        Config.set("graphics", "resizable", "1")
    register_font()


def register_font() -> str:
    """Make the bundled Chinese font Kivy's default, so no label ever shows boxes."""
    from kivy.config import Config
    from kivy.core.text import DEFAULT_FONT, LabelBase
    from sync.assets import font_path
    path = str(font_path())
    Config.set("kivy", "default_font", str(["Weiguang Sans", path, path, path, path]))
    LabelBase.register(DEFAULT_FONT, path, path, path, path)
    LabelBase.register("Weiguang Sans", path, path, path, path)
    return path


def make_app_class():
    """The App subclass, defined after configure_kivy (importing kivy.app opens no window)."""
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.lang import Builder
    from kivy.properties import BooleanProperty, DictProperty, NumericProperty, ObjectProperty, StringProperty
    from kivy.uix.screenmanager import ScreenManager

    from kiosk import i18n
    from kiosk.scanner.wedge import WedgeParser

    class KioskApp(App):
        portrait = BooleanProperty(False)
        short = NumericProperty(800)    # the window's shorter side (px): big words scale with it
        fs = NumericProperty(1.0)       # one text point in px: sp(1), more on a big screen, more with 大字
        large_text = BooleanProperty(False)   # the 大字 switch: every text larger still
        lang = StringProperty(i18n.get_language())
        now_text = StringProperty("")
        date_text = StringProperty("")
        station_name = StringProperty("")
        net_state = StringProperty("offline")     # online / offline / syncing / error
        net_text = StringProperty("")
        sync = DictProperty({})
        coordinator = ObjectProperty(None, allownone=True)   # {"vid", "name"} while in coordinator mode
        services = ObjectProperty(None)
        camera = ObjectProperty(None)

        def __init__(self, services, replay: str | None = None, fullscreen: bool = False,
                     start_camera: bool = True, sounds: bool = True, **kwargs):
            super().__init__(**kwargs)
            self.title = "微光 Weiguang"
            self.services = services
            self.replay = replay
            self.fullscreen = fullscreen
            self.start_camera = start_camera
            self.want_sounds = sounds
            self.wedge = WedgeParser()
            self.last_touch = time.monotonic()
            self.allow_quit = False
            self.first_frame_at: float | None = None
            self._events = []

        # --- text -----------------------------------------------------------------------

        def t(self, msgid: str, _lang: str | None = None, **fmt) -> str:
            """Translate; kv passes app.lang as the second argument so texts follow a switch."""
            return i18n._(msgid, **fmt)

        def set_language(self, code: str) -> None:
            self.lang = i18n.set_language(code)
            self.services.run(self.services.store.settings.set, language=self.lang)
            self._tick_clock(0)
            self._update_sync(0)

        def toggle_language(self) -> None:
            self.set_language("en" if self.lang == "zh_CN" else "zh_CN")

        def set_large_text(self, on: bool) -> None:
            """大字: every text 1.3 times larger (kept in the store's settings)."""
            self.large_text = bool(on)
            self._scale()
            self.services.run(self.services.store.settings.set, large_text=self.large_text)

        def _scale(self) -> None:
            from kivy.metrics import sp
            self.fs = max(sp(1), self.short / 800.0) * (LARGE_TEXT if self.large_text else 1.0)

        # --- building -------------------------------------------------------------------

        def build(self):
            from kiosk.ui import load_screens
            from kiosk.ui.sounds import Sounds
            from kiosk.ui.widgets import CrossFade
            Builder.load_file(str(UI_DIR / "widgets.kv"))
            self.large_text = bool(self.services.store.settings.get("large_text"))
            self.sm = ScreenManager(transition=CrossFade(duration=0.12))
            for screen in load_screens([n for n in SCREENS if n in EAGER_SCREENS]):
                self.sm.add_widget(screen)
            self.sounds = Sounds(enabled=self.want_sounds)
            Window.clearcolor = (0.96, 0.96, 0.95, 1)
            Window.bind(size=self._on_size, on_key_down=self._on_key_down,
                        on_request_close=self._on_request_close)
            Window.bind(on_touch_down=self._touched)
            self._on_size(Window, Window.size)
            return self.sm

        def screen(self, name: str):
            if not self.sm.has_screen(name):
                if name not in SCREENS:
                    raise KeyError(name)
                from kiosk.ui import load_screens
                started = time.monotonic()
                self.sm.add_widget(load_screens([name])[0])
                log.info("screen %s built in %.0f ms", name, (time.monotonic() - started) * 1000)
                from kiosk.threads import freeze_heap
                freeze_heap()      # its widgets live as long as the app: never walked by the collector again
            return self.sm.get_screen(name)

        def on_start(self):
            from kiosk.camera import CameraFeed
            from kiosk.heap import TRIM_SECONDS, give_back
            from kiosk.threads import ui_first
            ui_first()
            self._install_stop_signals()
            svc = self.services
            svc.on_decision = self.on_decision
            svc.on_store_error = self.show_store_notice
            self.camera = CameraFeed(on_texts=self._on_texts)
            if self.start_camera:
                self.camera.start(replay=self.replay)
            svc.run(svc.station, then=lambda s: setattr(self, "station_name", s["name"]))
            if svc.sync_agent is not None:
                svc.start_sync_agent()
            svc.close_overdue()
            self._events = [
                Clock.schedule_interval(self._tick_clock, 1.0),
                Clock.schedule_interval(self._update_sync, 1.0),
                Clock.schedule_interval(self._check_idle, 1.0),
                Clock.schedule_interval(lambda dt: svc.close_overdue(), 60.0),
                Clock.schedule_interval(lambda dt: self.screen("home").refresh(), 30.0),
                # the heaps' free pages back to the system (kiosk/heap.py), off the UI thread
                Clock.schedule_interval(lambda dt: svc.run(give_back), TRIM_SECONDS),
            ]
            self._tick_clock(0)
            self._update_sync(0)
            self.screen("home").refresh()
            Clock.schedule_once(self._first_frame, 0)

        def show_store_notice(self, problem) -> None:
            """The database cannot be written: a full-screen notice for the coordinator."""
            from kiosk.ui.store_notice import StoreNotice
            StoreNotice.show_for(self, problem)

        def _first_frame(self, dt):
            self.first_frame_at = time.monotonic()
            from kiosk.threads import freeze_heap
            freeze_heap()          # the start-up's objects: a full collection would walk them all (≈ 40 ms)

        def on_stop(self):
            for ev in self._events:
                ev.cancel()
            if self.camera is not None:
                self.camera.stop()
            self.services.shutdown()

        # --- routing --------------------------------------------------------------------

        def go(self, name: str) -> None:
            if name != "coordinator" and self.sm.current == "coordinator" and name != "unlock":
                self.coordinator = None
            self.screen(name)
            self.sm.current = name

        def go_home(self) -> None:
            self.coordinator = None
            self.sm.current = "home"
            self.screen("home").refresh()

        # --- scans ----------------------------------------------------------------------

        def _on_texts(self, texts: list[str]) -> None:
            """Decoder thread: every text of a frame goes to the desk (the desk de-duplicates)."""
            for text in texts:
                self.services.submit_scan(text)

        def on_decision(self, result) -> None:
            """UI thread: a Decision or a CoordinatorBadge came back from the worker."""
            from kiosk.my_hours import MyHours
            from kiosk.ui.services import CoordinatorBadge
            if self.sm.current == "coordinator":
                return  # a coordinator at work: badges waved by are not taken
            if isinstance(result, MyHours):   # 我的时长: the volunteer's hours and page, nothing recorded
                if self.sm.current == "my_hours":
                    self.screen("my_hours").show(result)
                    if result.result == "refused":
                        self.sounds.play("refused")
                return
            if isinstance(result, CoordinatorBadge):
                self.screen("unlock").offer(result)
                self.go("unlock")
                return
            self.screen("feedback").show(result)
            if self.sm.current != "feedback":
                # The words are laid out and their textures rendered in this frame, behind the
                # screen still shown; the fade (both screens drawn) starts in the next one: two
                # halves of the work in two frames, not one long frame (bench_ui's stall).
                # (a 0-timeout callback scheduled now would still run in this frame's tick: the
                # hop goes through the before-draw pass, whose 0-timeout callbacks wait a tick)
                shown = self.sm.current
                Clock.schedule_once(lambda dt: Clock.schedule_once(lambda dt: self._to_feedback(shown), 0), -1)
            outcome = result.result
            self.sounds.play(outcome if outcome in ("checked_in", "checked_out", "repeat", "refused") else "refused")

        def _to_feedback(self, shown: str) -> None:
            now = self.sm.current
            # as before the hop, unless a coordinator's badge took the screen meanwhile
            if now != "feedback" and (now == shown or now not in ("coordinator", "unlock")):
                self.go("feedback")

        def choose_activity(self, text_or_badge: str, activity_id: str) -> None:
            self.services.submit_scan(text_or_badge, activity_id=activity_id, dedupe=False)

        # --- the wedge scanner and keys ----------------------------------------------------

        def _on_key_down(self, window, key, scancode, codepoint, modifiers):
            now = time.monotonic()
            if key in (13, 271):
                text = self.wedge.feed("\r", now)
                if text:
                    self.services.submit_scan(text)
                return False
            if key == 27:   # Escape / Android back: nothing happens outside coordinator mode
                if self.coordinator is not None:
                    self.go_home()
                return True
            if codepoint:
                self.wedge.feed(codepoint, now)
            return False

        def _on_request_close(self, *args, **kwargs):
            return not self.allow_quit  # True: refuse to close (kiosk lock)

        def _install_stop_signals(self) -> None:
            """SIGTERM (`systemctl stop`) and SIGINT stop the app cleanly: camera released,
            workers joined, queued scans decided. The kiosk lock refuses a passer-by's window
            close, not the system's own request."""
            import signal

            def stop_now(signum, frame):
                Clock.schedule_once(lambda dt: self.system_stop(signal.Signals(signum).name), 0)
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, stop_now)

        def system_stop(self, why: str) -> None:
            log.info("stopping: %s", why)
            self.allow_quit = True
            self.stop()

        def leave_kiosk(self) -> None:
            """Coordinator mode only: exit fullscreen and quit the app."""
            if self.coordinator is None:
                return
            self.allow_quit = True
            Window.fullscreen = False
            from kiosk import android_kiosk
            android_kiosk.stop_lock_task()   # Android: unpin first (inert on a desktop)
            self.stop()

        # --- periodic ---------------------------------------------------------------------

        def _touched(self, window, touch):
            self.last_touch = time.monotonic()
            return False

        def _check_idle(self, dt):
            idle = time.monotonic() - self.last_touch
            current = self.sm.current
            if current == "coordinator" or current == "unlock":
                if idle > COORDINATOR_IDLE_SECONDS:
                    self.go_home()
            elif current in ("activities", "activity_detail", "order", "request_status") and idle > RESIDENT_IDLE_SECONDS:
                self.go_home()

        def _tick_clock(self, dt):
            from kiosk.ui.services import local_dt
            now = local_dt(self.services.store.clock())
            self.now_text = now.strftime("%H:%M")
            weekday = self.t(f"ui.weekday.{now.weekday()}")
            self.date_text = self.t("ui.date", year=now.year, month=now.month, day=now.day, weekday=weekday)

        def _update_sync(self, dt):
            status = self.services.sync_status()
            self.sync = status
            if not status.get("enrolled") and not self.services.sync_agent:
                self.net_state, self.net_text = "offline", self.t("ui.net.standalone")
            elif status.get("running"):
                self.net_state, self.net_text = "syncing", self.t("status.syncing")
            elif status.get("online") and status.get("ok"):
                pending = status.get("pending") or 0
                self.net_state = "online"
                self.net_text = self.t("status.online") + (" · " + self.t("status.pending", count=pending)
                                                         if pending else "")
            else:
                pending = status.get("pending")
                self.net_state = "offline"
                self.net_text = self.t("ui.net.offline") + (" · " + self.t("status.pending", count=pending)
                                                          if pending else "")

        def _on_size(self, window, size):
            w, h = size
            self.portrait = h > w
            self.short = min(w, h)
            self._scale()

    return KioskApp


def build_services(db_path: str, clock=None):
    from kiosk.store import open_store
    from kiosk.ui.services import KioskServices
    store = open_store(db_path, clock=clock) if clock else open_store(db_path)
    services = KioskServices(store)
    state = store.sync_state()
    if state.get("server_url") and state.get("token"):
        try:
            from sync.client import SyncAgent
            services.sync_agent = SyncAgent(store)
        except ImportError as exc:   # a kiosk image without the sync client: standalone
            log.warning("sync client unavailable: %s", exc)
    return services


def run(db_path: str = "kiosk.db", replay: str | None = None, fullscreen: bool = False,
        language: str | None = None, size: tuple[int, int] | None = None, log_level: str = "INFO") -> int:
    """`weiguang kiosk run`: open the store, then the window; returns when the window closes."""
    if not Path(db_path).exists():
        print(f"weiguang: no kiosk database at {db_path}: run `weiguang kiosk init` first")
        return 2
    from kiosk.store import open_store
    open_store(db_path)   # a damaged, read-only, full… database is said in one sentence before Kivy starts
    configure_kivy(fullscreen=fullscreen, size=size, log_level=log_level)
    from kiosk import i18n
    services = build_services(db_path)
    i18n.set_language(language or services.store.settings.get("language") or i18n.DEFAULT_LANGUAGE)
    app = make_app_class()(services, replay=replay, fullscreen=fullscreen)
    app.run()
    return 0


def app_instance() -> Any:
    from kivy.app import App
    return App.get_running_app()
