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
    import gc
    yield 0.3
    ctx.note("frozen_at_start", gc.get_freeze_count())    # kiosk.threads.freeze_heap after the first frame
    shown = []
    deliver = ctx.app.services.on_decision

    def watch(result):    # the screen in the frame the decision arrives, and the words already laid out
        deliver(result)
        shown.append([ctx.app.sm.current, ctx.app.screen("feedback").headline])
    ctx.app.services.on_decision = watch
    play(ctx.app, ctx.badge("14020200001"), hold_seconds=1.5)
    yield until(_feedback(ctx, "checked_in"), 10, "check-in feedback")
    ctx.note("decision_frame", shown[0])
    ctx.app.services.on_decision = deliver
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
    yield 0.2         # a loaded machine lays the scrolled view out a few frames later
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
    tap(ctx.app.screen("home").ids.lang_switch.ids.lang_en)
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
    yield _settled(ctx)
    yield 0.5
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
    # the correction panel before a record is picked: no time chosen, the prompt points up
    tap(coord.ids.tab_correct)
    yield until(lambda: coord.panel == "correct" and coord.recent, 5, "correct panel")
    yield _settled(ctx)
    yield 0.3
    ctx.note("before_pick", {"field": coord.field, "in": coord.ids.field_in.state, "out": coord.ids.field_out.state,
                             "prompt": coord.ids.editing.text, "save_disabled": coord.ids.btn_save.disabled,
                             "picker_disabled": coord.ids.picker.disabled,
                             "prompt_y": coord.ids.editing.to_window(0, coord.ids.editing.y)[1],
                             "records_y": coord.ids.recent_list.to_window(0, coord.ids.recent_list.top)[1]})
    ctx.note("recent_labels", labels(coord.ids.recent_list))
    tap(coord.ids.tab_here)
    yield until(lambda: coord.panel == "here", 5, "here panel")
    yield _settled(ctx)
    yield 0.2
    tap(find_button(coord.ids.here_list, "更正"))
    yield until(lambda: coord.panel == "correct", 5, "correct panel")
    yield 0.3
    tap(coord.ids.field_in)
    yield 0.2
    picker = coord.ids.picker
    start = picker.value
    ctx.note("picker_start", start)
    # -1 h, +10 min, +10 min, +1 min, -1 min: 40 minutes earlier, on the picker's big buttons
    for label in ("-1 小时", "+10 分", "+10 分", "+1 分", "-1 分"):
        tap(find_button(picker, label))
        yield 0.1
    ctx.note("picker_shown", coord.ids.time_shown.text)
    ctx.note("new_check_in", picker.value)
    # the reason in one tap, no keyboard: the chip's words fill the field
    ctx.note("reason_before_chip", coord.ids.reason_input.text)
    tap(coord.ids.reason_forgot)
    yield 0.2
    ctx.note("reason_after_chip", coord.ids.reason_input.text)
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
    # the rating part joins the layout now: let a loaded machine lay it out before a finger goes there
    yield until(lambda: screen._rating.parent is not None and screen.ids.stars.height > 0, 5, "rating shown")
    yield _settled(ctx)
    yield 0.8
    ctx.note("found_message", screen.message)
    ctx.note("found_labels")
    yield from _press(screen, find_button(screen.ids.stars, "4"))
    yield until(lambda: screen.stars == 4, 5, "four stars")
    yield from _press(screen, find_button(screen.ids.comments, "态度很好"))
    yield until(lambda: screen.chosen, 5, "a comment")
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
    ctx.note("qr_drawn_by_worker", getattr(ctx.app.screen("feedback")._decision, "page_qr", None) is not None)
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


# --- a backlog syncing while badges are scanned: nothing on the UI thread touches SQLite ----

def _setup_backlog(store, services, folder):
    """A real server, the kiosk enrolled with it, 600 events waiting in the outbox."""
    import atexit
    import json
    from kiosk.attendance import Attendance
    from kiosk.demo import LocalServer
    from kiosk.store import Activity
    from sync.client import enroll
    Activity.delete().execute()         # the server knows none of the sample activities: station duty
    server = LocalServer(folder / "server").init()
    server.start()
    atexit.register(server.stop)
    enroll(store, server.url, server.code("WBY"))
    desk, tokens = Attendance(store), json.loads((folder / "tokens.json").read_text())
    clock = store.clock
    while store.count_pending() < 600:
        clock.advance(180)
        for vid in ("14020200002", "14020200003"):
            desk.scan(tokens[vid])
    clock.advance(180)
    sync_backlog.server = server


