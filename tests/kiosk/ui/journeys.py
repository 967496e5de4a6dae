"""Journeys through the real app (run by harness.py in a subprocess, one per process)."""

from __future__ import annotations

import time

from tests.kiosk.ui.harness import find_button, labels, play, tap, until


def _on(ctx, name):
    return lambda: ctx.app.sm.current == name and ctx.app.sm.transition.is_active is False


def _feedback(ctx, kind=None):
    fb = ctx.app.screen("feedback")
    return lambda: (ctx.app.sm.current == "feedback" and (kind is None or fb.kind == kind) and fb.headline
                    and not ctx.app.sm.transition.is_active)


def smoke(ctx):
    yield 1.0
    ctx.note("home")
    ctx.app.screen("home").ids  # noqa: B018
    ctx.app.sm.current_screen.export_to_png(str(ctx.folder / "home.png"))
    yield 0.2


def _home(ctx):
    return lambda: ctx.app.sm.current == "home" and not ctx.app.sm.transition.is_active


def _settled(ctx):
    return until(lambda: not ctx.app.sm.transition.is_active, 5, "transition over")


def _done_and_home(ctx):
    """Tap 完成/Done on the feedback screen and wait for home; then let the sliding de-dupe lapse."""
    yield _settled(ctx)
    tap(ctx.app.screen("feedback").ids.btn_done)
    yield until(_home(ctx), 5, "home")
    yield until(lambda: not ctx.app.camera.running, 10, "badge taken away")
    yield 2.2     # the app's sliding de-dupe: the same badge again after 2 s away is a new scan


def check_in_out(ctx):
    """Badge 1 in front of the camera: check-in; two and a half hours later: check-out; again: repeat."""
    yield 0.3
    play(ctx.app, ctx.badge("14020200001"), hold_seconds=1.5)
    yield until(_feedback(ctx, "checked_in"), 10, "check-in feedback")
    ctx.note("checkin_labels")
    ctx.note("checkin_background", list(ctx.app.screen("feedback").background))
    yield from _done_and_home(ctx)
    ctx.clock.advance(150 * 60)
    play(ctx.app, ctx.badge("14020200001"), hold_seconds=1.5)
    yield until(_feedback(ctx, "checked_out"), 10, "check-out feedback")
    ctx.note("checkout_labels")
    yield from _done_and_home(ctx)
    play(ctx.app, ctx.badge("14020200001"), hold_seconds=1.0)
    yield until(_feedback(ctx, "repeat"), 10, "repeat feedback")
    ctx.note("repeat_labels")
    # the feedback screen goes home by itself
    yield until(_home(ctx), 10, "auto return home")
    ctx.note("returned_home", True)


def held_20s(ctx):
    """A badge held before the camera for 20 s (300 replayed frames at 15 fps): one check-in."""
    yield 0.3
    play(ctx.app, ctx.badge("14020200001"), hold_seconds=20, fps=15)
    yield until(_feedback(ctx, "checked_in"), 10, "check-in feedback")
    ctx.note("checkin_labels")
    yield until(lambda: not ctx.app.camera.running, 30, "replay finished")
    yield 1.0
    svc = ctx.app.services
    ctx.note("frames", ctx.app.camera.frames)
    ctx.note("decoder", {"submitted": ctx.app.camera.decoder.submitted, "decoded": ctx.app.camera.decoder.decoded})
    ctx.note("scans", {"submitted": svc.scans_submitted, "ignored": svc.scans_ignored, "decided": svc.scans_decided})
    ctx.note("final_screen", ctx.app.sm.current)


