"""Activity closures pushed by kiosks (``activity_closed``): checked, applied, published.

A coordinator closes an activity early at a kiosk (`kiosk.attendance.Attendance.close_activity`).
The push runs, inside its transaction (`events.store`):

    >>> refuse_closures(device, keys, checked)   # before the insert: activity_not_here
    >>> apply_closures(new, device)              # after it, for the events stored now

A kiosk may close an activity of its own station, or one shown at every station (station
NULL) and so on its screen too. Anything else (another station's activity, an id the server
does not know) is refused ``activity_not_here``.

- An activity of the kiosk's station gets ``closed_at`` (server clock) and ``closed_by``
  (the coordinator's number), once: a later closure by another kiosk of the station is
  stored as an event and changes nothing. The activity is published again with
  ``closed: true`` to that station, so its other kiosks close it at their next pull.
- An activity shown at every station is closed for the closing kiosk's station only: a
  coordinator ends it where they are, not across the city. The closed copy is published
  to that station alone; the activity row (and every other station) stays open.
"""

from __future__ import annotations

from sync.server.db import in_list
from sync.server.models import Activity, Device, StoredEvent
from sync.server.services.changes import activity_data, append_changes
from sync.server.services.sessions import Accepted, server_time

EVENT_TYPE = "activity_closed"


def _closures(checked: list) -> list[tuple[int, Accepted]]:
    return [(i, c) for i, c in enumerate(checked) if isinstance(c, Accepted) and c.event.type == EVENT_TYPE]


def _visible(activity: Activity | None, station: str) -> bool:
    return activity is not None and activity.station in (None, station)


def refuse_closures(device: Device, keys: list[str], checked: list) -> None:
    """Mark ``activity_not_here`` in `checked` (in place) for closures this device may not
    make; call inside the push transaction, before the events are inserted. An event stored
    before is left alone: it is answered duplicate, whatever became of the activity since."""
    closures = _closures(checked)
    if not closures:
        return
    ids = {c.payload.activity_id for _, c in closures}
    activities = {a.id: a for a in Activity.select(Activity.id, Activity.station).where(in_list(Activity.id, ids))}
    foreign = [i for i, c in closures if not _visible(activities.get(c.payload.activity_id), device.station)]
    if not foreign:
        return
    stored_before = {r.id for r in StoredEvent.select(StoredEvent.id)
                     .where(in_list(StoredEvent.id, {keys[i] for i in foreign}))}
    for i in foreign:
        if keys[i] not in stored_before:
            checked[i] = "activity_not_here"


def apply_closures(items: list[Accepted], device: Device) -> None:
    """Close and publish the activities of the closures stored now (`items`: the events
    this push stored, refusals already taken out)."""
    changes = []
    for item in items:
        if item.event.type != EVENT_TYPE:
            continue
        activity = Activity.get_or_none(Activity.id == item.payload.activity_id)
        if not _visible(activity, device.station):
            continue  # refused before the insert; kept out here too, in case of a caller that did not
        if activity.station is None:
            data = {**activity_data(activity), "closed": True}
        else:
            closed = (Activity.update(closed_at=server_time(item.event, item.payload.at), closed_by=item.payload.by_vid)
                      .where((Activity.id == activity.id) & Activity.closed_at.is_null()).execute())
            if not closed:
                continue  # closed already (by another kiosk of the station): the first closure stands
            data = activity_data(Activity.get_by_id(activity.id))
        changes.append(("activity", activity.id, data, device.station))
    if changes:
        append_changes(changes)
