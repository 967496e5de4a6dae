"""A QR code as raw RGB pixels, made off the UI thread (the screen only uploads them).

    w, h, data = qr_rgb("https://center.example/me/…")    # on the DB worker
    texture = Texture.create(size=(w, h)); texture.blit_buffer(data, colorfmt="rgb")   # UI thread

Encoding a volunteer's page link and drawing it costs milliseconds of pure Python (qrcode);
done on the UI thread it held a frame for as long. qrcode and PIL are imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QrPixels:
    width: int
    height: int
    rgb: bytes          # top row first


def qr_rgb(text: str, box: int = 8, border: int = 2) -> QrPixels:
    import qrcode
    img = qrcode.make(text, box_size=box, border=border).get_image().convert("RGB")
    return QrPixels(img.width, img.height, img.tobytes())