def refusals(ctx):
    """A revoked badge, then a foreign QR code: red, with what to do next; nothing recorded."""
    yield 0.3
    play(ctx.app, ctx.badge("14020200002"), hold_seconds=1.5)
    yield until(_feedback(ctx, "refused"), 10, "revoked feedback")
    ctx.note("revoked_labels")
    ctx.note("revoked_background", list(ctx.app.screen("feedback").background))
    yield from _done_and_home(ctx)
    play(ctx.app, ctx.badge("foreign"), hold_seconds=1.5)
    yield until(_feedback(ctx, "refused"), 10, "foreign feedback")
    ctx.note("foreign_labels")
    # the USB wedge scanner: the same text typed fast and ended by Enter
    yield from _done_and_home(ctx)
    from kivy.core.window import Window
    token = ctx.tokens["14020200003"]
    for ch in token:
        Window.dispatch("on_key_down", 0, 0, ch, [])
    Window.dispatch("on_key_down", 13, 40, None, [])
    yield until(_feedback(ctx, "checked_in"), 10, "wedge check-in")
    ctx.note("wedge_labels")
    # Escape does nothing outside coordinator mode
    Window.dispatch("on_key_down", 27, 41, None, [])
    yield 0.3
    ctx.note("after_escape_running", True)


def _setup_revoked(store, services, folder):
    from kiosk.store import Revocation
    Revocation.replace(serial=2, vid="14020200002", revoked_at=0).execute()


refusals.setup = _setup_revoked


def two_open(ctx):
    """Two activities open: the volunteer taps one and the scan is decided again with it."""
    yield 0.3
    play(ctx.app, ctx.badge("14020200001"), hold_seconds=1.5)
    yield until(_feedback(ctx, "choose"), 10, "choose feedback")
    yield 0.3
    ctx.note("choose_labels")
    tap(find_button(ctx.screen(), "文明交通劝导"))
    yield until(_feedback(ctx, "checked_in"), 10, "check-in after choosing")
    ctx.note("checkin_labels")


two_open.activities = "two"


def _press(screen, button):
    """Scroll `button` into view (a finger would), then tap it."""
    screen.ids.scroll.scroll_to(button, padding=20, animate=False)
    yield 0.05
    tap(button)


def _keys(screen, pad, keys):
    for key in keys:
        yield from _press(screen, find_button(pad, key))


def browse(ctx):
    """Activities by category, a detail page with its QR; then a service order."""
    yield 0.3
    yield _settled(ctx)
    yield 0.1
    tap(ctx.app.screen("home").ids.btn_activities)
    yield until(lambda: ctx.app.sm.current == "activities" and ctx.app.screen("activities").items, 5, "list")
    yield 0.3
    ctx.note("list_labels")
    yield _settled(ctx)
    yield 0.1
    tap(find_button(ctx.screen(), "健康义诊"))
    yield 0.3
    ctx.note("health_labels")
    yield _settled(ctx)
    yield 0.1
    tap(find_button(ctx.screen(), "义诊体检"))
    yield until(lambda: ctx.app.sm.current == "activity_detail", 5, "detail")
    yield 0.3
    ctx.note("detail_labels")
    ctx.note("qr_size", list(ctx.app.screen("activity_detail").qr.size))
    yield _settled(ctx)
    yield 0.1
    tap(ctx.app.screen("activity_detail").ids.btn_back)
    yield 0.3
    yield _settled(ctx)
    yield 0.1
    tap(ctx.app.screen("activities").ids.btn_back)
    yield until(_home(ctx), 5, "home")
    yield _settled(ctx)
    yield 0.1
    tap(ctx.app.screen("home").ids.btn_order)
    yield until(lambda: ctx.app.sm.current == "order", 5, "order")
    yield 0.3
    order = ctx.app.screen("order")
    yield _settled(ctx)
    yield 0.1
    ctx.note("menu_labels")
    yield from _press(order, find_button(order, "家电维修"))
    yield 0.2
    yield from _press(order, find_button(order, "冰箱不制冷"))    # a preset description, tapped
    yield from _keys(order, order.ids.pad, "1391234")             # the number pad: too short
    yield _settled(ctx)
    yield 0.1
    yield from _press(order, order.ids.btn_submit)
    yield until(lambda: order.message, 5, "order message")
    ctx.note("bad_phone_message", order.message)
    yield from _keys(order, order.ids.pad, ["删除", *"45678"])
    ctx.note("typed_phone", order.ids.phone.text)
    ctx.note("pad_labels")
    order.export_to_png(str(ctx.folder / "order-pad.png"))
    yield _settled(ctx)
    yield 0.1
    yield from _press(order, order.ids.btn_submit)
    yield until(lambda: order.number, 5, "order number")
    yield 0.5
    ctx.note("receipt_labels")
    ctx.note("receipt_qr", order.qr is not None)
    order.export_to_png(str(ctx.folder / "order-receipt.png"))
    ctx.note("order_message", order.message)
    ctx.note("order_number", order.number)
    yield _settled(ctx)
    yield 0.1
    tap(order.ids.btn_back)
    yield until(_home(ctx), 5, "home")
    yield _settled(ctx)
    yield 0.1
    tap(ctx.app.screen("home").ids.btn_language)
    yield 0.3
    ctx.note("english_home")


