"""The decoder's second attempt, its pinned symbology and the camera's channel order.

The second attempt must never return a text that is not in the picture: it is run here with no
budget and every step (light-on-dark included) on thousands of pictures without a QR code, and on
every corpus photo, where whatever it returns must be the photo's exact text. The tests that read
run over both backends (the `decoder` fixture: the zxing-cpp wheel and its C API through ctypes).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

from bench.camera_frames import CATEGORIES, badge_frames
from kiosk.scanner.decoder import Frame, decode, read_raw
from kiosk.scanner.second_attempt import ALL_STEPS, Budget, second_attempt

from .helpers import BADGE, qr_rgb

ROOT = Path(__file__).parents[3]
CORPUS = Path(os.environ.get("WEIGUANG_QR_CORPUS", ROOT / "tests" / "data" / "qr-corpus"))
FONT = ROOT / "assets" / "fonts" / "WeiguangSans.ttf"
ROTATIONS = (None, Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270)


def everything(gray: np.ndarray, dec=None) -> list[str]:
    """All a decode could return from this picture: the first read, and every step of the second
    attempt run whatever the first read found and whatever the budget."""
    read = dec.read_raw if dec is not None else read_raw
    gray = np.ascontiguousarray(gray)
    texts, boxes = read(gray)
    return texts + second_attempt(gray, read, boxes, steps=ALL_STEPS)


def corpus_images():
    for path in sorted(CORPUS.glob("qrcode-*/*")):
        if path.suffix in (".png", ".jpg", ".jpeg", ".gif"):
            yield path, path.with_suffix(".txt").read_bytes().decode("utf-8").strip()


# ----------------------------------------------------------------------- pictures without a QR code


def noise_images(rng: np.random.Generator, n: int):
    for i in range(n):
        h, w = int(rng.integers(60, 260)), int(rng.integers(60, 340))
        kind = i % 6
        if kind == 0:  # white noise
            img = rng.integers(0, 256, (h, w), dtype=np.uint8)
        elif kind == 1:  # blobs: blurred noise at a random scale
            img = cv2.GaussianBlur(rng.normal(128, 80, (h, w)).astype(np.float32), (0, 0), rng.uniform(0.7, 6))
            img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
        elif kind == 2:  # black and white blocks, QR-like texture at a random module size
            m = int(rng.integers(2, 9))
            blocks = rng.random((h // m + 1, w // m + 1)) < rng.uniform(0.3, 0.7)
            img = np.where(np.kron(blocks, np.ones((m, m), bool))[:h, :w], 20, 235).astype(np.uint8)
        elif kind == 3:  # gradients and stripes
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            a = rng.uniform(0, np.pi)
            f = rng.uniform(0.01, 0.6)
            img = 127 + 120 * np.sin((xx * np.cos(a) + yy * np.sin(a)) * f)
            img = np.clip(img + rng.normal(0, rng.uniform(0, 30), (h, w)), 0, 255).astype(np.uint8)
        elif kind == 4:  # a checkerboard, maybe warped
            m = int(rng.integers(2, 12))
            yy, xx = np.mgrid[0:h, 0:w]
            img = np.where(((yy // m) + (xx // m)) % 2 == 0, 30, 225).astype(np.uint8)
        else:  # square rings: things that look like finder patterns, scattered
            img = np.full((h, w), 230, np.uint8)
            for _ in range(int(rng.integers(1, 6))):
                s = int(rng.integers(3, 12))
                x, y = int(rng.integers(0, max(1, w - 7 * s))), int(rng.integers(0, max(1, h - 7 * s)))
                cv2.rectangle(img, (x, y), (x + 7 * s - 1, y + 7 * s - 1), 20, -1)
                cv2.rectangle(img, (x + s, y + s), (x + 6 * s - 1, y + 6 * s - 1), 230, -1)
                cv2.rectangle(img, (x + 2 * s, y + 2 * s), (x + 5 * s - 1, y + 5 * s - 1), 20, -1)
            img = np.clip(img + rng.normal(0, 10, img.shape), 0, 255).astype(np.uint8)
        yield img


def poster_images(rng: np.random.Generator, n: int):
    """Text posters: lines of Chinese and Latin text in the kiosk's font, sometimes small and blurred."""
    words = ["志愿服务", "文明实践", "微光", "签到", "WG1:", "QR", "Weiguang", "14020200001", "邻里关照",
             "义诊体检", "ABCDEFGHJKLMNPQRSTUVWXYZ234567", "扫码签到 Scan here", "■□■□", "▓▒░"]
    for _ in range(n):
        w, h = int(rng.integers(160, 420)), int(rng.integers(120, 320))
        bg = int(rng.integers(180, 256))
        img = Image.new("L", (w, h), bg)
        draw = ImageDraw.Draw(img)
        y = int(rng.integers(0, 12))
        while y < h:
            size = int(rng.integers(8, 40))
            font = ImageFont.truetype(str(FONT), size)
            line = " ".join(rng.choice(words, int(rng.integers(1, 5))))
            draw.text((int(rng.integers(-10, 20)), y), line, fill=int(rng.integers(0, 90)), font=font)
            y += size + int(rng.integers(0, 10))
        arr = np.asarray(img)
        if rng.random() < 0.4:
            arr = cv2.GaussianBlur(arr, (0, 0), rng.uniform(0.5, 2.0))
        yield arr


