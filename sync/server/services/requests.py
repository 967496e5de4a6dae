"""Residents' service orders (点单) pushed by kiosks as ``service_request`` events.

Inside the push transaction (`events.store`)::

    >>> refuse_numbers(device, keys, checked)   # before the insert: foreign_number, duplicate_number
    >>> store_requests(new, device)             # after it, for the events stored now

An order number is the resident's handle on their order, so it names one order only
(a unique index on ``service_requests.number``). Refusals:

    foreign_number    the number is in the enrolled kiosks' form (sync.order_numbers) with
                      another kiosk's number in it: a kiosk cannot take another's numbers
    duplicate_number  another order (another event id) has this number already, stored or
                      earlier in this push

The same event sent again keeps its number and is answered duplicate, as any event.
"""

from __future__ import annotations

from sync.order_numbers import enrolled_kiosk_part, kiosk_part
from sync.server.db import in_list, insert_ignoring_duplicates
from sync.server.models import Device, ServiceRequest
from sync.server.services.sessions import Accepted, server_time

EVENT_TYPE = "service_request"
RATING = "service_rating"


class NumberTaken(Exception):
    """A concurrent transaction (another server process) stored this number between the
    check and the insert. Raised to roll the push back: its retry sees the committed order
    and refuses the event ``duplicate_number``."""


def refuse_numbers(device: Device, keys: list[str], checked: list) -> None:
    """Mark refusals in `checked` (in place); call inside the push transaction, before the
    events are inserted."""
    orders = [(i, c) for i, c in enumerate(checked) if isinstance(c, Accepted) and c.event.type == EVENT_TYPE]
    if not orders:
        return
    own = kiosk_part(device.kiosk_number, device.id) if device.kiosk_number is not None else None
    mine = []
    for i, c in orders:
        part = enrolled_kiosk_part(c.payload.number)
        if part is not None and part != own:
            checked[i] = "foreign_number"
        else:
            mine.append((i, c))
    numbers = {c.payload.number for _, c in mine}
    owner = {r.number: r.id for r in ServiceRequest.select(ServiceRequest.id, ServiceRequest.number)
             .where(in_list(ServiceRequest.number, numbers))} if numbers else {}
    for i, c in mine:
        # The first event with a number owns it (a stored order, or the first in this push);
        # the owner itself, sent again, is a duplicate event, not a duplicate number.
        holder = owner.setdefault(c.payload.number, keys[i])
        if holder != keys[i]:
            checked[i] = "duplicate_number"


def store_requests(items: list[Accepted], device: Device) -> None:
    """Store the orders of the events stored now (`items`)."""
    rows = [dict(id=str(i.event.id), number=i.payload.number, station=device.station, device_id=device.id,
                 service=i.payload.service, phone=i.payload.phone, note=i.payload.note, state="submitted",
                 created_at=server_time(i.event, i.payload.at), reason="", report="", volunteers="", comments="",
                 details="")
            for i in items if i.event.type == EVENT_TYPE]
    inserted = set(insert_ignoring_duplicates(ServiceRequest, rows, returning="id"))
    if len(inserted) != len(rows):
        raise NumberTaken("an order number was stored by a concurrent push; retry the batch")
    if rows:
        from sync import service_menu
        from sync.server.services.changes import append_changes
        append_changes([("request_state", r["number"], {"number": r["number"], "service": r["service"],
                                                        "state": "submitted",
                                                        "check": service_menu.check(r["number"], r["phone"][-4:])},
                         r["station"]) for r in rows])


def refuse_ratings(keys: list[str], checked: list) -> None:
    """Ratings (``service_rating`` events) the center cannot take: unknown_request (no such
    number, or the last four digits do not match), illegal_transition (not completed, or
    rated already, earlier in this push too). Marks `checked` in place, before the insert.
    A rating event sent again (its answer lost on the way) is not judged again: the
    insert answers it duplicate (or conflict, with other content), as any event."""
    from sync.server.models import StoredEvent
    from sync.server.services import service_requests as sr
    ratings = {keys[i] for i, c in enumerate(checked) if isinstance(c, Accepted) and c.event.type == RATING}
    if not ratings:
        return
    seen, judged = set(), {}
    stored = {r for (r,) in StoredEvent.select(StoredEvent.id).where(in_list(StoredEvent.id, ratings)).tuples()}
    for i, c in enumerate(checked):
        if not (isinstance(c, Accepted) and c.event.type == RATING):
            continue
        if keys[i] in stored:
            continue
        if keys[i] in judged:             # the same id twice in this push: as the first was
            if isinstance(checked[judged[keys[i]]], str):
                checked[i] = checked[judged[keys[i]]]
            continue
        judged[keys[i]] = i
        try:
            row = sr.find(c.payload.number, c.payload.last4)
        except Exception:   # not_found
            checked[i] = "unknown_request"
            continue
        if row.state not in sr.ACTIONS["rate"][0] or row.id in seen:
            checked[i] = "illegal_transition"
        elif any(x not in sr.COMMENTS for x in c.payload.comments):
            checked[i] = "bad_rating"
        else:
            seen.add(row.id)


def apply_ratings(items: list[Accepted], device: Device) -> None:
    """The ratings stored now move their requests to "rated" (actor: the kiosk)."""
    from sync.server.services import service_requests as sr
    for item in items:
        if item.event.type == RATING:
            p = item.payload
            row = sr.find(p.number, p.last4)
            sr._move(row, "rate", f"kiosk:{device.id}", {"rating": p.rating,
                                                        "comments": ",".join(dict.fromkeys(p.comments))},
                     str(p.rating), at=server_time(item.event, p.at))
