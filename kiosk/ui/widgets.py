"""Shared widgets: the outcome icon drawn with lines (no glyph to go missing), colours."""

from __future__ import annotations

from kivy.graphics import Color, Ellipse, Line
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import TransitionBase
from kivy.uix.widget import Widget

# High contrast, readable from two metres (white text on these).
COLOURS = {
    "checked_in": (0.11, 0.45, 0.20, 1),     # green
    "checked_out": (0.05, 0.33, 0.65, 1),    # blue
    "repeat": (0.80, 0.42, 0.00, 1),         # amber
    "refused": (0.72, 0.11, 0.11, 1),        # red
    "choose": (0.20, 0.24, 0.36, 1),         # slate: a question, not an error
    "brand": (0.70, 0.10, 0.10, 1),
}


def fit_font(text: str, width: float, biggest: float, smallest: float, lines: int = 2) -> float:
    """The largest font size (px) <= biggest at which `text` fits in `lines` lines of `width`
    (a CJK character is about 1 em wide, a Latin one about 0.56 em)."""
    ems = sum(1.0 if ord(c) > 0x2E80 else 0.56 for c in text) or 1
    return max(smallest, min(biggest, lines * 0.9 * width / ems))


class OutcomeIcon(Widget):
    """A circle with a check (in/out), a clock (already checked in: come back to check out),
    two checks (already checked out: nothing more to do), a cross (refused) or an "i"."""
    kind = StringProperty("checked_in")
    tint = ListProperty([1, 1, 1, 1])

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, kind=self._draw, tint=self._draw)

    def _draw(self, *args):
        self.canvas.clear()
        side = min(self.width, self.height)
        if side <= 0:
            return
        cx, cy = self.center
        r = side / 2
        w = max(dp(4), side / 12)
        with self.canvas:
            Color(*self.tint)
            Line(circle=(cx, cy, r - w / 2), width=w)
            if self.kind in ("checked_in", "checked_out"):
                Line(points=[cx - r * 0.45, cy, cx - r * 0.1, cy - r * 0.35, cx + r * 0.5, cy + r * 0.35],
                     width=w, joint="round", cap="round")
            elif self.kind == "repeat":       # a clock: you are on the clock; scan again when you leave
                Line(points=[cx, cy + r * 0.55, cx, cy, cx + r * 0.4, cy - r * 0.2], width=w, joint="round",
                     cap="round")
                Ellipse(pos=(cx - w, cy - w), size=(2 * w, 2 * w))
            elif self.kind == "repeat_out":   # two checks side by side: done already, nothing more to do
                for dx in (-r * 0.27, r * 0.25):
                    Line(points=[cx + dx - r * 0.22, cy, cx + dx - r * 0.06, cy - r * 0.2, cx + dx + r * 0.22,
                                 cy + r * 0.24], width=w * 0.6, joint="round", cap="round")
            elif self.kind == "refused":
                d = r * 0.38
                Line(points=[cx - d, cy - d, cx + d, cy + d], width=w, cap="round")
                Line(points=[cx - d, cy + d, cx + d, cy - d], width=w, cap="round")
            else:  # choose: a dot and a bar, like an "i"
                Ellipse(pos=(cx - w, cy + r * 0.3), size=(2 * w, 2 * w))
                Line(points=[cx, cy - r * 0.45, cx, cy + r * 0.1], width=w, cap="round")


class CrossFade(TransitionBase):
    """A fade between screens that only changes the screens' opacity.

    Kivy's FadeTransition renders both screens into two new window-sized FBOs (with
    stencil buffers) and compiles a new shader program on every screen change; with one
    change per scan that native memory piled up (bench_ui: +300 MB RSS over 700 scans,
    Python heap flat). This one allocates nothing per transition."""

    duration = NumericProperty(0.12)

    def on_progress(self, progress):
        self.screen_in.opacity = progress
        self.screen_out.opacity = 1.0 - progress

    def on_complete(self):
        self.screen_in.opacity = 1.0
        self.screen_out.opacity = 1.0
        self.screen_in.pos = self.screen_out.pos = self.manager.pos
        super().on_complete()


