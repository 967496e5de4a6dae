"""QR pictures for the scanner tests, made with the `qrcode` package."""

import numpy as np
import qrcode

BADGE = "WG1:MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43UOV3HO6DZPIYTEMZUGU3DOOBZGA"


def qr_rgb(text: str = BADGE, box: int = 6, border: int = 4, dark=(20, 40, 120), light=(250, 245, 230)) -> np.ndarray:
    """An HxWx3 RGB uint8 picture of a QR code (tinted, so channel order matters a little)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box, border=border)
    qr.add_data(text)
    qr.make(fit=True)
    modules = np.asarray(qr.make_image().get_image().convert("L")) < 128
    return np.where(modules[..., None], np.uint8(dark), np.uint8(light)).astype(np.uint8)