def sync_backlog(ctx):
    """The agent pushes 600 events in batches of 10 while a badge is scanned; the status line
    follows the worker's counters; the UI thread runs no SQL meanwhile (the store's thread check)."""
    import threading
    from kiosk.store import db
    from sync.client import SyncAgent
    app, svc = ctx.app, ctx.app.services
    yield 0.5
    ui_sql: list[str] = []
    ui = threading.get_ident()
    def on_ui_thread(sql):
        import traceback
        where = " < ".join(f"{f.name}:{f.lineno}" for f in reversed(traceback.extract_stack()[-16:-1]))
        ui_sql.append(f"{sql[:40]} @ {where}")
    seen = {"net_texts": [], "pending": []}

    def look():
        if app.net_text not in seen["net_texts"]:
            seen["net_texts"].append(app.net_text)
        pending = app.sync.get("pending")
        if pending is not None and (not seen["pending"] or seen["pending"][-1] != pending):
            seen["pending"].append(pending)
        return True
    from kivy.clock import Clock
    watcher = Clock.schedule_interval(lambda dt: look(), 0)
    import requests

    class SlowNetwork(requests.Session):   # a mobile network: the round lasts seconds, the line follows it
        def request(self, *args, **kwargs):
            time.sleep(0.1)
            return super().request(*args, **kwargs)
    # made as the app makes it, before the loop runs (it reads the store once)
    svc.sync_agent = SyncAgent(svc.store, batch_size=10, interval=3600, http=SlowNetwork())
    db.watch_thread(ui, on_ui_thread)
    svc.start_sync_agent()
    yield until(lambda: app.net_state == "syncing", 20, "syncing shown")
    play(app, ctx.badge("14020200001"), hold_seconds=1.0)
    yield until(_feedback(ctx, "checked_in"), 20, "check-in during the sync")
    ctx.note("checkin_labels")
    yield from _done_and_home(ctx)
    yield until(lambda: not app.sync.get("running") and app.sync.get("ok") and app.sync.get("pending") == 0
                and app.net_state == "online", 90, "backlog synced")
    yield 1.2   # the status line's next refresh
    look()
    watcher.cancel()
    db.unwatch_thread(ui)
    ctx.note("ui_thread_sql", ui_sql)
    ctx.note("net_texts", seen["net_texts"])
    ctx.note("pending_seen", seen["pending"])
    ctx.note("net_text", app.net_text)
    svc.sync_agent.stop(5)
    sync_backlog.server.stop()
    ctx.note("stats", sync_backlog.server.stats())


sync_backlog.setup = _setup_backlog


# --- the live camera's path: a recorded video read by OpenCV on the capture thread ----------

