"""Scan feedback, readable from two metres: colour, icon, words; then back home.

When two activities are open the volunteer taps one, and the same scan is decided again
with that activity (Attendance.scan(text, activity_id=...)).
"""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk import i18n
from kiosk.ui.services import hhmm, hours_text
from kiosk.ui.widgets import COLOURS, fit_font  # noqa: F401 - fit_font: older callers

def _qr(url: str, pixels=None):
    """The page QR as a texture: from pixels the DB worker drew (kiosk.qrpixels), else drawn here."""
    if pixels is not None:
        from kivy.graphics.texture import Texture
        texture = Texture.create(size=(pixels.width, pixels.height), colorfmt="rgb")
        texture.flip_vertical()
        texture.blit_buffer(pixels.rgb, colorfmt="rgb", bufferfmt="ubyte")
        texture.mag_filter = "nearest"
        return texture
    from kiosk.ui.activity_detail import qr_texture
    try:
        return qr_texture(url)
    except Exception:  # noqa: BLE001 - a QR that cannot be drawn must not cost the check-out screen
        return None


def star_level(n: int) -> str:
    """三星志愿者 / 3-star volunteer ('' below one star)."""
    if not n or n <= 0:
        return ""
    numerals = i18n._("star.numerals")
    numeral = numerals[n - 1] if n <= len(numerals) and i18n.get_language() != "en" else str(n)
    return i18n._("star.level", n=numeral)


SHOW_SECONDS = {"checked_in": 4, "checked_out": 5, "repeat": 4, "refused": 7, "choose": 25}
QR_SECONDS = 12     # a check-out with the volunteer's own page QR: time to take out a phone


class FeedbackScreen(Screen):
    kind = StringProperty("checked_in")      # checked_in / checked_out / repeat / refused / choose
    headline = StringProperty("")
    detail = StringProperty("")
    greeting = StringProperty("")
    next_step = StringProperty("")           # what to do now, in words
    icon = StringProperty("checked_in")      # the icon's drawing (kiosk.ui.widgets.OutcomeIcon)
    background = ListProperty(COLOURS["checked_in"])
    choices = ListProperty([])               # [{"id", "title", "place", "starts_at", "ends_at"}]
    seconds_left = NumericProperty(0)
    qr = ObjectProperty(None, allownone=True)  # the volunteer's own page (a check-out), as a texture

    _timer = None
    _decision = None

    def show(self, decision) -> None:
        self._decision = decision
        self.kind = self._kind(decision)
        self.background = list(COLOURS[self.kind])
        self.headline, self.detail = self._words(decision)
        self.next_step = self._next(decision, self.kind)
        self.icon = "repeat_out" if decision.result == "repeat" and decision.code == "already_checked_out" \
            else self.kind
        self.greeting = i18n._("result.greeting", name=decision.name) if decision.name else ""
        self.choices = list(decision.open_activities) if self.kind == "choose" else []
        self._build_choices()
        url = getattr(decision, "page_url", None) if self.kind == "checked_out" else None
        self.qr = _qr(url, getattr(decision, "page_qr", None)) if url else None
        self._countdown(QR_SECONDS if self.qr is not None else SHOW_SECONDS[self.kind])

    fit = staticmethod(fit_font)

    @staticmethod
    def _kind(d) -> str:
        if d.result == "refused" and d.code == "choose_activity":
            return "choose"
        return d.result if d.result in SHOW_SECONDS else "refused"

    @staticmethod
    def _next(d, kind: str) -> str:
        """The next step, said plainly: every outcome tells the volunteer what to do now."""
        if kind == "checked_in":
            return i18n._("ui.next.checked_in")
        if kind == "checked_out":
            if "below_minimum" in (d.flags or []) and not d.minutes:
                return i18n._("ui.next.below_minimum")
            return i18n._("ui.next.checked_out")
        if kind == "repeat":
            if d.code == "already_checked_out":
                return i18n._("ui.next.already_checked_out")
            return i18n._("ui.next.repeat")
        if kind == "choose":
            return i18n._("ui.next.choose")
        return ""

    @staticmethod
    def _words(d) -> tuple[str, str]:
        title = d.activity_title or ""
        if d.result == "checked_in":
            where = title or i18n._("activity.station_duty")
            return i18n._("result.checked_in", time=hhmm(d.at)), where
        if d.result == "checked_out":
            where = title or i18n._("activity.station_duty")
            # Hours awaiting review, apart from those credited (this session's own, if in
            # review, are in the headline already).
            pending = (d.year_pending_minutes or 0) - ((d.minutes or 0) if d.state == "review" else 0)
            if pending > 0:
                where += " · " + i18n._("result.pending_review", hours=hours_text(pending))
            key = "result.late_checkout" if d.code == "late_checkout" else "result.checked_out"
            headline = i18n._(key, hours=hours_text(d.minutes), year_hours=hours_text(d.year_minutes))
            level = star_level(getattr(d, "stars", 0))
            if level:
                headline += " · " + level
            if getattr(d, "stars_reached", 0):
                where = i18n._("result.star_reached", hours=hours_text(d.total_minutes),
                               level=star_level(d.stars_reached)) + "\n" + where
            return headline, where
        if d.result == "repeat":
            if d.code == "already_checked_out":
                return i18n._("ui.result.already_checked_out"), ""
            return i18n._("result.repeat"), ""
        if d.code == "choose_activity":
            return i18n._("ui.feedback.choose"), ""
        key = f"refused.{d.code}"
        if i18n.has(key) or i18n.has(key, "en"):
            return i18n.refusal(d.code), ""
        if i18n.has(f"ui.refused.{d.code}", "en"):
            return i18n._(f"ui.refused.{d.code}"), ""
        return i18n._("ui.refused.other"), d.code

    def _build_choices(self) -> None:
        box = self.ids.choices
        box.clear_widgets()
        from kivy.factory import Factory
        for item in self.choices:
            place = f" · {item['place']}" if item.get("place") else ""
            btn = Factory.ChoiceButton(text=f"{item['title']}\n{hhmm(item['starts_at'])}–{hhmm(item['ends_at'])}{place}")
            btn.bind(on_release=lambda b, aid=item["id"]: self.pick(aid))
            box.add_widget(btn)

    def pick(self, activity_id: str) -> None:
        """The volunteer tapped an activity: decide the same scan again with it."""
        if self._decision is None:
            return
        self._cancel()
        App.get_running_app().choose_activity(self._decision.scanned_text, activity_id)

    def _countdown(self, seconds: int) -> None:
        self._cancel()
        self.seconds_left = seconds
        self._timer = Clock.schedule_interval(self._tick, 1.0)

    def _tick(self, dt):
        self.seconds_left -= 1
        if self.seconds_left <= 0:
            self._cancel()
            if self.manager and self.manager.current == self.name:
                App.get_running_app().go_home()
            return False

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def done(self) -> None:
        self._cancel()
        App.get_running_app().go_home()

    def on_leave(self, *args):
        self._cancel()
