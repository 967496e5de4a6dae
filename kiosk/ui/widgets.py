"""Shared widgets: the outcome icon drawn with lines (no glyph to go missing), colours."""

from __future__ import annotations

from kivy.graphics import Color, Ellipse, Line
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.gridlayout import GridLayout
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
    """A white circle with a check (in/out), an equals sign (repeat), a cross (refused) or '?'."""
    kind = StringProperty("checked_in")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, kind=self._draw)

    def _draw(self, *args):
        self.canvas.clear()
        side = min(self.width, self.height)
        if side <= 0:
            return
        cx, cy = self.center
        r = side / 2
        w = max(dp(4), side / 12)
        with self.canvas:
            Color(1, 1, 1, 1)
            Line(circle=(cx, cy, r - w / 2), width=w)
            if self.kind in ("checked_in", "checked_out"):
                Line(points=[cx - r * 0.45, cy, cx - r * 0.1, cy - r * 0.35, cx + r * 0.5, cy + r * 0.35],
                     width=w, joint="round", cap="round")
            elif self.kind == "repeat":
                Line(points=[cx - r * 0.4, cy + r * 0.15, cx + r * 0.4, cy + r * 0.15], width=w, cap="round")
                Line(points=[cx - r * 0.4, cy - r * 0.15, cx + r * 0.4, cy - r * 0.15], width=w, cap="round")
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
            button = Factory.KButton(text=label, font_size=dp(30))
            button.height = dp(76)
            button.key = key
            button.bind(on_release=lambda b: self.press(b.key))
            self.add_widget(button)
        if self.dash:
            clear = Factory.GhostButton(text=i18n._("ui.pad.clear"))
            clear.height = dp(76)
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