def _setup_camera_video(store, services, folder):
    import cv2
    import numpy as np
    badge = cv2.imread(str(folder / "badges" / "14020200001.png"))
    scale = 400 / max(badge.shape[:2])
    badge = cv2.resize(badge, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((480, 640, 3), 128, np.uint8)
    y, x = (480 - badge.shape[0]) // 2, (640 - badge.shape[1]) // 2
    frame[y:y + badge.shape[0], x:x + badge.shape[1]] = badge
    writer = cv2.VideoWriter(str(folder / "camera.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 15, (640, 480))
    for _ in range(15):
        writer.write(frame)
    writer.release()


def camera_video(ctx):
    """A badge in front of the 'camera': the video goes through kiosk.capture (OpenCV, its own
    thread), the preview, the decoder and the desk: a check-in, as with a webcam."""
    import threading
    app = ctx.app
    yield 0.3
    ctx.note("started", app.camera.start(video=str(ctx.folder / "camera.avi"), loop=True))
    ctx.note("source", app.camera.source)
    yield until(_feedback(ctx, "checked_in"), 20, "check-in from the camera video")
    ctx.note("checkin_labels")
    cam = app.camera._camera
    ctx.note("capture_thread", cam._thread.name if cam and cam._thread else None)
    ctx.note("capture_not_ui", bool(cam and cam._thread is not threading.main_thread()))
    ctx.note("frames_read", cam.frames_read if cam else 0)
    ctx.note("preview", list(app.camera.texture.size) if app.camera.texture else None)
    app.camera._stop_sources()
    ctx.note("stopped", not app.camera.running and (cam is None or not cam.alive))


camera_video.setup = _setup_camera_video

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


# --- the audit: every screen's words, targets and emptiness, measured in the real window ------

def _parents(w):
    while w.parent is not None and w.parent is not w:
        w = w.parent
        yield w


def measure_window() -> dict:
    """Every visible label (font px, its lines), every touch target (dp), and how much of the
    window's height and width the visible content covers (text as drawn, buttons, images)."""
    import re

    from kivy.core.window import Window
    from kivy.metrics import dp
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.image import Image
    from kivy.uix.label import Label
    from kivy.uix.textinput import TextInput

    from kiosk.ui.widgets import OutcomeIcon, WrapLabel
    W, H = Window.size
    labels, targets, rects = [], [], []

    def clip(x0, y0, x1, y1):
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
        if x1 > x0 and y1 > y0:
            rects.append((x0, y0, x1, y1))

    def visible_window_rect(w):
        x0, y0 = w.to_window(w.x, w.y)
        return x0, y0, x0 + w.width, y0 + w.height

    def walk(w, visible=True):
        visible = visible and w.opacity > 0.05 and not (w.width <= 1 or w.height <= 1) \
            if hasattr(w, "opacity") else visible
        if not visible:
            return
        x0, y0, x1, y1 = visible_window_rect(w)
        on_screen = x1 > 0 and y1 > 0 and x0 < W and y0 < H
        if isinstance(w, Label) and w.text.strip() and on_screen:
            sizes = [float(w.font_size)]
            if w.markup:
                sizes += [float(v) for v in re.findall(r"\[size=(\d+(?:\.\d+)?)\]", w.text)]
            labels.append({"text": re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", w.text), "px": min(sizes),
                           "wrap": isinstance(w, WrapLabel), "button": isinstance(w, ButtonBehavior),
                           "cls": type(w).__name__})
            if not isinstance(w, ButtonBehavior):     # the words as drawn: centred in the widget
                tw, th = w.texture_size
                cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
                tw = min(tw, w.width)
                if w.halign == "left" and w.text_size[0]:
                    clip(x0, cy - th / 2, x0 + tw, cy + th / 2)
                else:
                    clip(cx - tw / 2, cy - th / 2, cx + tw / 2, cy + th / 2)
        if isinstance(w, ButtonBehavior) and on_screen:
            targets.append({"text": getattr(w, "text", "") or getattr(w, "title", ""),
                            "w_dp": w.width / dp(1), "h_dp": w.height / dp(1),
                            "rect": [round(v, 1) for v in (x0, y0, x1, y1)], "id": id(w),
                            "inside": [id(p) for p in _parents(w)], "layer": layer[0]})
            clip(x0, y0, x1, y1)
        elif isinstance(w, (TextInput, OutcomeIcon)) and on_screen:
            clip(x0, y0, x1, y1)
        elif isinstance(w, Image) and w.texture is not None and on_screen:
            iw, ih = w.norm_image_size
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            clip(cx - iw / 2, cy - ih / 2, cx + iw / 2, cy + ih / 2)
        for child in w.children:
            walk(child, visible)

    layer = [0]
    for root in Window.children:     # a dialog is a layer of its own over the screen
        layer[0] = id(root)
        walk(root)

    def covered(axis):
        spans = sorted((r[axis], r[axis + 2]) for r in rects)
        total, end = 0.0, -1.0
        for a, b in spans:
            if b <= end:
                continue
            total += b - max(a, end)
            end = b
        return total / (H if axis == 1 else W)
    return {"labels": labels, "targets": targets, "cover_y": covered(1), "cover_x": covered(0),
            "size": [W, H]}


def _audit_step(ctx, name, wait=0.5):
    yield until(lambda: not ctx.app.sm.transition.is_active, 5, "transition over")
    yield wait
    ctx.result.setdefault("audit", {})[name] = measure_window()


def audit(ctx):
    """Every screen and stage, one after another (as kiosk.ui.screenshots shows them)."""
    app, desk, tokens, clock = ctx.app, ctx.app.services.attendance, ctx.tokens, ctx.clock
    from kiosk.scanner.replay import ReplaySource
    from kiosk.ui.services import CoordinatorBadge
    # the home preview shows what the camera sees (a replayed frame, not decoded)
    app.camera.play(ReplaySource(ctx.badge("foreign"), fps=5, hold_seconds=3600, loop=True, blank_frames=0),
                    decode=False)
    yield until(lambda: app.screen("home").ids.preview.texture is not None, 10, "a camera frame")
    yield from _audit_step(ctx, "home")
    app.set_large_text(True)
    yield from _audit_step(ctx, "home-large")
    ctx.note("large_prompt_px", app.screen("home").ids.prompt.font_size)
    app.set_large_text(False)
    yield 0.3
    ctx.note("normal_prompt_px", app.screen("home").ids.prompt.font_size)
    app.on_decision(desk.scan(tokens["14020200001"], activity_id="a1"))
    yield from _audit_step(ctx, "feedback-checked-in")
    clock.advance(60)
    app.on_decision(desk.scan(tokens["14020200001"]))
    yield from _audit_step(ctx, "feedback-repeat-in")
    ctx.note("repeat_in_icon", app.screen("feedback").ids.icon.kind)
    app.on_decision(desk.scan(tokens["14020200003"], activity_id="a1"))
    yield 0.3
    clock.advance(5 * 60)
    app.on_decision(desk.scan(tokens["14020200003"]))                     # out 5 minutes later: 0 h
    yield from _audit_step(ctx, "feedback-zero")
    ctx.note("zero_next", app.screen("feedback").next_step)
    clock.advance(150 * 60 - 360)
    app.on_decision(desk.scan(tokens["14020200001"]))
    yield from _audit_step(ctx, "feedback-checked-out")
    app.on_decision(desk.scan(tokens["14020200001"]))
    yield from _audit_step(ctx, "feedback-repeat-out")
    ctx.note("repeat_out_icon", app.screen("feedback").ids.icon.kind)
    ctx.note("repeat_out_next", app.screen("feedback").next_step)
    app.on_decision(desk.scan(tokens["14020200002"]))
    yield from _audit_step(ctx, "feedback-refused")
    clock.advance(-150 * 60)                 # back to when both activities are open
    choose = desk.scan(tokens["14020200009"])
    choose.scanned_text = tokens["14020200009"]
    app.on_decision(choose)
    yield from _audit_step(ctx, "feedback-choose")
    ctx.note("choose_done_text", app.screen("feedback").ids.btn_done.text)
    app.screen("activities").refresh()
    app.go("activities")
    yield until(lambda: app.screen("activities").items, 5, "activities")
    yield from _audit_step(ctx, "activities")
    app.screen("activity_detail").show(app.screen("activities").items[0])
    app.go("activity_detail")
    yield from _audit_step(ctx, "activity-detail")
    app.screen("order").reset()
    app.go("order")
    yield from _audit_step(ctx, "order")
    app.screen("request_status").reset()
    app.go("request_status")
    yield from _audit_step(ctx, "request-status")
    mine = app.screen("my_hours")
    mine.start()
    app.go("my_hours")
    yield from _audit_step(ctx, "my-hours-prompt")
    mine.show(app.services.my_hours.answer(tokens["14020200001"]))
    yield from _audit_step(ctx, "my-hours-shown")
    mine.done()
    unlock = app.screen("unlock")
    unlock.offer(CoordinatorBadge(tokens["14020200009"], "14020200009", "赵*燕", "赵春燕"))
    app.go("unlock")
    yield from _audit_step(ctx, "unlock-choice")
    unlock.stage = "pin"
    yield from _audit_step(ctx, "unlock-pin")
    unlock._pin_state({"has_pin": False, "locked_for": 0, "failures": 0})
    yield from _audit_step(ctx, "unlock-no-pin")
    app.coordinator = {"vid": "14020200009", "name": "赵春燕"}
    coord = app.screen("coordinator")
    coord.open()
    app.go("coordinator")
    yield from _audit_step(ctx, "coordinator-here")
    coord.show("correct")
    yield until(lambda: coord.recent, 5, "recent records")
    coord.edit(coord.recent[0])
    yield from _audit_step(ctx, "coordinator-correct")
    coord.show("activities")
    yield from _audit_step(ctx, "coordinator-activities")
    coord.show("sync")
    yield from _audit_step(ctx, "coordinator-sync")
    coord.show("device")
    yield from _audit_step(ctx, "coordinator-device")
    coord.ask_reset()
    yield from _audit_step(ctx, "coordinator-unenrol")
    coord._dialog.dismiss()
    yield 0.2


audit.setup = _setup_revoked
audit.activities = "two"


# --- forms for fingers: the language mark, 大字, the device screen, the unenrol dialog ----------

def _dialog():
    from kivy.core.window import Window
    from kivy.uix.modalview import ModalView
    return next((w for w in Window.children if isinstance(w, ModalView)), None)


def settings_and_unenrol(ctx):
    """Home: the active language is marked, 大字 makes the words larger. Coordinator mode: the
    device screen has no developer address; 解除接入 asks first; 取消 keeps the enrolment."""
    app, home = ctx.app, ctx.app.screen("home")
    yield 0.3
    yield _settled(ctx)
    switch = home.ids.lang_switch.ids

    def marks():
        return {"zh": switch.lang_zh.state, "en": switch.lang_en.state, "lang": app.lang,
                "zh_bg": list(switch.lang_zh.background_color), "en_bg": list(switch.lang_en.background_color)}
    ctx.note("marks_zh", marks())
    tap(switch.lang_zh)                 # tapping the active one keeps it marked
    yield 0.2
    ctx.note("marks_zh_again", marks())
    tap(switch.lang_en)
    yield until(lambda: app.lang == "en", 5, "English")
    yield 0.2
    ctx.note("marks_en", marks())
    ctx.note("prompt_px_normal", home.ids.prompt.font_size)
    ctx.note("list_px_normal", home.ids.now_list.font_size)
    tap(home.ids.btn_large)
    yield until(lambda: app.large_text, 5, "large text")
    yield 0.3
    ctx.note("prompt_px_large", home.ids.prompt.font_size)
    ctx.note("list_px_large", home.ids.now_list.font_size)
    tap(home.ids.btn_large)
    yield until(lambda: not app.large_text, 5, "normal text")
    yield from _unlock(ctx)
    coord = app.screen("coordinator")
    tap(coord.ids.tab_device)
    yield until(lambda: coord.panel == "device", 5, "device panel")
    yield _settled(ctx)
    yield 0.5
    ctx.note("server_input", {"text": coord.ids.server_input.text, "hint": coord.ids.server_input.hint_text})
    ctx.note("device_marks", {"zh": coord.ids.lang_switch.ids.lang_zh.state,
                              "en": coord.ids.lang_switch.ids.lang_en.state})
    ctx.note("reset_below_enroll", coord.ids.btn_reset.to_window(0, coord.ids.btn_reset.top)[1]
             < coord.ids.btn_leave_kiosk.to_window(0, coord.ids.btn_leave_kiosk.y)[1])
    coord.ids.btn_reset.parent.parent.parent.scroll_to(coord.ids.btn_reset, animate=False)
    yield 0.2
    tap(coord.ids.btn_reset)
    yield until(lambda: _dialog() is not None, 5, "the dialog")
    yield 0.4
    ctx.note("dialog_labels", labels(_dialog()))
    ctx.note("enrolled_while_asked", app.services.enrolled())
    tap(_dialog().ids.btn_no)
    yield until(lambda: _dialog() is None, 5, "dialog closed")
    yield 0.3
    done = app.services.run(app.services.enrolled)
    yield until(done.done, 5, "read")
    ctx.note("enrolled_after_cancel", done.result())
    tap(coord.ids.btn_reset)
    yield until(lambda: _dialog() is not None, 5, "the dialog again")
    yield 0.4
    tap(_dialog().ids.btn_yes)
    yield until(lambda: _dialog() is None and coord.message, 5, "unenrolled")
    yield 0.3
    done = app.services.run(app.services.enrolled)
    yield until(done.done, 5, "read")
    ctx.note("enrolled_after_yes", done.result())
    ctx.note("reset_message", coord.message)


def _setup_enrolled(store, services, folder):
    _center_sends_pin(store)
    store.set_sync_state(server_url="http://center.example:8000", token="wgd_test", cursor=0)


settings_and_unenrol.setup = _setup_enrolled
