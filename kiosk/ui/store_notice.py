"""A full-screen notice for the coordinator: the kiosk's database cannot be written (a full
disk, a read-only or failing disk). Scans are not recorded while it shows; it goes away by
itself once a test write succeeds again (checked every RECHECK_SECONDS).

    notice = StoreNotice.show_for(app, store_error)     # kiosk.store.StoreError (its `kind` translated)
"""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.modalview import ModalView

from kiosk import i18n

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

RECHECK_SECONDS = 5.0


class StoreNotice(ModalView):
    title = StringProperty("")
    message = StringProperty("")
    detail = StringProperty("")

    def __init__(self, app, **kwargs):
        super().__init__(**kwargs)
        self.app = app
        self._recheck = None

    @classmethod
    def show_for(cls, app, problem) -> "StoreNotice":
        notice = getattr(app, "store_notice", None)
        if notice is None:
            notice = app.store_notice = cls(app)
        notice.title = i18n._("ui.store.title")
        kind = getattr(problem, "kind", "other")
        reason = i18n._(f"ui.store.{kind}") if i18n.has(f"ui.store.{kind}", "en") else str(problem)
        notice.message = i18n._("ui.store.help", reason=reason)
        notice.detail = str(problem)   # the sentence of the log, for whoever repairs the machine
        if notice.parent is None:
            notice.open(animation=False)
        if notice._recheck is None:
            notice._recheck = Clock.schedule_interval(notice._check, RECHECK_SECONDS)
        return notice

    def _check(self, dt) -> None:
        svc = self.app.services
        svc.run(svc.store_writable, then=self._checked)

    def _checked(self, writable: bool) -> None:
        if writable:
            if self._recheck is not None:
                self._recheck.cancel()
                self._recheck = None
            self.dismiss(animation=False)
