"""A QR code as raw RGB pixels, made off the UI thread (the screen only uploads them).

    w, h, data = qr_rgb("https://center.example/me/…")    # on the DB worker
    texture = Texture.create(size=(w, h)); texture.blit_buffer(data, colorfmt="rgb")   # UI thread

Encoding a volunteer's page link and drawing it costs milliseconds of pure Python (qrcode);
done on the UI thread it held a frame for as long. qrcode is imported on first use; Pillow never.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QrPixels:
    width: int
    height: int
    rgb: bytes          # top row first


def qr_rgb(text: str, box: int = 8, border: int = 2) -> QrPixels:
    """qrcode.make's code (error correction M, the smallest version that fits), drawn from its
    module matrix with numpy: the kiosk never loads Pillow for it (≈ 3 MB)."""
    import numpy as np
    qr = _qrcode_main().QRCode(box_size=box, border=border)
    qr.add_data(text)
    qr.make(fit=True)
    dark = np.array(qr.get_matrix(), dtype=bool)          # the border included
    grey = np.where(dark, 0, 255).astype(np.uint8).repeat(box, axis=0).repeat(box, axis=1)
    rgb = np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    return QrPixels(rgb.shape[1], rgb.shape[0], rgb.tobytes())


def _qrcode_main():
    """qrcode.main, imported without Pillow when Pillow is not loaded yet: qrcode imports it
    only to offer its PIL module drawers under an old name, inside `try: … except ImportError`
    (qrcode/image/styles/moduledrawers/__init__.py); the encoder never uses them, and
    qrcode.make's own PIL image (sync.printing's badge sheets) imports Pillow when it draws."""
    import sys
    if "qrcode.main" not in sys.modules and "PIL" not in sys.modules:
        sys.modules["PIL"] = None          # `import PIL` raises ImportError for the moment
        try:
            import qrcode.main
        finally:
            if sys.modules.get("PIL", 0) is None:
                del sys.modules["PIL"]
    import qrcode.main
    return qrcode.main