def _coordinator_badge(ctx, wait_dedupe=True):
    if wait_dedupe:
        yield until(lambda: not ctx.app.camera.running, 10, "badge taken away")
        yield 2.2
    play(ctx.app, ctx.badge("14020200009"), hold_seconds=1.0)
    yield until(lambda: ctx.app.sm.current == "unlock", 10, "unlock screen")
    yield _settled(ctx)
    yield 0.2


def _pin(ctx, digits):
    yield 0.15   # let the pad be laid out after a stage change
    unlock = ctx.app.screen("unlock")
    for d in digits:
        tap(find_button(unlock.ids.pad, d))
    tap(unlock.ids.key_ok)


def _center_sends_pin(store, vid="14020200009", pin="2468"):
    """The PIN hash arrives as the center sends it: a pulled "coordinator_pin" change."""
    from argon2 import PasswordHasher
    from kiosk.coordinator import receive_pin_hash
    receive_pin_hash(store, vid, PasswordHasher().hash(pin))


def coordinator_unlock(ctx):
    """Coordinator badge -> 管理模式 without a PIN from the center: no pad, 'ask the center';
    the center's hash arrives -> the PIN opens coordinator mode; later five wrong PINs lock."""
    yield 0.3
    yield from _coordinator_badge(ctx, wait_dedupe=False)
    unlock = ctx.app.screen("unlock")
    ctx.note("choice_labels")
    tap(unlock.ids.btn_manage)
    yield until(lambda: unlock.stage == "nopin", 5, "no-PIN stage")
    yield 0.3
    ctx.note("nopin_message", unlock.message)
    ctx.note("nopin_pad", unlock.ids.stages.current)
    ctx.note("nopin_labels")
    tap(unlock.ids.btn_cancel)
    yield until(_home(ctx), 5, "home")
    done = ctx.app.services.run(_center_sends_pin, ctx.store)
    yield until(done.done, 10, "PIN hash applied")
    yield from _coordinator_badge(ctx)
    tap(unlock.ids.btn_manage)
    yield until(lambda: unlock.stage == "pin", 5, "pin stage")
    yield from _pin(ctx, "2468")
    yield until(lambda: ctx.app.sm.current == "coordinator", 10, "coordinator mode")
    yield 0.3
    ctx.note("coordinator_labels")
    tap(ctx.app.screen("coordinator").ids.btn_exit)
    yield until(_home(ctx), 5, "home")
    # now five wrong PINs
    yield from _coordinator_badge(ctx)
    tap(unlock.ids.btn_manage)
    yield until(lambda: unlock.stage == "pin", 5, "pin stage")
    for i in range(5):
        yield from _pin(ctx, "1111")
        yield until(lambda: unlock.message, 10, "pin answer")
        ctx.result.setdefault("wrong_messages", []).append(unlock.message)
        if i < 4:
            unlock.message = ""
    yield from _pin(ctx, "2468")   # the right PIN, but locked now
    unlock.message = ""
    yield until(lambda: unlock.message, 10, "locked answer")
    ctx.note("locked_message", unlock.message)
    ctx.note("screen_after_lock", ctx.app.sm.current)


