"""One activity: time, place, organizing team, places left, description, and a QR that
opens its sign-up page on a phone."""

from __future__ import annotations

import io

from kivy.app import App
from kivy.core.image import Image as CoreImage
from kivy.properties import DictProperty, ObjectProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.services import day_time, hhmm


def qr_texture(text: str, box: int = 8):
    """A QR code of `text` as a Kivy texture (qrcode -> PNG bytes -> texture)."""
    import qrcode
    img = qrcode.make(text, box_size=box, border=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    buf.seek(0)
    texture = CoreImage(buf, ext="png").texture
    texture.mag_filter = "nearest"
    return texture


class ActivityDetailScreen(Screen):
    item = DictProperty({})
    qr = ObjectProperty(None, allownone=True)

    def show(self, item: dict) -> None:
        self.item = item
        self.qr = qr_texture(item["signup_url"]) if item.get("signup_url") else None

    def field(self, key: str, item: dict) -> str:
        """kv passes root.item so the row follows the item."""
        return (item or {}).get(key) or ("" if key == "title" else "—")

    def when(self, item: dict | None = None) -> str:
        if not self.item:
            return ""
        return f"{day_time(self.item['starts_at'])}–{hhmm(self.item['ends_at'])}"

    def back(self) -> None:
        App.get_running_app().go("activities")
