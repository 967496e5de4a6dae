"""A coordinator badge was shown: check in/out, or coordinator mode behind a PIN.

The PIN is set at the center and checked here against that coordinator's argon2 hash
(`kiosk.coordinator`, on the DB worker); five wrong PINs lock that coordinator out for
five minutes. A coordinator the center has not given a PIN is told to ask for one: no
one chooses a PIN at a kiosk.
"""

from __future__ import annotations

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk import i18n


class UnlockScreen(Screen):
    stage = StringProperty("choice")       # choice / pin / nopin
    pin = StringProperty("")
    message = StringProperty("")
    badge = None

    def on_stage(self, screen, stage) -> None:
        self.ids.stages.current = {"choice": "choice", "pin": "pad"}.get(stage, "none")

    def offer(self, badge) -> None:
        self.badge = badge
        self.stage, self.pin, self.message = "choice", "", ""
        self.ids.who.text = i18n._("result.greeting", name=badge.name)

    def attendance(self) -> None:
        """签到/签退: the coordinator's own attendance, as any volunteer's."""
        app = App.get_running_app()
        app.services.submit_scan(self.badge.text, dedupe=False, as_coordinator_check=False)

    def manage(self) -> None:
        app = App.get_running_app()
        app.services.run(app.services.pin_state, self.badge.vid, then=self._pin_state)

    def _pin_state(self, state: dict) -> None:
        if not state["has_pin"]:
            self.stage = "nopin"
            self.message = i18n._("ui.pin.ask_center")
            return
        self.stage = "pin"
        self.message = (i18n._("ui.pin.locked", minutes=max(1, -(-state["locked_for"] // 60)))
                        if state["locked_for"] > 0 else "")

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

    def _checked(self, answer: dict) -> None:
        if answer.get("ok"):
            app = App.get_running_app()
            # coordinator mode names people in full: the coordinator must know whom they check out
            app.coordinator = {"vid": self.badge.vid, "name": self.badge.full_name or self.badge.name}
            app.screen("coordinator").open()
            app.go("coordinator")
            return
        if answer.get("no_pin"):
            self.stage = "nopin"
            self.message = i18n._("ui.pin.ask_center")
        elif answer.get("locked_for"):
            self.message = i18n._("ui.pin.locked", minutes=max(1, -(-answer["locked_for"] // 60)))
        else:
            self.message = i18n._("ui.pin.wrong", left=answer.get("left", 0))

    def cancel(self) -> None:
        App.get_running_app().go_home()
