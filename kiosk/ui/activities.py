"""Activities by category: category tabs, then a list; a tap opens the detail page."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk import i18n
from kiosk.ui.services import day_time, hhmm

# Category (as the center names it) -> message key; unknown categories show as they are.
CATEGORY_KEYS = {
    "理论宣讲": "theory", "志愿服务": "volunteering", "文化活动": "culture", "我们的节日": "festivals",
    "健康义诊": "health", "环境整治": "environment", "文明交通": "traffic", "文明祭扫": "memorial",
}
ALL = ""


def category_label(category: str) -> str:
    if category == ALL:
        return i18n._("ui.category.all")
    key = CATEGORY_KEYS.get(category)
    return i18n._(f"ui.category.{key}") if key else category


class ActivitiesScreen(Screen):
    items = ListProperty([])
    category = StringProperty(ALL)

    def refresh(self) -> None:
        app = App.get_running_app()
        app.services.run(app.services.activities, 7, then=self._loaded)

    def _loaded(self, items: list[dict]) -> None:
        self.items = items
        self._build()

    def on_enter(self, *args):
        self._build()

    def pick_category(self, category: str) -> None:
        self.category = category
        self._build()

    def _build(self) -> None:
        cats = [ALL] + sorted({a["category"] for a in self.items},
                              key=lambda c: (list(CATEGORY_KEYS).index(c) if c in CATEGORY_KEYS else 99, c))
        tabs = self.ids.tabs
        tabs.clear_widgets()
        for cat in cats:
            tab = Factory.KToggle(text=category_label(cat), group="category",
                                  state="down" if cat == self.category else "normal", allow_no_selection=False)
            tab.size_hint_y = 1
            tab.bind(on_release=lambda b, c=cat: self.pick_category(c))
            tabs.add_widget(tab)
        box = self.ids.list
        box.clear_widgets()
        shown = [a for a in self.items if self.category in (ALL, a["category"])]
        for a in shown:
            btn = Factory.ActivityItem()
            for key, value in self.parts(a).items():
                setattr(btn, key, value)
            btn.bind(on_release=lambda b, item=a: self.open(item))
            btn.bind(minimum_height=self._even)
            box.add_widget(btn)
        if not shown:
            box.add_widget(Factory.Text(text=i18n._("ui.activities.none")))

    def _even(self, *args) -> None:
        """Two columns: the cards of one row as tall as the taller (no ragged rows)."""
        items = [w for w in reversed(self.ids.list.children) if hasattr(w, "minimum_height")]
        cols = self.ids.list.cols or 1
        for start in range(0, len(items), cols):
            row = items[start:start + cols]
            tallest = max(item.minimum_height for item in row)
            for item in row:
                item.height = tallest

    @staticmethod
    def parts(a: dict) -> dict:
        """The card's lines: title, when, place, team, places left, the description's start."""
        left = "" if a["places_left"] is None else i18n._("ui.activity.places_left", count=a["places_left"])
        return {"title": a["title"], "when": f"{day_time(a['starts_at'])}–{hhmm(a['ends_at'])}",
                "place": a["place"] or "", "team": a.get("team") or "", "left": left,
                "about": a.get("description") or ""}

    @staticmethod
    def line(a: dict) -> str:
        place = f" · {a['place']}" if a["place"] else ""
        left = ""
        if a["places_left"] is not None:
            left = "  " + i18n._("ui.activity.places_left", count=a["places_left"])
        return f"{a['title']}\n{day_time(a['starts_at'])}–{hhmm(a['ends_at'])}{place}{left}"

    def open(self, item: dict) -> None:
        app = App.get_running_app()
        app.screen("activity_detail").show(item)
        app.go("activity_detail")
