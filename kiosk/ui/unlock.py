"""A coordinator badge was shown: check in/out, or coordinator mode behind a PIN.

The PIN is checked (argon2) on the DB worker; five wrong PINs lock the pad for five
minutes (kept in the store, so restarting the app does not reset it). A coordinator
without a PIN sets one here, typing it twice.
"""

from __future__ import annotations

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk import i18n


class UnlockScreen(Screen):
    stage = StringProperty("choice")       # choice / pin / set / confirm
    pin = StringProperty("")
    message = StringProperty("")
    badge = None
    _first = ""

    def on_stage(self, screen, stage) -> None:
        self.ids.stages.current = "choice" if stage == "choice" else "pad"

    def offer(self, badge) -> None:
        self.badge = badge
        self.stage, self.pin, self.message, self._first = "choice", "", "", ""
        self.ids.who.text = i18n._("result.greeting", name=badge.name)

    def attendance(self) -> None:
        """签到/签退: the coordinator's own attendance, as any volunteer's."""
        app = App.get_running_app()
        app.services.submit_scan(self.badge.text, dedupe=False, as_coordinator_check=False)

    def manage(self) -> None:
        app = App.get_running_app()
        app.services.run(app.services.pin_state, self.badge.vid, then=self._pin_state)

    def _pin_state(self, state: dict) -> None:
        if state["locked_for"] > 0:
            self.stage = "pin"
            self.message = i18n._("ui.pin.locked", minutes=max(1, -(-state["locked_for"] // 60)))
            return
        self.stage = "pin" if state["has_pin"] else "set"
        self.message = "" if state["has_pin"] else i18n._("ui.pin.set_first")

    def key(self, digit: str) -> None:
        if len(self.pin) < 8:
            self.pin += digit

    def backspace(self) -> None:
        self.pin = self.pin[:-1]

    def enter(self) -> None:
        app = App.get_running_app()
        pin, self.pin = self.pin, ""
        if self.stage == "pin":
            app.services.run(app.services.check_pin, self.badge.vid, pin, then=self._checked)
        elif self.stage == "set":
            if not (pin.isdigit() and 4 <= len(pin) <= 8):
                self.message = i18n._("ui.pin.length")
                return
            self._first, self.stage = pin, "confirm"
            self.message = i18n._("ui.pin.again")
        elif self.stage == "confirm":
            if pin != self._first:
                self.stage, self._first = "set", ""
                self.message = i18n._("ui.pin.mismatch")
                return
            app.services.run(app.services.set_pin, self.badge.vid, pin, then=lambda ok: self._checked({"ok": ok}))

    def _checked(self, answer: dict) -> None:
        if answer.get("ok"):
            app = App.get_running_app()
            app.coordinator = {"vid": self.badge.vid, "name": self.badge.name}
            app.screen("coordinator").open()
            app.go("coordinator")
            return
        if answer.get("locked_for"):
            self.message = i18n._("ui.pin.locked", minutes=max(1, -(-answer["locked_for"] // 60)))
        else:
            self.message = i18n._("ui.pin.wrong", left=answer.get("left", 0))

    def cancel(self) -> None:
        App.get_running_app().go_home()
