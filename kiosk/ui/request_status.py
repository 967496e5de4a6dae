"""The resident looks up a request (its number and the phone's last four digits, on the
number pad) and sees its state; a completed one can be rated here (1-5 stars and comments
to tap). Logic: kiosk.orders.lookup / kiosk.orders.rate (offline: queued for the center)."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import ListProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk import i18n
from kiosk.orders import lookup, rate
from sync.service_menu import RATING_COMMENTS


class RequestStatusScreen(Screen):
    field = StringProperty("number")        # which box the pad types into: number / last4
    number = StringProperty("")
    last4 = StringProperty("")
    state = StringProperty("")              # the request's state once found
    message = StringProperty("")
    stars = NumericProperty(0)
    chosen = ListProperty([])
    busy = False

    def on_kv_post(self, base_widget):
        # The rating part is in the layout only while a completed request is shown.
        self._rating = self.ids.rating.__self__          # a strong reference: ids are weak
        self._rating_parent = self._rating.parent
        self._rating_parent.remove_widget(self._rating)
        self.bind(state=self._show_rating)
        self.ids.pad.bind(value=self._typed)
        self._build_comments()
        App.get_running_app().bind(lang=lambda *a: self._build_comments())

    def _show_rating(self, *args) -> None:
        shown = self._rating.parent is not None
        if self.state == "completed" and not shown:
            self._rating_parent.add_widget(self._rating)
        elif self.state != "completed" and shown:
            self._rating_parent.remove_widget(self._rating)

    def _typed(self, pad, value) -> None:
        if self.field == "number":
            self.number = value
        else:
            self.last4 = value[:4]

    def focus(self, field: str) -> None:
        self.field = field
        pad = self.ids.pad
        pad.dash, pad.max_length = field == "number", 20 if field == "number" else 4
        pad._build()
        pad.value = self.number if field == "number" else self.last4

    def reset(self) -> None:
        self.number = self.last4 = self.state = self.message = ""
        self.stars, self.chosen = 0, []
        self.focus("number")
        self._build_comments()

    def _build_comments(self) -> None:
        grid = self.ids.comments
        grid.clear_widgets()
        for index, comment in enumerate(RATING_COMMENTS):
            tab = Factory.GridToggle(text=i18n._(f"ui.comment.{index}"),
                                  state="down" if comment in self.chosen else "normal")
            tab.comment = comment
            tab.bind(on_release=lambda b: self.toggle(b.comment, b.state))
            grid.add_widget(tab)

    def toggle(self, comment: str, state: str) -> None:
        chosen = [c for c in self.chosen if c != comment]
        self.chosen = chosen + [comment] if state == "down" else chosen

    def set_stars(self, n: int) -> None:
        self.stars = n

    def look(self) -> None:
        if self.busy:
            return
        self.busy = True
        app = App.get_running_app()
        app.services.run(lookup, app.services.store, self.number, self.last4, then=self._found,
                         error=self._failed)

    def _found(self, result) -> None:
        self.busy = False
        if result.result == "found":
            self.state = result.state
            self.message = i18n._("ui.status.state", service=result.service,
                                  state=i18n._(f"ui.status.state.{result.state}"))
        else:
            self.state = ""
            self.message = i18n._(f"ui.status.{result.code if result.result == 'refused' else 'unknown'}")

    def send_rating(self) -> None:
        if self.busy:
            return
        if not self.stars:
            self.message = i18n._("ui.status.pick_stars")
            return
        self.busy = True
        app = App.get_running_app()
        app.services.run(rate, app.services.store, self.number, self.last4, int(self.stars), list(self.chosen),
                         then=self._rated, error=self._failed)

    def _rated(self, result) -> None:
        self.busy = False
        if result.result == "queued":
            App.get_running_app().services.push_soon()
            self.state = "rated_here"
            self.message = i18n._("ui.status.thanks")
        else:
            self.message = i18n._(f"ui.status.{result.code}")

    def _failed(self, exc) -> None:
        self.busy = False
        self.message = i18n._("ui.error", error=str(exc))
