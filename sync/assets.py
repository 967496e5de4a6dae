"""Where the bundled assets (fonts, sounds, images) live.

The assets are the repository's top-level ``assets/`` directory, next to the ``sync`` and
``kiosk`` packages. ``WEIGUANG_ASSETS`` overrides the location (an installed wheel, a packaged
kiosk image).
"""

from __future__ import annotations

import os
from pathlib import Path

ASSETS_DIR = Path(os.environ.get("WEIGUANG_ASSETS") or Path(__file__).resolve().parent.parent / "assets")


def asset_path(*parts: str) -> Path:
    """Path of an asset, e.g. ``asset_path("fonts", "WeiguangSans.ttf")``.

    Raises FileNotFoundError naming the missing file and the directory searched.
    """
    path = ASSETS_DIR.joinpath(*parts)
    if not path.exists():
        where = "/".join(parts) or "."
        raise FileNotFoundError(
            f"asset {where!r} not found at {path} (assets directory: {ASSETS_DIR}; "
            "set WEIGUANG_ASSETS to the directory holding fonts/, or run from a checkout "
            "of the repository)"
        )
    return path


FONT_FILE = "WeiguangSans.ttf"
FONT_FAMILY = "Weiguang Sans"


def font_path() -> Path:
    """The bundled Chinese font (TrueType outlines; Kivy, PIL and reportlab all load it)."""
    return asset_path("fonts", FONT_FILE)


def __getattr__(name: str):
    # FONT_PATH is resolved on first use, so importing this module never fails on a
    # server without assets; using FONT_PATH there raises the clear FileNotFoundError.
    if name == "FONT_PATH":
        return font_path()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
