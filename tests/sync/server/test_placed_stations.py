"""A station added to the network after a center set its service menu, or moved under
another center, hears what the sites now above it say: the menu reaches its kiosks' pull;
a station that moved away goes back to the default. (Coordinators are registered at a
station, so their PINs reach that station's kiosks, wherever it moves.) Both backends."""

from __future__ import annotations

from sync.server.services import accounts, coordinator_pins, service_menu, sites
from sync.server.services.scope import scope_for
from sync.server.services.volunteers import import_csv
from tests.sync.server.center import add, load_network
from tests.sync.server.conftest import enrol

MENU = [{"service": "理发", "presets": ["行动不便，请上门"]}, {"service": "磨刀", "presets": ["菜刀两把"]}]
VID = "14020200009"


def scope(username: str):
    return scope_for(accounts.get_user(username))


def pulled(kiosk, kind: str) -> list:
    return [(c["key"], c["data"]) for c in kiosk.pull().json()["changes"] if c["kind"] == kind]


def test_a_station_added_later_gets_its_centers_menu_and_pins(api):
    accounts.reset_limits()
    load_network()
    add("pc", "PC")
    add("boss", None, "center_admin")
    import_csv(scope("boss"), "WBY", f"vid,name,team,role\n{VID},张协调,,coordinator\n".encode(), actor="boss")
    service_menu.set_menu(scope("boss"), "PC", MENU, actor="boss")
    assert coordinator_pins.set_pin(scope("pc"), VID, "2580", actor="pc")["stations"] == ["WBY"]
    wby = enrol(api, "WBY")
    (pin_hash,) = {d["hash"] for _k, d in pulled(wby, "coordinator_pin")}

    # A new station below the center, months later: its kiosk gets the center's menu.
    sites.upsert_site("XMS", "新民社区", "station", "PC-XJNL")
    kiosk = enrol(api, "XMS")
    assert pulled(kiosk, "service_menu") == [("menu", {"items": MENU, "site": "PC"})]
    assert pulled(kiosk, "coordinator_pin") == []             # WBY's coordinator is WBY's
    assert service_menu.menu_for("XMS")["site"] == "PC"

    # A new station under another center: nothing of PC's.
    sites.upsert_site("YGX", "云冈新村", "station", "YG-YGZ")
    elsewhere = enrol(api, "YGX")
    assert pulled(elsewhere, "service_menu") == [] and pulled(elsewhere, "coordinator_pin") == []

    # The station moves to 云冈: its kiosks go back to the default menu.
    cursor = kiosk.pull().json()["cursor"]
    sites.import_sites("code,name,tier,parent\nXMS,新民社区,station,YG-YGZ\n")
    later = [(c["kind"], c["key"], c["data"]) for c in kiosk.pull(cursor).json()["changes"]
             if c["kind"] in ("service_menu", "coordinator_pin")]
    assert later == [("service_menu", "menu", {"items": service_menu_default(), "site": None})]
    # WBY moves to another institute of the same center: its coordinator's PIN stays, and
    # it is told the menu again (the same one).
    sites.upsert_site("PC-NEW", "新街道新时代文明实践所", "institute", "PC")
    at = wby.pull().json()["cursor"]
    sites.import_sites("code,name,tier,parent\nWBY,文博苑社区,station,PC-NEW\n")
    assert [(c["kind"], c["data"]) for c in wby.pull(at).json()["changes"]
            if c["kind"] in ("service_menu", "coordinator_pin")] == [("service_menu", {"items": MENU, "site": "PC"})]
    assert pin_hash
    # Saving the network again unchanged sends nothing new.
    cursor = kiosk.pull(cursor).json()["cursor"]
    sites.import_sites("code,name,tier,parent\nXMS,新民社区,station,YG-YGZ\n")
    assert [c for c in kiosk.pull(cursor).json()["changes"] if c["kind"] in ("service_menu", "coordinator_pin")] == []


def service_menu_default():
    from sync.service_menu import DEFAULT_MENU
    return DEFAULT_MENU