def correct_time(ctx):
    """Coordinator mode: correct a check-in time with a reason; check someone out."""
    yield 0.3
    yield from _coordinator_badge(ctx, wait_dedupe=False)
    unlock = ctx.app.screen("unlock")
    tap(unlock.ids.btn_manage)
    yield until(lambda: unlock.stage == "pin", 5, "pin stage")
    yield from _pin(ctx, "2468")
    coord = ctx.app.screen("coordinator")
    yield until(lambda: ctx.app.sm.current == "coordinator" and coord.here, 10, "here list")
    yield 0.3
    ctx.note("here_labels")
    # check out 王芳 (second row), correct 林建国's check-in
    tap(find_button(coord.ids.here_list, "签退"))
    yield until(lambda: "已签退" in coord.message, 5, "checked out message")
    ctx.note("checkout_message", coord.message)
    yield until(lambda: len(coord.here) == 1, 5, "one left")
    tap(find_button(coord.ids.here_list, "更正"))
    yield until(lambda: coord.panel == "correct", 5, "correct panel")
    yield 0.2
    tap(coord.ids.field_in)
    from kiosk.ui.services import hhmm
    new_in = coord.here[0]["check_in_at"] - 1800
    ctx.note("new_check_in", new_in)
    coord.ids.time_input.text = hhmm(new_in)
    coord.ids.reason_input.text = "忘记扫码，按签到表更正"
    tap(coord.ids.btn_save)
    yield until(lambda: coord.message.startswith("已更正"), 5, "corrected")
    ctx.note("corrected_message", coord.message)
    ctx.note("correct_labels")


def _setup_sessions(store, services, folder):
    from datetime import datetime
    _center_sends_pin(store)
    now = int(store.clock())
    desk = services.attendance
    import json
    tokens = json.loads((folder / "tokens.json").read_text())
    desk.scan(tokens["14020200001"], at=now - 3 * 3600)
    desk.scan(tokens["14020200003"], at=now - 2 * 3600)


correct_time.setup = _setup_sessions



# --- sync down, then up -----------------------------------------------------------------

def _setup_server(store, services, folder):
    """A real `weiguang server run` on 127.0.0.1, a station, a one-time code (in ctx.extra)."""
    import atexit
    from kiosk.demo import LocalServer
    _center_sends_pin(store)
    # A kiosk gets its activities from the center: the harness's sample ones are unknown to
    # this server, which refuses check-ins to them (activity_not_here). Station duty here.
    from kiosk.store import Activity
    Activity.delete().execute()
    server = LocalServer(folder / "server").init()
    server.start()
    atexit.register(server.stop)
    sync_down_up.server = server
    sync_down_up.code = server.code("WBY")


def _unlock(ctx):
    yield from _coordinator_badge(ctx)
    unlock = ctx.app.screen("unlock")
    tap(unlock.ids.btn_manage)
    yield until(lambda: unlock.stage == "pin", 5, "pin stage")
    yield from _pin(ctx, "2468")
    yield until(lambda: ctx.app.sm.current == "coordinator", 10, "coordinator mode")
    yield _settled(ctx)
    yield 0.2