def masked_corpus_crops():
    """Corpus photos with their QR code painted over (the photo's own surroundings stay), whole
    and cut into crops: natural pictures that held a code a moment ago."""
    for path, _expected in corpus_images():
        with Image.open(path) as img:
            gray = np.array(img.convert("L"))
        results = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCodeModel2)
        for r in results:
            p = r.position
            pts = np.array([[c.x, c.y] for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)], np.int32)
            centre = pts.mean(axis=0)
            grown = (centre + (pts - centre) * 1.35).astype(np.int32)  # the quiet zone and a margin
            cv2.fillConvexPoly(gray, grown, int(np.median(gray)))
        yield gray
        h, w = gray.shape
        for k in range(3):
            y0, x0 = (h // 4) * (k % 2), (w // 4) * ((k + 1) % 2)
            yield gray[y0:y0 + h // 2 + 40, x0:x0 + w // 2 + 40]


def masked_camera_frames(rng: np.random.Generator, n: int):
    """Generated camera frames with the badge card replaced by a blank card: the scene, no code."""
    for cat, text, bgr in badge_frames(n // len(CATEGORIES) + 1, seed=int(rng.integers(1, 10**6))):
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        ok, boxes = read_raw(gray)
        r = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCodeModel2, try_invert=False,
                                   return_errors=True)
        if not r:
            continue  # the code's place is unknown: it cannot be masked with certainty
        for x in r:
            p = x.position
            pts = np.array([[c.x, c.y] for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)], np.int32)
            centre = pts.mean(axis=0)
            cv2.fillConvexPoly(gray, (centre + (pts - centre) * 1.4).astype(np.int32), 225)
        yield gray


def test_second_attempt_never_reads_a_picture_without_a_qr_code(decoder):
    rng = np.random.default_rng(20261130)
    found, seen = [], 0
    sources = [
        ("noise", noise_images(rng, 1800)),
        ("poster", poster_images(rng, 300)),
        ("corpus-masked", masked_corpus_crops()),
        ("camera-masked", masked_camera_frames(rng, 160)),
    ]
    counts = {}
    for name, images in sources:
        counts[name] = 0
        for img in images:
            seen += 1
            counts[name] += 1
            texts = everything(img, decoder)
            if texts:
                found.append((name, texts))
    assert seen >= 2500 and counts["corpus-masked"] >= 300 and counts["camera-masked"] >= 80, counts
    assert not found, f"read a text out of a picture without a QR code: {found[:5]}"


@pytest.mark.parametrize("fmt", ["MicroQRCode", "RMQRCode", "QRCodeModel1", "DataMatrix", "Aztec", "Code128"])
def test_other_symbologies_yield_nothing(decoder, fmt):
    if not hasattr(zxingcpp.BarcodeFormat, fmt):
        pytest.skip(f"zxing-cpp has no {fmt}")
    try:
        barcode = zxingcpp.create_barcode("7430", getattr(zxingcpp.BarcodeFormat, fmt))
    except Exception as exc:  # noqa: BLE001 - a format zxing can read but not write
        pytest.skip(f"zxing-cpp cannot write {fmt}: {exc}")
    img = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=6, add_quiet_zones=True))
    img = np.pad(img, 30, constant_values=255)
    # the control: zxing reads it (with `QRCode`, the format the decoder used to ask for, where it is a QR kind)
    assert zxingcpp.read_barcodes(img), fmt
    assert decoder.decode(img) == []
    assert everything(img, decoder) == []
    assert decoder.decode(np.dstack([img] * 3)) == []


