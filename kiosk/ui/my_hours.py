"""我的时长 / My hours: "show your badge", then the volunteer's hours and the QR code of
their own page for a few seconds; no check-in, no check-out (kiosk.my_hours decides).

The home screen's button calls `start()`: the desk is armed and the prompt counts down; the
next badge comes back as a kiosk.my_hours.MyHours through the app's `on_decision` and
`show()` puts it up. A time-out, Cancel or Done return home (and disarm the desk).
"""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk import i18n
from kiosk.my_hours import ARMED_SECONDS
from kiosk.ui.feedback import _qr, star_level
from kiosk.ui.services import hours_text

SHOW_SECONDS = 15       # the QR code: time to take out a phone
REFUSED_SECONDS = 6


class MyHoursScreen(Screen):
    state = StringProperty("prompt")         # prompt / shown / refused
    headline = StringProperty("")
    detail = StringProperty("")
    seconds_left = NumericProperty(0)
    qr = ObjectProperty(None, allownone=True)
    preview = ObjectProperty(None, allownone=True)   # the camera, while the prompt waits for a badge

    _timer = None

    def on_kv_post(self, base_widget):
        App.get_running_app().bind(camera=self._bind_camera)

    def _bind_camera(self, app, camera):
        if camera is not None:
            camera.bind(texture=lambda cam, texture: setattr(self, "preview", texture))

    def start(self) -> None:
        """The home screen's button: arm the desk and ask for the badge."""
        app = App.get_running_app()
        app.services.arm_my_hours(ARMED_SECONDS)
        self.state, self.qr = "prompt", None
        self.headline, self.detail = i18n._("ui.my_hours.prompt"), i18n._("ui.my_hours.hint")
        self._countdown(ARMED_SECONDS)

    def show(self, answer) -> None:
        """The badge's answer (kiosk.my_hours.MyHours)."""
        if answer.result != "my_hours":
            self.state, self.qr = "refused", None
            key = f"refused.{answer.code}"
            known = i18n.has(key) or i18n.has(key, "en")
            self.headline = i18n.refusal(answer.code) if known else i18n._("ui.refused.other")
            self.detail = "" if known else answer.code
            self._countdown(REFUSED_SECONDS)
            return
        self.state = "shown"
        level = star_level(answer.stars)
        self.headline = i18n._("result.greeting", name=answer.name) if answer.name else ""
        lines = [i18n._("ui.my_hours.figures", year_hours=hours_text(answer.year_minutes),
                        hours=hours_text(answer.total_minutes)) + (" · " + level if level else "")]
        if answer.year_pending_minutes:
            lines.append(i18n._("result.pending_review", hours=hours_text(answer.year_pending_minutes)))
        if not answer.page_url:
            lines.append(i18n._("ui.my_hours.no_link"))
        self.detail = "\n".join(lines)
        self.qr = _qr(answer.page_url, getattr(answer, "page_qr", None)) if answer.page_url else None
        self._countdown(SHOW_SECONDS)

    def _countdown(self, seconds: int) -> None:
        self._cancel_timer()
        self.seconds_left = seconds
        self._timer = Clock.schedule_interval(self._tick, 1.0)

    def _tick(self, dt):
        self.seconds_left -= 1
        if self.seconds_left <= 0:
            self.done()
            return False

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def done(self) -> None:
        """Cancel, Done or the time-out: home."""
        self._cancel_timer()
        app = App.get_running_app()
        app.services.my_hours.disarm()
        if self.manager and self.manager.current == self.name:
            app.go_home()

    def on_leave(self, *args):
        self._cancel_timer()
        App.get_running_app().services.my_hours.disarm()
