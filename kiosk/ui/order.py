"""A resident's service order (点单): a service from the center's menu, preset descriptions
to tap, the phone number on a large number pad -> kiosk.orders.take_order; then the
receipt: the number, read aloud easily, and a QR code to the resident's own page."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import ListProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk import i18n
from kiosk.orders import is_mobile, menu, take_order

# The menu's service names in English (the center's menu is in Chinese; a name not here is shown as is).
SERVICE_KEYS = {"理发": "haircut", "家电维修": "repair", "助餐送餐": "meals", "陪诊就医": "escort",
                "法律咨询": "legal", "心理疏导": "counselling", "家政保洁": "cleaning", "代购代办": "errands",
                "上门关怀": "visits"}


def service_label(name: str) -> str:
    key = SERVICE_KEYS.get(name)
    return i18n._(f"ui.service.{key}") if key and i18n.get_language() == "en" else name


def resident_url(store, number: str) -> str | None:
    """The resident's page for this request (the receipt's QR): the center's address."""
    base = store.settings.get("resident_url") or (store.sync_state() or {}).get("server_url")
    return f"{base.rstrip('/')}/r/{number}" if base else None


class OrderScreen(Screen):
    service = StringProperty("")
    message = StringProperty("")
    number = StringProperty("")
    chosen = ListProperty([])
    qr = ObjectProperty(None, allownone=True)
    busy = False

    def on_kv_post(self, base_widget):
        self._build()
        App.get_running_app().bind(lang=lambda *a: self._build())

    def _items(self) -> list[dict]:
        return menu(App.get_running_app().services.store)

    def _build(self) -> None:
        grid = self.ids.services
        grid.clear_widgets()
        for item in self._items():
            english = i18n.get_language() == "en" and item.get("service_en")
            tab = Factory.GridToggle(text=english or service_label(item["service"]), group="service",
                                  state="down" if item["service"] == self.service else "normal")
            tab.service = item["service"]
            tab.bind(on_release=lambda b: self.pick(b.service, b.state))
            grid.add_widget(tab)
        self._build_presets()

    def _build_presets(self) -> None:
        grid = self.ids.presets
        grid.clear_widgets()
        item = next((i for i in self._items() if i["service"] == self.service), None)
        presets = (item or {}).get("presets", [])
        english = (item or {}).get("presets_en") if i18n.get_language() == "en" else None
        for preset, shown in zip(presets, english if english and len(english) == len(presets) else presets):
            # Shown in the kiosk's language; the order keeps the Chinese the center reads.
            tab = Factory.GridToggle(text=shown, state="down" if preset in self.chosen else "normal")
            tab.preset = preset
            tab.bind(on_release=lambda b: self.toggle_preset(b.preset, b.state))
            grid.add_widget(tab)

    def pick(self, name: str, state: str) -> None:
        self.service = name if state == "down" else ""
        self.chosen = []
        self._build_presets()

    def toggle_preset(self, preset: str, state: str) -> None:
        chosen = [p for p in self.chosen if p != preset]
        self.chosen = chosen + [preset] if state == "down" else chosen

    def reset(self) -> None:
        self.service, self.message, self.number, self.chosen, self.qr = "", "", "", [], None
        self.ids.pad.value = ""
        self._build()

    def submit(self) -> None:
        if self.busy:
            return
        if not self.service:
            self.message = i18n._("ui.order.pick_service")
            return
        phone = self.ids.pad.value
        if not is_mobile(phone):
            self.message = i18n._("ui.order.bad_mobile")
            return
        self.busy = True
        app = App.get_running_app()
        app.services.run(take_order, app.services.store, self.service, phone, "；".join(self.chosen),
                         then=self._done, error=self._failed)

    def _done(self, result) -> None:
        self.busy = False
        if result.result == "queued":
            from kiosk.ui.activity_detail import qr_texture
            App.get_running_app().services.push_soon()
            self.number = result.number
            self.message = i18n._("ui.order.done", number=result.number)
            url = resident_url(App.get_running_app().services.store, result.number)
            self.qr = qr_texture(url) if url else None
            self.ids.pad.value = ""
            self.ids.scroll.scroll_y = 1
        else:
            self.number = ""
            self.message = i18n._(f"ui.order.{result.code}")

    def _failed(self, exc) -> None:
        self.busy = False
        self.message = i18n._("ui.error", error=str(exc))

    def spoken(self) -> str:
        """The number as it is read aloud: group by group, digit by digit."""
        return " ".join(" ".join(part) for part in self.number.split("-"))
