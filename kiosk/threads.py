"""The kiosk's threads and the CPU: the UI thread first.

On a kiosk's two cores the software renderer (Mesa's llvmpipe) and the UI thread share the CPU
with the background threads: the sync agent (JSON, HTTP, SQLite) and the frame decoder. These
run at a lower priority (Linux: a per-thread nice value), so when the CPU is short the frame is
drawn first and the sync waits, never the other way round; and the interpreter hands the GIL
over sooner (2 ms instead of 5) so the UI thread never waits long behind a busy Python thread.
The DB worker keeps the normal priority: a person in front of the kiosk waits for its decisions.

The cyclic garbage collector runs on whichever thread allocates when a generation fills up, and
holds the GIL while it walks: a full collection walks every object the kiosk holds (≈ 85,000
after start: Kivy's widgets, kv rules, the code of every module), ≈ 35–40 ms of CPU, so the UI
thread stood still for a whole frame and more whenever the sync thread's garbage happened to
trigger one (bench_ui: the one ≈ 55 ms loop iteration per run on a quiet machine). Once the
first frame is up those objects live as long as the app: `freeze_heap` moves them to the
collector's permanent generation (O(1), no pause), so later collections walk only what was made
since (a full one then takes well under a millisecond). Call it again after building something
big and lasting (a screen built on first use).
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

SYNC_NICE = 10          # the sync agent: minutes late costs nothing
DECODER_NICE = 4        # frames: a little behind the drawing
SWITCH_INTERVAL = 0.002


def lower_priority(nice: int, thread: threading.Thread | None = None) -> bool:
    """Lower the priority of `thread` (default: the calling thread) by `nice`; False where the
    system cannot (not Linux, or not allowed). Never raises."""
    tid = (thread.native_id if thread is not None else threading.get_native_id())
    if tid is None or not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return False
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + nice))   # on Linux, one thread
        return True
    except OSError as exc:
        log.debug("cannot lower the priority of thread %s: %s", tid, exc)
        return False


def ui_first() -> None:
    """Called once on the UI thread at start: the GIL goes round sooner."""
    sys.setswitchinterval(SWITCH_INTERVAL)


def freeze_heap() -> int:
    """Move every object alive now out of the collector's reach (gc.freeze): it is never walked
    again. Returns how many objects are frozen in all. Call on the UI thread, when what exists
    will live as long as the app (after the first frame, after building a screen)."""
    gc.freeze()
    return gc.get_freeze_count()
