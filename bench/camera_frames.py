"""Generated camera frames of our own badges, for the decode bench and the decoder tests.

    from bench.camera_frames import CATEGORIES, badge_frames
    for category, text, bgr in badge_frames(per_category=40, seed=2026):
        ...

Each frame is what the kiosk's OpenCV camera provider hands over: an HxWx3 uint8 array in **BGR**
order, 640x480 by default. The badge texts are real signed tokens (sync.badges.issue with a key made
from the seed, so every run makes the same frames), printed as the badges are (sync.printing.qr_matrix:
version 6 or 7 at error correction M) on a white card, held in front of a background, in one of
these categories, each with its own kind of damage at severities where a plain decoder reads some but
not all frames:

  clean         the card upright-ish, sharp, well lit (the control: everything should read)
  tilt          the card turned up to 60 degrees away from the camera (strong perspective)
  blur          out of focus (Gaussian) or moved (motion blur)
  low_contrast  faded print, dim light, a washed-out camera
  curved        the card bent round a vertical or horizontal axis (held in a hand, a lanyard)
  phone         the badge shown on a phone screen: bezel, glare, the screen's pixel grid, bloom
  noise         a dark room: strong sensor noise, hot pixels
  small         the badge far away: modules of 1.4 to 2 pixels

Nothing here is used at run time; the module needs numpy, OpenCV and the badge code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date

import cv2
import numpy as np

CATEGORIES = ("clean", "tilt", "blur", "low_contrast", "curved", "phone", "noise", "small")


def signing_key(seed: int):
    """A badge signing key derived from `seed` (the same key every run)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from sync.badges import SigningKey, key_id

    private = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"weiguang-bench-{seed}".encode()).digest())
    return SigningKey(key_id(private.public_key()), private)


def badge_texts(n: int, seed: int) -> list[str]:
    from sync.badges import issue

    key = signing_key(seed)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        vid = f"1402{int(rng.integers(0, 10**7)):07d}"
        role = "coordinator" if i % 17 == 0 else "volunteer"
        out.append(issue(key, vid=vid, serial=i + 1, role=role, expires=date(2029, 12, 31)))
    return out


def modules(text: str) -> np.ndarray:
    """The badge's QR modules, True = dark, with a 4-module quiet zone."""
    from sync.printing import qr_matrix

    m = np.array(qr_matrix(text), dtype=bool)
    return np.pad(m, 4, constant_values=False)


