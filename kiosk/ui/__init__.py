"""The kiosk's screens: one screen = one ``<name>.py`` (its class, state and one-line
handlers) + one ``<name>.kv`` (its layout). Shared widgets are in widgets.py/widgets.kv.

    from kiosk.ui import load_screens
    for screen in load_screens(["home", "feedback"]):
        sm.add_widget(screen)
"""

from __future__ import annotations

import importlib
from pathlib import Path

UI_DIR = Path(__file__).resolve().parent


def class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Screen"


def load_screens(names: list[str]):
    from kivy.lang import Builder
    import kiosk.ui.widgets  # noqa: F401 - registers the shared widget classes
    screens = []
    for name in names:
        module = importlib.import_module(f"kiosk.ui.{name}")
        Builder.load_file(str(UI_DIR / f"{name}.kv"))
        screens.append(getattr(module, class_name(name))(name=name))
    return screens
