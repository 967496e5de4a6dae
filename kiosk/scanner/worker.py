"""Decode camera frames off the caller's (UI) thread; the newest frame always wins.

    worker = FrameDecoder(on_result=lambda texts, frame_id: ...)
    worker.submit(frame)        # from the camera callback; never blocks, returns the frame id
    ...
    worker.stop()

The worker holds at most one frame waiting: a frame submitted while an older one still waits replaces
it (the old one is dropped and counted), so a slow decode never builds a queue of stale pictures and
the kiosk always answers to what is in front of the camera now. on_result(texts, frame_id) is called
on the worker thread, only when a frame held at least one QR code; a UI must hop back to its own
thread (e.g. Kivy's Clock.schedule_once) before touching widgets.

Counters: submitted, decoded, dropped, failed (decode raised); once idle or stopped,
submitted == decoded + dropped + failed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kiosk.scanner.decoder import decode as default_decode

__all__ = ["FrameDecoder"]

log = logging.getLogger(__name__)

_EMPTY = object()


class FrameDecoder:
    def __init__(
        self,
        on_result: Callable[[list[str], int], Any],
        decode: Callable[[Any], list[str]] = default_decode,
        name: str = "frame-decoder",
    ) -> None:
        self._on_result = on_result
        self._decode = decode
        self._cond = threading.Condition()
        self._slot: Any = _EMPTY
        self._slot_id = 0
        self._busy = False
        self._stopping = False
        self.submitted = 0
        self.decoded = 0
        self.dropped = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, frame: Any) -> int:
        """Hand over a frame for decoding; returns its id (1, 2, ...)."""
        with self._cond:
            if self._stopping:
                raise RuntimeError("FrameDecoder is stopped")
            self.submitted += 1
            if self._slot is not _EMPTY:
                self.dropped += 1  # never decoded: a newer frame replaces it
            self._slot, self._slot_id = frame, self.submitted
            self._cond.notify_all()
            return self.submitted

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no frame waits and none is being decoded; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._slot is _EMPTY and not self._busy, timeout)

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the worker (a frame still waiting is dropped) and join it."""
        with self._cond:
            self._stopping = True
            if self._slot is not _EMPTY:
                self._slot = _EMPTY
                self.dropped += 1
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:  # stop() may be called from on_result
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._slot is not _EMPTY or self._stopping)
                if self._stopping:
                    return
                frame, frame_id = self._slot, self._slot_id
                self._slot = _EMPTY
                self._busy = True
            try:
                texts = self._decode(frame)
            except Exception:
                log.exception("decoding frame %d failed", frame_id)
                texts = None
            with self._cond:
                if texts is None:
                    self.failed += 1
                else:
                    self.decoded += 1
            if texts:
                try:
                    self._on_result(texts, frame_id)
                except Exception:
                    log.exception("on_result failed for frame %d", frame_id)
            with self._cond:  # busy until on_result returns, so wait_idle() covers the callback
                self._busy = False
                self._cond.notify_all()
