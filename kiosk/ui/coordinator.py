"""Coordinator mode: who is here, check out, correct a time, close an activity, sync,
the outbox (pending / refused with reasons), enrolment, language, leaving kiosk mode.

Every action runs on the DB worker (kiosk.ui.services) and names the coordinator
(by_vid). The app returns home after two idle minutes (KioskApp._check_idle).
"""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import DictProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk import i18n
from kiosk.attendance import Attendance
from kiosk.timepick import TimePick
from kiosk.ui.services import day_time, hhmm, hours_text, local_dt

PANELS = ["here", "correct", "activities", "sync", "device"]


def local_iso(iso: str | None) -> str:
    """The agent's UTC ISO time -> station time 'MM-DD HH:MM:SS' ('—' when never)."""
    if not iso:
        return "—"
    from datetime import datetime
    try:
        return local_dt(datetime.fromisoformat(iso).timestamp()).strftime("%m-%d %H:%M:%S")
    except ValueError:
        return iso


class CoordinatorScreen(Screen):
    panel = StringProperty("here")
    here = ListProperty([])
    recent = ListProperty([])
    activities = ListProperty([])
    outbox = DictProperty({})
    counts_text = StringProperty("")
    message = StringProperty("")
    editing = DictProperty({})          # the session being corrected
    field = StringProperty("")          # which time is corrected: none until a record is picked

    _sync_seen = None

    def on_kv_post(self, base_widget):
        App.get_running_app().bind(sync=self._sync_changed)

    def _sync_changed(self, app, status) -> None:
        """A round ended or pushed a batch: the sync panel's counts follow."""
        seen = (status.get("pending"), status.get("last_success"), status.get("last_failure"), status.get("running"))
        if seen != self._sync_seen:
            self._sync_seen = seen
            if self.panel == "sync" and self.manager and self.manager.current == self.name:
                self.reload()

    @property
    def app(self):
        return App.get_running_app()

    @property
    def by_vid(self) -> str:
        return (self.app.coordinator or {}).get("vid", "")

    def open(self) -> None:
        self.message = ""
        self.editing = {}
        self.field = ""
        self.show("here")

    def show(self, panel: str) -> None:
        self.panel = panel
        self.ids.panels.current = panel
        for name in PANELS:
            self.ids[f"tab_{name}"].state = "down" if name == panel else "normal"
        self.reload()

    def reload(self) -> None:
        svc = self.app.services
        if self.panel == "here":
            svc.run(svc.here_now, then=self._here)
        elif self.panel == "correct":
            svc.run(svc.recent_sessions, then=self._recent)
        elif self.panel == "activities":
            svc.run(svc.activities, 1, then=self._activities)
        elif self.panel == "sync":
            svc.run(svc.outbox_summary, then=self._outbox)

    # --- who is here ------------------------------------------------------------------

    def _fill(self, box, rows: list[dict], empty_text: str, text_of, buttons_of) -> None:
        """One line per row: its text, then the buttons `buttons_of(row)` makes for it."""
        box.clear_widgets()
        if not rows:
            box.add_widget(Factory.Text(text=empty_text))
        for row in rows:
            line = BoxLayout(size_hint_y=None, spacing="8dp")
            label = Factory.Text(text=text_of(row))
            label.size_hint_y = 1
            line.add_widget(label)
            buttons = buttons_of(row)
            for button in buttons:
                line.add_widget(button)
            # as tall as its words or its buttons, whichever is taller
            fit = lambda *a, line=line, label=label, buttons=buttons: setattr(  # noqa: E731
                line, "height", max([label.texture_size[1] + 16] + [b.height for b in buttons]))
            label.bind(texture_size=fit)
            for button in buttons:
                button.bind(height=fit)
            fit()
            box.add_widget(line)

    def _button(self, kind: str, text: str, width: str, on_release):
        from kivy.metrics import dp

        from kiosk.textfit import REF_SIZE, estimate
        words = estimate(text) / REF_SIZE * 30 * self.app.fs + dp(40)   # its words at 30 units, unwrapped
        button = getattr(Factory, kind)(text=text, size_hint_x=None, width=max(dp(float(width.rstrip("dp"))), words))
        button.bind(on_release=lambda b: on_release())
        return button

    def _here(self, rows: list[dict]) -> None:
        self.here = rows
        self._fill(
            self.ids.here_list, rows, i18n._("ui.coord.nobody"),
            lambda row: (f"{row.get('full_name') or row['name']}  ·  "
                         f"{row['activity'] or i18n._('activity.station_duty')}  ·  {hhmm(row['check_in_at'])}"),
            lambda row: [
                self._button("KButton", i18n._("ui.coord.check_out"), "150dp",
                             lambda: self.check_out(row["session_id"])),
                self._button("GhostButton", i18n._("ui.coord.correct"), "150dp",
                             lambda: self.edit(dict(row, check_out_at=None))),
            ])

    def check_out(self, session_id: str) -> None:
        svc = self.app.services
        svc.run(svc.attendance.check_out, session_id, self.by_vid,
                then=lambda credit: self._did(i18n._("ui.coord.checked_out", hours=hours_text(credit.minutes))),
                error=self._error)

    # --- corrections --------------------------------------------------------------------

    def _recent(self, rows: list[dict]) -> None:
        self.recent = rows
        box = self.ids.recent_list
        box.clear_widgets()
        for row in rows:
            text = f"{row.get('full_name') or row['name']}  {day_time(row['check_in_at'])} → {hhmm(row['check_out_at'])}"
            btn = Factory.GhostButton(text=text, halign="left")
            btn.bind(on_release=lambda b, r=row: self.edit(r))
            box.add_widget(btn)

    def edit(self, row: dict) -> None:
        self.editing = row
        self.ids.reason_input.text = ""
        self.pick_field("check_out" if row.get("check_out_at") else "check_in")
        if self.panel != "correct":
            self.show("correct")

    def pick_field(self, field: str) -> None:
        """Which time to correct: the picker starts from the recorded one (kiosk.timepick)."""
        row = self.editing
        if not row:
            self.field = ""
            self.ids.picker.set(None)
            return
        self.field = field
        now = int(self.app.services.store.clock())
        self.ids.picker.set(TimePick.for_session(field, row["check_in_at"], row.get("check_out_at"), now))

    def editing_text(self) -> str:
        r = self.editing
        if not r:
            return i18n._("ui.coord.pick_session")
        name = r.get("full_name") or r["name"]
        return f"{name}  {day_time(r['check_in_at'])} → {hhmm(r.get('check_out_at'))}"

    def use_reason(self, text: str) -> None:
        """A reason chip: its words in the reason field, to be saved as they are or added to."""
        self.ids.reason_input.text = text

    def save_correction(self) -> None:
        row = self.editing
        if not row:
            self.message = i18n._("ui.coord.pick_session")
            return
        reason = self.ids.reason_input.text.strip()
        if not reason:
            self.message = i18n._("ui.coord.need_reason")
            return
        svc = self.app.services
        if not self.field or self.ids.picker.pick is None:
            self.message = i18n._("ui.coord.pick_field")
            return
        value = self.ids.picker.pick.value
        svc.run(svc.attendance.correct, row["session_id"], self.field, value, reason, self.by_vid,
                then=lambda s: self._corrected(s), error=self._error)

    def _corrected(self, session) -> None:
        self.editing = {}
        self.pick_field("")
        if session.minutes is None:
            self._did(i18n._("ui.coord.corrected_open"))
        else:
            self._did(i18n._("ui.coord.corrected", hours=hours_text(session.minutes)))

    # --- activities ---------------------------------------------------------------------

    def _activities(self, rows: list[dict]) -> None:
        self.activities = rows
        self._fill(
            self.ids.activity_list, rows, i18n._("ui.activities.none"),
            lambda a: f"{a['title']}  {hhmm(a['starts_at'])}–{hhmm(a['ends_at'])}",
            lambda a: [self._button("KButton", i18n._("ui.coord.close_activity"), "180dp",
                                    lambda: self.close_activity(a["id"]))])

    def close_activity(self, activity_id: str) -> None:
        svc = self.app.services
        svc.run(svc.attendance.close_activity, activity_id, self.by_vid,
                then=lambda n: self._did(i18n._("ui.coord.activity_closed", count=n)), error=self._error)

    # --- sync -------------------------------------------------------------------------------

    def sync_now(self) -> None:
        svc = self.app.services
        if not svc.enrolled():
            self.message = i18n._("ui.coord.not_enrolled")
            return
        svc.ensure_sync_agent(start=True)
        self.message = i18n._("status.syncing")

    def _outbox(self, summary: dict) -> None:
        self.outbox = summary
        self.counts_text = i18n._("ui.sync.counts", pending=summary["pending"], refused=summary["refused_count"],
                                  stored=summary["stored"])
        box = self.ids.refused_list
        box.clear_widgets()
        for e in summary["refused"]:
            reason = i18n._(f"ui.server_code.{e['code']}") if i18n.has(f"ui.server_code.{e['code']}", "en") else e["code"]
            box.add_widget(Factory.Text(text=f"#{e['seq']}  {e['type']}  —  {reason}"))
        self._failed_today(box, summary.get("failed_today", []))

    def _failed_today(self, box, rows: list[dict]) -> None:
        """Today's failed scans (kiosk.failed_scans), under the refused events: a revoked badge
        tried three times this morning, a poster's QR code the camera keeps reading."""
        t = i18n._
        header = Factory.Text(text=t("ui.coord.failed_today", count=len(rows)) if rows else t("ui.coord.failed_none"))
        header.bold = True
        box.add_widget(header)
        for f in rows[:50]:
            code = f["code"]
            reason = t(f"ui.failed.{code}") if i18n.has(f"ui.failed.{code}", "en") else code
            badge = f"  ·  {f['vid']} #{f['serial']}" if f.get("vid") else ""
            reads = f"  ·  {t('ui.failed.reads', count=f['reads'])}" if f.get("reads", 1) > 1 else ""
            box.add_widget(Factory.Text(text=f"{hhmm(f['at'])}  {reason}{badge}{reads}"))

    def sync_text(self, status: dict) -> str:
        t = i18n._
        lines = [t("ui.sync.last_success", when=local_iso(status.get("last_success")))]
        if status.get("last_failure"):
            code = status.get("error_code") or ""
            error = t(f"ui.sync_error.{code}") if code and i18n.has(f"ui.sync_error.{code}", "en") else \
                (status.get("last_error") or "")
            lines.append(t("ui.sync.last_failure", when=local_iso(status["last_failure"]), error=error))
        if status.get("running"):
            lines.append(t("status.syncing"))
        return "\n".join(lines)

    # --- device ---------------------------------------------------------------------------

    def enroll(self) -> None:
        url, code = self.ids.server_input.text.strip(), self.ids.code_input.text.strip()
        if not url or not code:
            self.message = i18n._("ui.coord.enroll_need")
            return
        svc = self.app.services
        self.message = i18n._("ui.coord.enrolling")
        svc.run(svc.enroll, url, code, then=lambda r: self._did(i18n._("ui.coord.enrolled")), error=self._error)

    def ask_reset(self) -> None:
        """解除接入 cannot be undone at the kiosk: a dialog asks first."""
        from kiosk.ui.widgets import confirm
        self._dialog = confirm(i18n._("ui.coord.reset_confirm"), i18n._("ui.coord.reset_yes"), i18n._("ui.cancel"),
                               self.reset_enrolment)

    def reset_enrolment(self) -> None:
        svc = self.app.services
        svc.run(svc.reset_enrolment, then=lambda r: self._did(i18n._("ui.coord.reset_done")))

    # --- common -------------------------------------------------------------------------------

    def _did(self, text: str) -> None:
        self.message = text
        self.reload()

    def _error(self, exc) -> None:
        """A known code in the kiosk's own words (both languages); else the error's text."""
        code = getattr(exc, "code", None)
        for key in (f"ui.enroll_error.{code}", f"ui.sync_error.{code}"):
            if code and i18n.has(key, "en"):
                self.message = i18n._(key)
                return
        self.message = i18n._("ui.error", error=str(exc))

    def leave(self) -> None:
        self.app.go_home()