# --------------------------------------------------------------------------- drawing


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    small = rng.normal(120, 35, (h // 32 + 2, w // 32 + 2)).astype(np.float32)
    bg = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    # some straight edges (a shelf, a door frame) and fine texture
    for _ in range(int(rng.integers(0, 4))):
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.line(bg, p1, p2, float(rng.uniform(20, 230)), int(rng.integers(2, 12)))
    bg += rng.normal(0, 8, (h, w)).astype(np.float32)
    return np.clip(bg, 10, 240)


def _card(mods: np.ndarray, px: float, dark: float, light: float, rng: np.random.Generator) -> np.ndarray:
    """The badge card, drawn at `px` pixels per module (a float image, values dark..light)."""
    n = mods.shape[0]
    size = int(round(n * px))
    qr = cv2.resize(mods.astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST).astype(bool)
    # the card: the QR's quiet zone continues into a white card with a printed header band
    ch, cw = int(size * 1.45), int(size * 1.15)
    card = np.full((ch, cw), light, np.float32)
    y0, x0 = int(size * 0.32), (cw - size) // 2
    card[y0:y0 + size, x0:x0 + size] = np.where(qr, dark, light)
    band = int(size * 0.18)
    card[int(size * 0.06):int(size * 0.06) + band, x0:x0 + size] = light * 0.55 + dark * 0.45
    # print texture
    card += rng.normal(0, 2, card.shape).astype(np.float32)
    return card


def _bend(card: np.ndarray, amount: float, vertical_axis: bool) -> np.ndarray:
    """Bend the card round an axis: the middle comes forward, the edges fold back and shrink."""
    h, w = card.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    if vertical_axis:
        u = (xs / (w - 1)) * 2 - 1          # -1..1 across the card
        theta = u * amount                   # angle on the cylinder
        src_x = (np.sin(theta) / np.sin(amount) + 1) / 2 * (w - 1)
        # seen from the front the middle is closer: rows bulge with the cosine
        scale = 1 + 0.12 * amount * (np.cos(theta) - np.cos(amount))
        src_y = (ys - h / 2) / scale + h / 2
    else:
        v = (ys / (h - 1)) * 2 - 1
        theta = v * amount
        src_y = (np.sin(theta) / np.sin(amount) + 1) / 2 * (h - 1)
        scale = 1 + 0.12 * amount * (np.cos(theta) - np.cos(amount))
        src_x = (xs - w / 2) / scale + w / 2
    # the inverse map: for each output pixel, where on the flat card it comes from
    return cv2.remap(card, src_x.astype(np.float32), src_y.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=-1)


def _place(bg: np.ndarray, card: np.ndarray, angle_deg: float, tilt: float, rng: np.random.Generator,
           scale: float = 1.0) -> np.ndarray:
    """Put the card in the frame, turned by angle_deg in the image plane and tilted away by `tilt`
    (0 = facing the camera, 0.5 = strong perspective)."""
    h, w = bg.shape
    ch, cw = card.shape
    src = np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]])
    corners = (src - [cw / 2, ch / 2]) * scale
    # tilt: one side farther away (shorter) than the other
    if tilt:
        side = rng.integers(0, 4)
        k = np.array([1.0, 1.0, 1.0, 1.0])
        far = [(0, 1), (1, 2), (2, 3), (3, 0)][side]
        for i in far:
            k[i] = 1 - tilt
        centre = corners.mean(axis=0)
        corners = centre + (corners - centre) * k[:, None]
        # foreshortening along the tilt direction
        corners[:, side % 2] *= 1 - tilt * 0.4
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.sin(a) * 0 + np.cos(a)]])
    corners = corners @ rot.T
    extent = np.abs(corners).max(axis=0)
    cx = rng.uniform(extent[0] + 2, max(extent[0] + 3, w - extent[0] - 2)) if extent[0] * 2 < w - 4 else w / 2
    cy = rng.uniform(extent[1] + 2, max(extent[1] + 3, h - extent[1] - 2)) if extent[1] * 2 < h - 4 else h / 2
    dst = np.float32(corners + [cx, cy])
    m = cv2.getPerspectiveTransform(src, dst)
    valid = (card >= 0).astype(np.float32)
    warped = cv2.warpPerspective(np.maximum(card, 0), m, (w, h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(valid, m, (w, h), flags=cv2.INTER_LINEAR)
    return bg * (1 - mask) + warped * mask


def _to_bgr(grey: np.ndarray, rng: np.random.Generator, tint: float = 0.06) -> np.ndarray:
    t = rng.uniform(-tint, tint, 3) + 1
    bgr = np.stack([grey * t[0], grey * t[1], grey * t[2]], axis=-1)
    return bgr


def _finish(bgr: np.ndarray, rng: np.random.Generator, noise: float = 3.0) -> np.ndarray:
    bgr = bgr + rng.normal(0, noise, bgr.shape)
    return np.clip(bgr, 0, 255).astype(np.uint8)


def _motion_kernel(length: int, angle: float) -> np.ndarray:
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1
    m = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    k = cv2.warpAffine(k, m, (length, length))
    return k / k.sum()


def frame(category: str, text: str | None, rng: np.random.Generator, size=(640, 480)) -> np.ndarray:
    """One BGR frame of a badge holding `text`, damaged as `category` says; text None: a blank
    card with no code (a frame without a QR code, for timing and for the no-misread tests)."""
    w, h = size
    mods = modules(text) if text is not None else np.zeros((49, 49), bool)
    n = mods.shape[0]
    bg = _background(h, w, rng)
    angle = rng.uniform(-25, 25)
    # module size on the sensor: a badge held at 30-60 cm from a 640x480 camera
    px = rng.uniform(2.6, 5.0)
    dark, light = rng.uniform(15, 45), rng.uniform(205, 245)
    tilt = rng.uniform(0, 0.15)
    render = 3.0  # draw the card larger and let the warp shrink it (anti-aliased)
    if category == "small":
        px = rng.uniform(1.4, 2.0)
    if category == "tilt":
        tilt = rng.uniform(0.3, 0.6)
        px = rng.uniform(3.0, 5.0)
    if category == "low_contrast":
        mid = rng.uniform(90, 190)
        span = rng.uniform(18, 45)
        dark, light = mid - span / 2, mid + span / 2
    card = _card(mods, px * render, dark, light, rng)
    if category == "curved":
        card = _bend(card, rng.uniform(0.7, 1.25), vertical_axis=bool(rng.integers(0, 2)))
    if category == "phone":
        # the QR on a lit screen: the screen's pixel grid, a black bezel round it
        ch, cw = card.shape
        yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
        period = rng.uniform(2.2, 3.6) * render
        grid = 0.82 + 0.18 * (np.cos(2 * np.pi * xx / period) * np.cos(2 * np.pi * yy / period)) ** 2
        card = np.where(card >= 0, card * grid, card)
        card = np.pad(card, int(px * render * 3), constant_values=12.0)
    grey = _place(bg, card, angle, tilt, rng, scale=1 / render)
    if category == "phone":
        # glare: a bright soft blob, and the screen's glow bleeding into dark modules
        gy, gx = rng.uniform(0, h), rng.uniform(0, w)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        glare = np.exp(-(((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * rng.uniform(60, 160) ** 2)))
        grey = grey + glare * rng.uniform(40, 110)
        grey = 0.75 * grey + 0.25 * cv2.GaussianBlur(grey, (0, 0), 2.5)
    # lighting: a shadow gradient across the frame
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = rng.normal(size=2)
    d /= np.linalg.norm(d)
    ramp = ((xx - w / 2) * d[0] + (yy - h / 2) * d[1]) / max(w, h)
    shade = 1 + ramp * (rng.uniform(0.2, 0.5) if category == "low_contrast" else rng.uniform(0, 0.3))
    grey = grey * shade
    # optics
    if category == "blur":
        if rng.random() < 0.5:
            grey = cv2.GaussianBlur(grey, (0, 0), rng.uniform(1.3, 2.4))
        else:
            grey = cv2.filter2D(grey, -1, _motion_kernel(int(rng.integers(5, 10)), rng.uniform(0, 180)))
    else:
        grey = cv2.GaussianBlur(grey, (0, 0), rng.uniform(0.5, 0.9))
    if category == "low_contrast":
        # a washed-out camera: the whole picture squeezed towards mid grey
        g = rng.uniform(0.45, 0.8)
        grey = 128 + (grey - 128) * g
    bgr = _to_bgr(grey, rng)
    if category == "noise":
        out = _finish(bgr, rng, noise=rng.uniform(14, 26))
        hot = rng.random(out.shape[:2]) < rng.uniform(0.002, 0.01)
        out[hot] = rng.integers(0, 256, (int(hot.sum()), 3), dtype=np.uint8)
        return out
    return _finish(bgr, rng, noise=rng.uniform(1.5, 4.0))


def badge_frames(per_category: int, seed: int = 2026, size=(640, 480),
                 categories=CATEGORIES) -> Iterator[tuple[str, str, np.ndarray]]:
    """(category, expected text, BGR frame) for `per_category` frames of every category."""
    texts = badge_texts(max(per_category, 1) * 3, seed)
    for ci, category in enumerate(categories):
        rng = np.random.default_rng([seed, ci])
        for i in range(per_category):
            text = texts[(i * 7 + ci) % len(texts)]
            yield category, text, frame(category, text, rng, size)


def empty_frames(n: int, seed: int = 2026, size=(640, 480)) -> Iterator[np.ndarray]:
    """BGR frames of the same scenes with a blank card (or none): what the camera sees between badges."""
    rng = np.random.default_rng([seed, 99])
    for i in range(n):
        yield frame(CATEGORIES[i % len(CATEGORIES)], None, rng, size)


if __name__ == "__main__":  # write a contact sheet of a few frames per category, to look at
    import sys

    out = sys.argv[1] if len(sys.argv) > 1 else "camera-frames.png"
    rows = []
    for category in CATEGORIES:
        fs = [cv2.resize(f, (320, 240)) for _, _, f in badge_frames(4, categories=(category,))]
        rows.append(np.hstack(fs))
    cv2.imwrite(out, np.vstack(rows))
    print(out)