def test_a_micro_qr_beside_a_badge_gives_the_badge_only(decoder):
    micro = zxingcpp.create_barcode("7430", zxingcpp.BarcodeFormat.MicroQRCode)
    m = np.asarray(zxingcpp.write_barcode_to_image(micro, scale=6, add_quiet_zones=True))
    badge = np.asarray(Image.fromarray(qr_rgb()).convert("L"))
    h = max(m.shape[0], badge.shape[0])
    both = np.hstack([np.pad(badge, ((0, h - badge.shape[0]), (0, 0)), constant_values=250),
                      np.pad(m, ((0, h - m.shape[0]), (0, 0)), constant_values=250)])
    assert sorted(r.text for r in zxingcpp.read_barcodes(both, formats=zxingcpp.BarcodeFormat.QRCode)) == sorted(
        [BADGE, "7430"])  # the control: the old format reads both
    assert decoder.decode(both) == [BADGE]


# ----------------------------------------------------------------------- the corpus: exact texts


def test_second_attempt_reads_only_the_exact_text_of_every_corpus_photo(decoder):
    assert CORPUS.is_dir(), f"QR corpus not found at {CORPUS}"
    wrong, read, tried = [], 0, 0
    for path, expected in corpus_images():
        with Image.open(path) as img:
            gray = np.array(img.convert("L"))
        for op in ROTATIONS:
            g = np.ascontiguousarray(np.asarray(Image.fromarray(gray).transpose(op)) if op else gray)
            tried += 1
            # forced: the second attempt runs even where the first read succeeds
            texts = second_attempt(g, decoder.read_raw, decoder.read_raw(g)[1], steps=ALL_STEPS)
            read += bool(texts)
            if any(t.strip() != expected for t in texts):
                wrong.append((path.name, texts))
            texts = decoder.decode(g)
            if [t.strip() for t in texts] != [expected]:
                wrong.append((path.name, "decode", texts))
    assert tried == 384
    assert read >= 300, read  # the steps do read photos: the check above is not empty
    assert not wrong, wrong[:5]


# ----------------------------------------------------------------------- generated camera frames


def test_second_attempt_reads_more_generated_frames_and_never_another_text():
    first, second, wrong = {}, {}, []
    for cat, text, bgr in badge_frames(6, seed=77):
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        texts, boxes = read_raw(gray, try_invert=False)
        more = texts or second_attempt(gray, read_raw, boxes)
        first[cat] = first.get(cat, 0) + (texts == [text])
        second[cat] = second.get(cat, 0) + (more == [text])
        if any(t != text for t in texts + more):
            wrong.append((cat, texts, more))
    assert not wrong
    assert sum(second.values()) > sum(first.values()), (first, second)
    assert second["small"] > first["small"], (first, second)


# ----------------------------------------------------------------------- the budget


def test_budget_spends_at_most_what_first_reads_earn_plus_one_step():
    b = Budget(share=0.5, max_frames=4)
    assert not b.available()  # nothing earned yet
    b.earn(0.010)
    assert b.available()
    b.pay(0.004)
    assert b.available()
    b.pay(0.004)  # overdrawn by 3 ms: no more steps until later frames pay the debt
    assert not b.available()
    b.earn(0.004)  # +2 ms: still -1 ms
    assert not b.available()
    b.earn(0.004)
    assert b.available()
    # savings are capped at max_frames frames' worth of the recent average
    for _ in range(100):
        b.earn(0.010)
    b.pay(0.5 * 0.010 * 4 * 0.99)
    assert b.available()
    b.pay(0.5 * 0.010 * 4 * 0.02)
    assert not b.available()


