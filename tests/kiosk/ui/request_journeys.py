"""Journeys of a resident's service request at a real kiosk (run by real_kiosk.py, one per
process, on a kiosk database enrolled with a real center): the order taken while the
center cannot be reached, then synced by the kiosk's own agent; later, the rating."""

from __future__ import annotations

from tests.kiosk.ui.harness import find_button, labels, tap, until
from tests.kiosk.ui.journeys import _home, _keys, _press, _settled


def _agent(ctx):
    return ctx.app.services.sync_agent


def _status(ctx) -> dict:
    return _agent(ctx).status()


def _synced(ctx):
    """A whole round went through (push and pull) and nothing waits in the outbox."""
    return lambda: (lambda s: s["ok"] and not s["running"] and s["pending"] == 0)(_status(ctx))


def _open(ctx, button: str, screen: str):
    yield _settled(ctx)
    yield 0.1
    tap(ctx.app.screen("home").ids[button])
    yield until(lambda: ctx.app.sm.current == screen, 5, screen)
    yield _settled(ctx)
    yield 0.2


def _back_home(ctx, screen):
    yield _settled(ctx)
    yield 0.1
    tap(screen.ids.btn_back)
    yield until(_home(ctx), 5, "home")


def _look_up(ctx, number: str, last4: str):
    """The status screen: the order number and the phone's last four digits on the pad."""
    screen = ctx.app.screen("request_status")
    yield from _keys(screen, screen.ids.pad, number)
    yield from _press(screen, screen.ids.box_last4)
    yield 0.2
    yield from _keys(screen, screen.ids.pad, last4)
    screen.message = ""
    yield from _press(screen, screen.ids.btn_look)
    yield until(lambda: screen.message, 10, "lookup answer")
    yield 0.3


def order_offline(ctx):
    """The center cannot be reached: the order is taken at once, with its number, and waits
    in the outbox; when the test says the center is back, the kiosk's agent syncs it."""
    service, preset, phone = ctx.params["service"], ctx.params["preset"], ctx.params["phone"]
    yield 0.3
    yield until(lambda: _status(ctx)["last_failure"] and not _status(ctx)["running"], 60,
                "the agent's first round fails (no center)")
    yield until(lambda: ctx.app.net_state == "offline", 10, "the home screen says offline")
    ctx.note("offline_net", ctx.app.net_text)
    yield from _open(ctx, "btn_order", "order")
    order = ctx.app.screen("order")
    yield from _press(order, find_button(order, service))
    yield 0.2
    yield from _press(order, find_button(order, preset))
    yield from _keys(order, order.ids.pad, phone)
    yield _settled(ctx)
    yield 0.1
    yield from _press(order, order.ids.btn_submit)
    yield until(lambda: order.number, 10, "order number")
    yield 0.3
    ctx.note("number", order.number)
    ctx.note("receipt_labels")
    yield until(lambda: not _status(ctx)["running"] and _status(ctx)["pending"] >= 1 and not _status(ctx)["ok"], 60,
                "the order waits in the outbox")
    ctx.note("offline_status", {k: _status(ctx)[k] for k in ("ok", "pending", "online")})
    yield from _back_home(ctx, order)
    ctx.signal("offline")
    yield ctx.go("online")
    _agent(ctx).trigger()             # as 立即同步 in coordinator mode; the agent retries on its own too
    yield until(_synced(ctx), 90, "the order synced")
    ctx.note("online_status", {k: _status(ctx)[k] for k in ("ok", "pending", "online", "pushed")})
    # The center has it: the resident can look it up here; it cannot be rated yet.
    yield from _open(ctx, "btn_status", "request_status")
    screen = ctx.app.screen("request_status")
    yield from _look_up(ctx, order.number, phone[-4:])
    ctx.note("early_state", screen.state)
    ctx.note("early_message", screen.message)
    ctx.note("early_rating_shown", screen._rating.parent is not None)


def rate_completed(ctx):
    """The center completed the request: the kiosk's agent pulls that; the resident types
    the number and the last four digits, rates it, and the agent pushes the rating."""
    number, last4 = ctx.params["number"], ctx.params["last4"]
    stars, comment = ctx.params["stars"], ctx.params["comment"]
    yield 0.3
    _agent(ctx).trigger()
    yield until(_synced(ctx), 90, "the pull after start")
    yield from _open(ctx, "btn_status", "request_status")
    screen = ctx.app.screen("request_status")
    # A wrong fourth digit finds nothing (and says the same as a wrong number).
    yield from _look_up(ctx, number, last4[:3] + str((int(last4[3]) + 1) % 10))
    ctx.note("wrong_message", screen.message)
    yield from _keys(screen, screen.ids.pad, ["删除"] * 4 + list(last4))
    screen.message = ""
    yield from _press(screen, screen.ids.btn_look)
    yield until(lambda: screen.state, 10, "found")
    yield 0.3
    ctx.note("found_state", screen.state)
    ctx.note("found_message", screen.message)
    # the rating panel is laid out a few frames after it appears (a finger waits for it too)
    yield until(lambda: screen._rating.parent is not None and screen.ids.stars.height > 0, 5, "rating shown")
    yield 0.3
    yield from _press(screen, find_button(screen.ids.stars, stars))
    yield until(lambda: screen.stars == int(stars), 5, "the stars taken")
    yield from _press(screen, find_button(screen.ids.comments, comment))
    yield until(lambda: comment in screen.chosen, 5, "the comment taken")
    ctx.note("chosen", list(screen.chosen))
    ctx.note("stars", screen.stars)
    screen.export_to_png(str(ctx.folder / "rating.png"))
    yield from _press(screen, screen.ids.btn_rate)
    yield until(lambda: screen.state == "rated_here", 10, "rated")
    ctx.note("rated_message", screen.message)
    yield until(_synced(ctx), 90, "the rating pushed")
    ctx.note("after_status", {k: _status(ctx)[k] for k in ("ok", "pending", "pushed", "refused")})
    # After the pull the kiosk knows it is rated: looked up again, no second rating here.
    _agent(ctx).trigger()
    yield 1.0
    yield until(_synced(ctx), 90, "the pull after rating")
    yield from _back_home(ctx, screen)
    yield from _open(ctx, "btn_status", "request_status")
    yield from _look_up(ctx, number, last4)
    ctx.note("again_state", screen.state)
    ctx.note("again_message", screen.message)
    ctx.note("again_rating_shown", screen._rating.parent is not None)


def order_in_english(ctx):
    """The kiosk in English with a center's menu that has English names and presets: the
    resident taps English words; the order keeps the Chinese ones the center reads."""
    yield 0.3
    yield from _open(ctx, "btn_order", "order")
    order = ctx.app.screen("order")
    ctx.note("menu_labels")
    yield from _press(order, find_button(order, ctx.params["service"]))
    yield 0.2
    ctx.note("preset_labels", labels(order.ids.presets))
    yield from _press(order, find_button(order.ids.presets, ctx.params["preset"]))
    yield from _keys(order, order.ids.pad, ctx.params["phone"])
    yield _settled(ctx)
    yield 0.1
    yield from _press(order, order.ids.btn_submit)
    yield until(lambda: order.number, 10, "order number")
    ctx.note("number", order.number)
