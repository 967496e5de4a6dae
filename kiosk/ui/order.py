"""A resident's service order (点单): service, phone, note -> kiosk.orders.take_order."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk import i18n
from kiosk.orders import take_order

# (message key, the service's name as the center dispatches it)
SERVICES = [
    ("haircut", "理发"), ("repair", "家电维修"), ("meals", "助餐送餐"), ("escort", "陪诊就医"),
    ("legal", "法律咨询"), ("counselling", "心理疏导"), ("cleaning", "家政保洁"), ("errands", "代购代办"),
]


class OrderScreen(Screen):
    service = StringProperty("")
    message = StringProperty("")
    number = StringProperty("")
    busy = False

    def on_kv_post(self, base_widget):
        self._build()
        App.get_running_app().bind(lang=lambda *a: self._build())

    def _build(self) -> None:
        grid = self.ids.services
        grid.clear_widgets()
        for key, name in SERVICES:
            tab = Factory.KToggle(text=i18n._(f"ui.service.{key}"), group="service",
                                  state="down" if name == self.service else "normal")
            tab.size_hint_x = 1
            tab.bind(on_release=lambda b, n=name: self.pick(n, b.state))
            grid.add_widget(tab)

    def pick(self, name: str, state: str) -> None:
        self.service = name if state == "down" else ""

    def reset(self) -> None:
        self.service, self.message, self.number = "", "", ""
        self.ids.phone.text = ""
        self.ids.note.text = ""
        self._build()

    def submit(self) -> None:
        if self.busy:
            return
        if not self.service:
            self.message = i18n._("ui.order.pick_service")
            return
        self.busy = True
        app = App.get_running_app()
        app.services.run(take_order, app.services.store, self.service, self.ids.phone.text, self.ids.note.text,
                         then=self._done, error=self._failed)

    def _done(self, result) -> None:
        self.busy = False
        if result.result == "queued":
            self.number = result.number
            self.message = i18n._("ui.order.done", number=result.number)
        else:
            self.number = ""
            self.message = i18n._(f"ui.order.{result.code}")

    def _failed(self, exc) -> None:
        self.busy = False
        self.message = i18n._("ui.error", error=str(exc))