def test_budget_earns_what_is_left_of_the_raw_time_measured_in_process():
    b = Budget(target=1.5, calibrate_every=4)
    assert [b.wants_calibration() for _ in range(8)] == ["after", "", "", "", "before", "", "", ""]
    assert b.raw_over_first == 1.0  # not measured yet: the cautious side
    b.earn(0.010)
    assert b.earned == pytest.approx(0.005)  # 1.5 x 1 - 1 = half the first read
    b.calibrate(0.010, 0.020)  # the raw read took twice the first read's time, and is paid for
    assert b.raw_over_first == pytest.approx(2.0)
    assert b.spent == pytest.approx(0.020)
    assert not b.available()
    b.earn(0.010)  # 1.5 x 2 - 1 = twice the first read
    assert b.earned == pytest.approx(0.005 + 0.020)
    b.calibrate(0.010, 1.0)  # a raw read preempted by the scheduler counts as 3x at most
    assert b.raw_over_first == pytest.approx((0.020 + 0.030) / 0.020)
    for _ in range(20):
        b.calibrate(0.001, 1.0)
    assert b.raw_over_first == pytest.approx(3.0)  # bounded
    assert not Budget(share=0.5).wants_calibration()


def test_decode_with_an_empty_budget_is_the_first_read_only(monkeypatch):
    from kiosk.scanner import decoder

    calls = []
    monkeypatch.setattr(decoder, "BUDGET", Budget(share=0.0))
    monkeypatch.setattr(decoder, "second_attempt", lambda *a, **k: calls.append(a) or [])
    assert decode(np.full((240, 320), 128, np.uint8)) == []
    assert calls == []


# ----------------------------------------------------------------------- the camera's channel order


def bgr_badge() -> np.ndarray:
    # As RGB, dark (0,0,255) blue on light (255,80,0) orange: luma 29 on 123. The camera hands the
    # same picture in BGR order; read as if it were RGB, both colours have luma 76: no code at all.
    rgb = qr_rgb(dark=(0, 0, 255), light=(255, 80, 0))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def test_bgr_frames_are_read_in_bgr_order(decoder):
    bgr = bgr_badge()
    h, w = bgr.shape[:2]
    F = decoder.Frame
    assert decoder.decode(F(bgr.tobytes(), w, h, "bgr")) == [BADGE]
    bgra = np.dstack([bgr, np.full((h, w), 255, np.uint8)])
    assert decoder.decode(F(bgra.tobytes(), w, h, "bgra")) == [BADGE]
    assert decoder.decode(F(np.ascontiguousarray(bgr[::-1]).tobytes(), w, h, "bgr", bottom_up=True)) == [BADGE]
    # the control: the same bytes taken for RGB hold no code, even for the second attempt
    assert decoder.decode(F(bgr.tobytes(), w, h, "rgb")) == []
    assert decoder.decode(bgr) == []


def test_the_camera_path_hands_the_decoder_bgr():
    from kiosk.camera import CameraFeed

    bgr = bgr_badge()
    h, w = bgr.shape[:2]
    seen = []
    feed = CameraFeed(on_texts=seen.append)

    try:
        # what the camera's capture thread yields (kiosk/capture.py): OpenCV's BGR, top-down,
        # handed on by show_frame(frame, colorfmt="bgr")
        feed.hand_to_decoder(bgr, "bgr")
        assert feed.decoder.wait_idle(30)
        assert feed.decoder.decoded == 1
        assert seen == [[BADGE]]
    finally:
        feed.stop()


# ----------------------------------------------------------------------- blur and the step order