class NumberPad(GridLayout):
    """A large on-screen number pad (no system keyboard): digits, ⌫, clear; with `dash`,
    a "-" key too (order numbers). Types into `value`, at most `max_length` characters."""
    value = StringProperty("")
    max_length = NumericProperty(11)
    dash = BooleanProperty(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cols = 3
        from kivy.clock import Clock
        Clock.schedule_once(lambda dt: self._build(), 0)

    def _build(self) -> None:
        from kivy.factory import Factory

        from kiosk import i18n
        self.clear_widgets()
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "-" if self.dash else "C", "0", "⌫"]
        for key in keys:
            label = {"C": i18n._("ui.pad.clear"), "⌫": i18n._("ui.pad.back")}.get(key, key)
            button = Factory.PadKey(text=label)
            button.key = key
            button.bind(on_release=lambda b: self.press(b.key))
            self.add_widget(button)
        if self.dash:
            clear = Factory.PadKey(text=i18n._("ui.pad.clear"), ghost=True)
            clear.key = "C"
            clear.bind(on_release=lambda b: self.press("C"))
            self.add_widget(clear)

    def press(self, key: str) -> None:
        if key == "⌫":
            self.value = self.value[:-1]
        elif key == "C":
            self.value = ""
        elif len(self.value) < self.max_length:
            self.value += key


class WrapLabel(Label):
    """Big words that break between words, never inside one (kiosk.textfit): set `source`,
    the largest and smallest font sizes and the most lines; the label picks the size and
    puts the line breaks. With max_font == min_font it only breaks lines (lists)."""
    source = StringProperty("")
    max_font = NumericProperty(60)
    min_font = NumericProperty(28)
    most_lines = NumericProperty(3)     # (Label.max_lines would cut the text: not that one)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._widths: dict = {}
        self.bind(source=self._refit, width=self._refit, max_font=self._refit, min_font=self._refit,
                  most_lines=self._refit, bold=self._refit, text_size=self._refit, padding=self._refit)

    def _measure(self, text: str) -> float:
        from kiosk.textfit import REF_SIZE
        key = (text, self.bold, self.font_name)
        width = self._widths.get(key)
        if width is None:
            from kivy.core.text import Label as CoreLabel
            width = CoreLabel(font_size=REF_SIZE, bold=self.bold, font_name=self.font_name).get_extents(text)[0]
            if len(self._widths) >= 512:   # bounded: forget them all, then keep this one (a kiosk runs for months)
                self._widths.clear()
            self._widths[key] = width
        return width

    def _refit(self, *args) -> None:
        from kiosk.textfit import fit
        if not self.source:
            self.text = ""
            return
        # the text's room: text_size (when set) less the padding, as the toolkit lays it out
        room = (self.text_size[0] if self.text_size[0] else self.width) - 2 * self.padding[0]
        size, lines = fit(self.source, room, self._measure, self.max_font,
                          min(self.min_font, self.max_font), int(self.most_lines))
        self.font_size = size
        self.text = "\n".join(lines)


class TimePicker(GridLayout):
    """The coordinator's time picker: the time, big, between ±1 h / ±10 min / ±1 min buttons.
    The arithmetic and the bounds are kiosk.timepick.TimePick's; `value` follows it."""
    value = NumericProperty(0)
    shown = StringProperty("—")
    active = BooleanProperty(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.pick = None
        from kivy.clock import Clock
        Clock.schedule_once(lambda dt: self._build(), 0)

    def _build(self) -> None:
        from kivy.app import App
        from kivy.factory import Factory

        from kiosk.timepick import STEPS, step_label
        app = App.get_running_app()
        self.clear_widgets()
        self.cols = 3
        self.steps = {}
        for seconds in STEPS:
            button = Factory.GhostButton(text=step_label(seconds, app.lang if app else "zh_CN"))
            button.seconds = seconds
            button.bind(on_release=lambda b: self.step(b.seconds))
            self.steps[seconds] = button
            self.add_widget(button)
        self._state()

    def set(self, pick) -> None:
        self.pick = pick
        self._state()

    def step(self, seconds: int) -> None:
        if self.pick is not None:
            self.pick = self.pick.step(seconds)
            self._state()

    def _state(self) -> None:
        from kiosk.ui.services import day_time
        self.active = self.pick is not None
        self.value = self.pick.value if self.pick else 0
        self.shown = day_time(self.pick.value) if self.pick else "—"
        for seconds, button in getattr(self, "steps", {}).items():
            button.disabled = self.pick is None or self.pick.at_bound(seconds)


def confirm(title: str, yes: str, no: str, on_yes) -> "ModalView":
    """A dialog for a destructive action: the question, a red `yes`, a plain `no`."""
    from kivy.factory import Factory
    view = Factory.ConfirmDialog()
    view.ids.question.text = title
    view.ids.btn_yes.text = yes
    view.ids.btn_no.text = no
    view.ids.btn_yes.bind(on_release=lambda b: (view.dismiss(), on_yes()))
    view.ids.btn_no.bind(on_release=lambda b: view.dismiss())
    view.open()
    return view
