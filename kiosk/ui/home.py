"""Home: station, time, network state, what is on now and next, and the camera preview.

Always ready to scan: the camera (or replay) feeds the decoder whatever screen is showing;
this screen only shows the preview and the prompt.
"""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.services import hhmm


class HomeScreen(Screen):
    now_items = ListProperty([])
    next_items = ListProperty([])
    camera_on = BooleanProperty(False)      # a camera or a replay is feeding the preview

    def on_kv_post(self, base_widget):
        App.get_running_app().bind(camera=self._bind_camera, lang=lambda *a: self.refresh())

    def _bind_camera(self, app, camera):
        if camera is not None:
            camera.bind(texture=self._set_texture, frames=self._frame, preview=self._set_preview,
                        running=lambda cam, running: setattr(self, "camera_on", running))
            self.camera_on = camera.running
            self._set_preview(camera, camera.preview)

    def _set_preview(self, camera, preview):
        """camera4kivy's Preview draws itself: it takes the texture image's place while it runs."""
        image = self.ids.preview
        shown = getattr(self, "_shown_preview", None)
        if shown is not None and shown.parent is not None:
            holder = shown.parent
            index = holder.children.index(shown)
            holder.remove_widget(shown)
            holder.add_widget(image, index=index)
        self._shown_preview = None
        if preview is not None and image.parent is not None:
            holder = image.parent
            index = holder.children.index(image)
            preview.size_hint, preview.pos_hint = image.size_hint, image.pos_hint
            holder.remove_widget(image)
            holder.add_widget(preview, index=index)
            self._shown_preview = preview

    def _set_texture(self, camera, texture):
        self.ids.preview.texture = texture

    def _frame(self, camera, frames):
        if self.manager and self.manager.current == self.name:
            self.ids.preview.canvas.ask_update()

    def refresh(self) -> None:
        app = App.get_running_app()
        app.services.run(app.services.now_and_next, then=self._fill)

    def _fill(self, data: dict) -> None:
        self.now_items = [self._line(a) for a in data["now"]]
        self.next_items = [self._line(a) for a in data["next"]]

    @staticmethod
    def _line(a: dict) -> str:
        place = f" · {a['place']}" if a.get("place") else ""
        return f"{hhmm(a['starts_at'])}–{hhmm(a['ends_at'])}  {a['title']}{place}"

    def open_activities(self) -> None:
        app = App.get_running_app()
        app.screen("activities").refresh()
        app.go("activities")

    def open_status(self) -> None:
        app = App.get_running_app()
        app.screen("request_status").reset()
        app.go("request_status")

    def open_my_hours(self) -> None:
        app = App.get_running_app()
        app.screen("my_hours").start()
        app.go("my_hours")

    def open_order(self) -> None:
        app = App.get_running_app()
        app.screen("order").reset()
        app.go("order")
