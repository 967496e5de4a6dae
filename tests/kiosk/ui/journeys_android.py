"""The camera4kivy path through the real app under Xvfb (run by harness.py like every journey).

A real camera4kivy Preview widget (BadgePreview) becomes the app's camera the way
CameraFeed._start_camera makes it so; the home screen shows it in place of the texture image; its
analyze_pixels_callback is called from a thread of its own, as camera4kivy's analysis thread calls
it, with a recorded badge frame laid out as camera4kivy lays out pixels (RGBA, top-down). What is
missing is only the camera itself: connect_camera() needs a live camera (CameraX or a desktop
webcam), which this machine does not have, so the Preview draws no picture here.
"""

from __future__ import annotations

import threading

from PIL import Image

from tests.kiosk.ui.harness import until


def camera4kivy_preview(ctx):
    from kiosk import camera_preview

    yield 0.3
    app, home = ctx.app, ctx.app.screen("home")
    image = home.ids.preview
    preview = camera_preview.preview_class()(aspect_ratio="4:3")
    preview.sink = camera_preview.PixelSink(app.camera.submit_frame)
    app.camera._stop_sources()
    app.camera.decoding = True
    app.camera.preview = preview
    app.camera.source, app.camera.running = "preview", True
    yield 0.3
    ctx.note("preview_shown", preview.parent is not None and image.parent is None)
    home.export_to_png(str(ctx.folder / "home-camera4kivy.png"))
    with Image.open(ctx.badge("14020200001")) as img:
        rgba = img.convert("RGBA")
    pixels, size = rgba.tobytes(), rgba.size

    def analysis_thread():
        for _ in range(3):
            preview.analyze_pixels_callback(pixels, size, (0, 0), 1.0, False)

    thread = threading.Thread(target=analysis_thread, name="camera4kivy-analysis")
    thread.start()
    yield until(lambda: app.sm.current == "feedback" and app.screen("feedback").kind == "checked_in"
                and not app.sm.transition.is_active, 10, "check-in feedback")
    thread.join(5)
    ctx.note("checkin_labels")
    ctx.note("sink", {"frames": preview.sink.frames, "dropped": preview.sink.dropped})
    app.camera.preview = None
    yield 0.2
    ctx.note("image_restored", image.parent is not None and preview.parent is None)