def out_of_focus_badge(text: str, px: float = 3.5, sigma: float = 2.0, contrast: float = 180.0) -> np.ndarray:
    """A badge QR at `px` pixels per module, out of focus (a Gaussian blur of `sigma` pixels), with
    mild sensor noise, on a light card: an HxW uint8 grey picture."""
    from bench.camera_frames import modules

    m = modules(text)
    size = int(m.shape[0] * px)
    img = cv2.resize(m.astype(np.float32) * -contrast + 220, (size, size), interpolation=cv2.INTER_AREA)
    img = cv2.GaussianBlur(np.pad(img, 40, constant_values=220), (0, 0), sigma)
    img += np.random.default_rng(3).normal(0, 2.5, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_an_out_of_focus_badge_is_read_by_the_deblur_step(decoder, monkeypatch):
    from bench.camera_frames import badge_texts
    from kiosk.scanner.second_attempt import step_order

    text = badge_texts(1, 5)[0]
    g = out_of_focus_badge(text)  # blurred by 0.57 of a module
    # the controls: the plain read (light-on-dark pass included) and the unsharp mask read nothing
    assert decoder.read_raw(g)[0] == []
    assert second_attempt(g, decoder.read_raw, steps=("sharpened",)) == []
    assert second_attempt(g, decoder.read_raw, steps=("deblurred",)) == [text]
    # the frame is recognised as blurred: the deblur comes first
    assert step_order(g)[:2] == ["found_box_upscaled", "deblurred"]
    # and the kiosk's decode reads it (a budget with credit: the test is not about the budget)
    monkeypatch.setattr(decoder, "BUDGET", Budget(share=50.0))
    assert decoder.decode(g) == [text]
    assert decoder.decode(np.dstack([g] * 3)) == [text]


def test_step_order_follows_what_the_frame_looks_like():
    from bench.camera_frames import badge_texts
    from kiosk.scanner.second_attempt import STEPS, step_order

    text = badge_texts(1, 5)[0]
    sharp = out_of_focus_badge(text, px=2.0, sigma=0.6)
    blurred = out_of_focus_badge(text, px=3.5, sigma=2.0)
    washed_out = out_of_focus_badge(text, px=3.5, sigma=1.0, contrast=30.0)
    assert step_order(sharp)[1] == "sharpened"
    assert step_order(blurred)[1] == "deblurred"
    assert step_order(washed_out)[1] == "denoised_deblurred"
    for g in (sharp, blurred, washed_out):
        assert sorted(step_order(g)) == sorted(STEPS)  # every step, each once
        assert step_order(g, ("sharpened",)) == ["sharpened"]
    # tiny and flat pictures: an order all the same, no error
    assert sorted(step_order(np.full((21, 21), 200, np.uint8))) == sorted(STEPS)


def test_later_steps_wait_for_credit_that_covers_them():
    asked = []

    class Recording:
        def available(self, reserve=0.0):
            asked.append(reserve)
            return True

        def pay(self, seconds):
            pass

        def savings(self, frames):
            return 0.0

    def read(image, **options):
        x = 0
        for i in range(20000):  # some CPU time, so that a step has a cost
            x += i
        return [], []

    g = out_of_focus_badge("WG1:TEST", px=3.0, sigma=1.0)
    assert second_attempt(g, read, budget=Recording()) == []
    # the frame's first whole-frame step runs on any credit; each later one asks for its cost
    assert asked[0] == 0.0 and len(asked) == 3 and all(r > 0 for r in asked[1:]), asked
    with pytest.raises(ValueError, match="unknown step"):
        second_attempt(g, read, steps=("sharpen",))


def test_budget_available_above_a_reserve():
    b = Budget(share=1.0)
    b.earn(0.010)
    assert b.available() and b.available(0.009) and not b.available(0.010)
    assert b.savings(2) == pytest.approx(0.020)  # what a sharp-looking frame leaves for the others


def test_a_sharp_looking_frame_leaves_savings_for_a_blurred_one():
    from bench.camera_frames import badge_texts

    text = badge_texts(1, 5)[0]
    blurred = out_of_focus_badge(text)  # read by the deblur step (the test above)
    sharp = out_of_focus_badge(text, px=2.0, sigma=0.6)
    calls = []

    def read(image, **options):
        calls.append(image.shape)
        return read_raw(image, **options)

    b = Budget(share=1.0)
    b.earn(0.001)  # savings of one frame: less than the two a sharp-looking frame must leave
    assert second_attempt(sharp, read, budget=b) == [] and calls == []
    assert second_attempt(blurred, read, budget=b) == [text] and calls