def sync_down_up(ctx):
    """Enrol through the device panel; the server goes down; scans are kept (home: offline;
    sync panel: pending, last failure); the server comes back; 立即同步: pending 0."""
    server, svc = sync_down_up.server, ctx.app.services
    coord = ctx.app.screen("coordinator")
    yield 0.3
    yield from _unlock(ctx)
    tap(coord.ids.tab_device)
    yield until(lambda: coord.panel == "device", 5, "device panel")
    yield _settled(ctx)
    yield 0.5  # a loaded machine lays the new panel out a few frames later: tap where the button is
    coord.ids.server_input.text = server.url
    coord.ids.code_input.text = sync_down_up.code
    tap(coord.ids.btn_enroll)
    yield until(lambda: coord.message, 5, "enrolment started")
    yield until(svc.enrolled, 30, "enrolled")
    ctx.note("agent_after_enrol", {k: svc.sync_status().get(k) for k in ("running", "last_error", "last_failure")})
    # The first round starts at once; a loaded CI machine may need a few retries of it.
    yield until(lambda: ctx.app.sync.get("last_success") or "", 60, "first sync after enrolment")
    ctx.note("enrol_message", coord.message)
    server.stop()
    tap(coord.ids.btn_exit)
    yield until(_home(ctx), 5, "home")
    for vid in ("14020200001", "14020200003"):
        yield until(lambda: not ctx.app.camera.running, 10, "badge taken away")
        play(ctx.app, ctx.badge(vid), hold_seconds=1.0)
        yield until(_feedback(ctx, "checked_in"), 10, f"check-in {vid}")
        yield from _done_and_home(ctx)
    yield until(lambda: ctx.app.net_state == "offline" and ctx.app.sync.get("last_failure"), 60, "offline")
    ctx.note("home_net", ctx.app.net_text)
    ctx.note("home_net_state", ctx.app.net_state)
    yield from _unlock(ctx)
    tap(coord.ids.tab_sync)
    yield until(lambda: coord.panel == "sync" and coord.outbox.get("pending"), 5, "sync panel")
    yield 0.3
    ctx.note("down_counts", coord.ids.counts.text)
    ctx.note("down_sync_text", coord.ids.sync_text.text)
    ctx.note("down_pending", coord.outbox.get("pending"))
    server.start()
    tap(coord.ids.btn_sync)
    yield until(lambda: coord.outbox.get("pending") == 0 and not ctx.app.sync.get("running")
                and ctx.app.sync.get("ok"), 60, "pending 0")
    yield 0.5
    ctx.note("up_counts", coord.ids.counts.text)
    ctx.note("up_sync_text", coord.ids.sync_text.text)
    ctx.note("up_status", {k: ctx.app.sync.get(k) for k in ("ok", "pending", "last_success", "last_failure")})
    ctx.app.screen("coordinator").export_to_png(str(ctx.folder / "sync-panel.png"))
    svc.sync_agent.stop(5)
    server.stop()
    ctx.note("stats", server.stats())


sync_down_up.setup = _setup_server


def status_and_rating(ctx):
    """A request the center completed (its state pulled): looked up by number and the last
    four digits on the number pad, then rated 4 with a comment; wrong digits find nothing."""
    yield 0.3
    yield _settled(ctx)
    tap(ctx.app.screen("home").ids.btn_status)
    yield until(lambda: ctx.app.sm.current == "request_status", 5, "status screen")
    yield _settled(ctx)
    yield 0.2
    screen = ctx.app.screen("request_status")
    yield from _keys(screen, screen.ids.pad, "261130-17-001")
    yield from _press(screen, screen.ids.box_last4)
    yield 0.2
    yield from _keys(screen, screen.ids.pad, "1111")
    yield from _press(screen, screen.ids.btn_look)
    yield until(lambda: screen.message, 5, "lookup message")
    ctx.note("wrong_digits_message", screen.message)
    yield from _keys(screen, screen.ids.pad, ["删除"] * 4 + list("8000"))
    screen.message = ""
    yield from _press(screen, screen.ids.btn_look)
    yield until(lambda: screen.state, 5, "found")
    yield 0.3
    ctx.note("found_message", screen.message)
    ctx.note("found_labels")
    yield from _press(screen, find_button(screen.ids.stars, "4"))
    yield from _press(screen, find_button(screen.ids.comments, "态度很好"))
    yield 0.2
    screen.export_to_png(str(ctx.folder / "status-rating.png"))
    yield from _press(screen, screen.ids.btn_rate)
    yield until(lambda: screen.state == "rated_here", 5, "rated")
    ctx.note("rated_message", screen.message)


