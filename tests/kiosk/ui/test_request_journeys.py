"""Journeys of a service request at a real kiosk window on a real kiosk database (see
real_kiosk.py and request_journeys.py). The whole life of a request, with a real center,
dashboard and phone page, is tests/web/test_request_whole_life.py."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.sync.e2e.conftest import weiguang
from tests.web.test_request_whole_life import KioskWindow

pytestmark = pytest.mark.ui

MENU = {"items": [{"service": "理发", "service_en": "Haircut", "presets": ["行动不便，请上门", "儿童理发"],
                   "presets_en": ["At home, please", "For a child"]},
                  {"service": "磨刀", "presets": ["菜刀两把"]}], "site": "PC"}


def test_a_menu_in_english_orders_in_chinese(xdisplay, tmp_path):
    db = tmp_path / "kiosk.db"
    keys = tmp_path / "keys"
    weiguang("keys", "init", "--dir", keys)
    weiguang("kiosk", "init", "--db", db, "--station", "文博苑社区", "--keys", keys)
    from kiosk.store import db as peewee_db, open_store
    store = open_store(db)
    store.settings.set(service_menu=MENU, language="en")           # as a pull leaves it
    peewee_db.close()
    window = KioskWindow(xdisplay, db, tmp_path / "run", "order_in_english", lang="en", service="Haircut",
                         preset="For a child", phone="13812348000")
    result = window.finish()
    assert "Haircut" in result["menu_labels"] and "磨刀" in result["menu_labels"]   # no English given: as is
    assert sorted(result["preset_labels"]) == ["At home, please", "For a child"]
    with sqlite3.connect(db) as con:
        (payload,), = con.execute("SELECT payload FROM outbox WHERE type = 'service_request'").fetchall()
    order = json.loads(payload)
    assert (order["number"], order["service"], order["note"]) == (result["number"], "理发", "儿童理发")
