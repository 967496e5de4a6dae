"""What kept the kiosk's UI thread from its next frame (bench_ui's stall): the collector walking
the whole start-up heap, and every translation listing the catalog folder."""

from __future__ import annotations

import gc

from kiosk import i18n
from kiosk.threads import freeze_heap


def test_freeze_heap_takes_what_lives_now_out_of_the_collectors_walks():
    held = [[i] for i in range(5000)]          # long-lived objects, as a screen's widgets
    try:
        before = gc.get_freeze_count()
        frozen = freeze_heap()
        assert frozen == gc.get_freeze_count() >= before + len(held)
        walked = {id(o) for g in (0, 1, 2) for o in gc.get_objects(generation=g)}
        assert not any(id(x) in walked for x in held)
    finally:
        gc.unfreeze()                          # the rest of the test session collects as before


def test_a_translation_does_not_look_at_the_catalog_folder_once_read(monkeypatch):
    i18n._("ui.done")                          # the catalogs are read
    i18n.gettext("ui.done", "en")
    listed = []
    real = i18n.languages
    monkeypatch.setattr(i18n, "languages", lambda: listed.append(1) or real())
    for _ in range(50):                        # a feedback screen's texts, the status line each second
        assert i18n._("ui.done") and i18n.gettext("ui.done", "en") == "Done"
    assert listed == []
    assert i18n.gettext("ui.done", "zh") == i18n.gettext("ui.done", "zh_CN")   # a code to normalise still works