def _setup_completed_request(store, services, folder):
    from kiosk.store import RequestState
    from sync.service_menu import check
    RequestState.replace(number="261130-17-001", service="家电维修", state="completed",
                         check=check("261130-17-001", "8000")).execute()


status_and_rating.setup = _setup_completed_request


def star_checkout(ctx):
    """The center's figures say 98 hours; a check-out of 2.5 hours crosses 100: the star."""
    yield 0.3
    play(ctx.app, ctx.badge("14020200001"), hold_seconds=1.5)
    yield until(_feedback(ctx, "checked_in"), 10, "check-in feedback")
    yield from _done_and_home(ctx)
    ctx.clock.advance(150 * 60)
    play(ctx.app, ctx.badge("14020200001"), hold_seconds=1.5)
    yield until(_feedback(ctx, "checked_out"), 10, "check-out feedback")
    yield _settled(ctx)
    ctx.note("checkout_labels")
    ctx.note("qr_shown", ctx.app.screen("feedback").qr is not None and ctx.app.screen("feedback").ids.own_page.opacity == 1)
    ctx.note("seconds_left", ctx.app.screen("feedback").seconds_left)
    ctx.app.sm.current_screen.export_to_png(str(ctx.folder / "star.png"))
    yield 0.2


def _setup_city_figures(store, services, folder):
    """As a pull leaves them: 97.5 hours this year, 98 ever, 1.5 awaiting review."""
    from datetime import datetime
    from kiosk.store import Volunteer
    year = datetime.fromtimestamp(store.clock()).year
    Volunteer.update(year=year, year_minutes=97 * 60 + 30, year_pending_minutes=90, total_minutes=98 * 60) \
        .where(Volunteer.vid == "14020200001").execute()
    # As a pull leaves them too: the center's address and this station's key for own-page links.
    import base64
    from sync import mylink
    store.settings.set(server_url="http://center.example:8000",
                       page_key=base64.urlsafe_b64encode(mylink.station_key("center secret", "WBY")).decode())


star_checkout.setup = _setup_city_figures


def store_full(ctx):
    """The disk fills while the kiosk runs (ctx.folder is a small tmpfs, see test_field.py): a
    badge shown then cannot be recorded, and a full-screen notice tells the coordinator why; it
    goes by itself once space is freed, and the next badge is recorded."""
    import os
    from kivy.core.window import Window
    yield 0.3
    fd = os.open(ctx.folder / "filler", os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    play(ctx.app, ctx.badge("14020200001"), hold_seconds=1.5)

    def shown():
        notice = getattr(ctx.app, "store_notice", None)
        return notice is not None and notice.parent is not None
    yield until(shown, 20, "the full-screen notice")
    yield 0.3
    notice = ctx.app.store_notice
    ctx.note("notice_labels", labels(notice))
    ctx.note("notice_size", [list(notice.size), list(Window.size)])
    os.unlink(ctx.folder / "filler")
    yield until(lambda: notice.parent is None, 30, "the notice gone once space is back")
    ctx.note("notice_gone", True)
    yield 2.5   # the app's de-duplication forgets the first showing
    play(ctx.app, ctx.badge("14020200002"), hold_seconds=1.5)
    yield until(_feedback(ctx, "checked_in"), 15, "a check-in once space is back")
    ctx.note("after_labels")


def failed_scans_today(ctx):
    """A lost badge held up for 6 s, then a payment code: each one failed scan; the coordinator
    (badge, PIN) opens 数据同步 and sees today's, with the badge's number and serial."""
    yield 0.3
    play(ctx.app, ctx.badge("14020200002"), hold_seconds=6)
    yield until(_feedback(ctx, "refused"), 10, "revoked feedback")
    yield from _done_and_home(ctx)
    play(ctx.app, ctx.badge("foreign"), hold_seconds=1.5)
    yield until(_feedback(ctx, "refused"), 10, "foreign feedback")
    yield from _done_and_home(ctx)
    yield from _coordinator_badge(ctx, wait_dedupe=False)
    unlock = ctx.app.screen("unlock")
    tap(unlock.ids.btn_manage)
    yield until(lambda: unlock.stage == "pin", 5, "pin stage")
    yield from _pin(ctx, "2468")
    yield until(lambda: ctx.app.sm.current == "coordinator", 10, "coordinator mode")
    yield _settled(ctx)
    tap(ctx.app.screen("coordinator").ids.tab_sync)
    yield until(lambda: any("扫码失败" in t for t in ctx.texts()), 10, "today's failed scans listed")
    yield 0.3
    ctx.note("sync_labels")


def _setup_failed_scans(store, services, folder):
    _setup_revoked(store, services, folder)
    _center_sends_pin(store)


failed_scans_today.setup = _setup_failed_scans

from tests.kiosk.ui.journeys_android import camera4kivy_preview  # noqa: E402,F401  (issue 13)
def my_hours(ctx):
    """我的时长: the button asks for a badge; the badge shows the volunteer's hours and the QR code
    of their own page, and checks nobody in; Done goes home. Then the button and Cancel: home,
    and the next badge is a check-in again."""
    yield until(_home(ctx), 10, "home")
    yield 0.3
    tap(ctx.app.screen("home").ids.btn_my_hours)
    yield until(_on(ctx, "my_hours"), 5, "my hours prompt")
    ctx.note("prompt_labels")
    ctx.note("prompt_seconds", ctx.app.screen("my_hours").seconds_left)
    play(ctx.app, ctx.badge("14020200001"), hold_seconds=1.5)
    screen = ctx.app.screen("my_hours")
    yield until(lambda: screen.state == "shown", 10, "my hours shown")
    yield 0.3
    ctx.note("shown_labels")
    ctx.note("qr_shown", screen.qr is not None and screen.ids.own_page.opacity == 1)
    ctx.note("shown_seconds", screen.seconds_left)
    ctx.note("screen_while_shown", ctx.app.sm.current)
    screen.export_to_png(str(ctx.folder / "my_hours.png"))
    yield until(lambda: not ctx.app.camera.running, 10, "badge taken away")
    yield 0.5
    ctx.note("screen_after_badge", ctx.app.sm.current)
    ctx.app.services.wait_idle()
    import sqlite3
    with sqlite3.connect(ctx.folder / "kiosk.db") as con:
        ctx.note("rows_while_shown", [con.execute("SELECT COUNT(*) FROM attendance").fetchone()[0],
                                      con.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]])
    tap(screen.ids.btn_done)
    yield until(_home(ctx), 5, "home after done")
    ctx.note("armed_after_done", ctx.app.services.my_hours.armed(time.monotonic()))
    # The button again, then Cancel: home, and the desk no longer takes badges.
    tap(ctx.app.screen("home").ids.btn_my_hours)
    yield until(_on(ctx, "my_hours"), 5, "my hours prompt again")
    ctx.note("armed_at_prompt", ctx.app.services.my_hours.armed(time.monotonic()))
    tap(screen.ids.btn_done)
    yield until(_home(ctx), 5, "home after cancel")
    ctx.note("armed_after_cancel", ctx.app.services.my_hours.armed(time.monotonic()))
    yield 2.2     # the sliding de-dupe lapses: the same badge again is a new scan
    play(ctx.app, ctx.badge("14020200001"), hold_seconds=1.0)
    yield until(_feedback(ctx, "checked_in"), 10, "a check-in after my hours")
    ctx.note("after_labels")


my_hours.setup = _setup_city_figures
