"""The network as data: sites in three tiers, all-or-nothing CSV import, the kiosk's
StationInfo, `weiguang server sites import` and `server code` refusing unknown stations."""

from __future__ import annotations

import json

import pytest

from kiosk.cli import main
from sync.server import db
from sync.server.models import ChangeRow, Site
from sync.server.services import ServiceError, changes, devices, sites
from sync.server.services.csvfiles import ImportRefused

NETWORK = ("code,name,tier,parent,timezone\n"
           "DT,大同市新时代文明实践中心,center,,Asia/Shanghai\n"
           "PC,平城区新时代文明实践中心,center,DT,\n"
           "PC-XJNL,新建南路街道新时代文明实践所,institute,PC,\n"
           "WBY,文博苑社区,station,PC-XJNL,Asia/Shanghai\n"
           "HYL,和阳里社区,站,PC-XJNL,\n")


def site_rows() -> dict[str, tuple]:
    with db.reading():
        return {s.code: (s.name, s.tier, s.parent, s.timezone) for s in Site.select()}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_import_loads_the_network_in_any_spreadsheet_encoding(server_app, encoding):
    assert sites.import_sites(NETWORK.encode(encoding)) == 5
    rows = site_rows()
    assert rows["WBY"] == ("文博苑社区", "station", "PC-XJNL", "Asia/Shanghai")
    assert rows["HYL"][1] == "station"                  # 站 accepted for station
    assert sites.subtree("PC") == ["PC", "PC-XJNL", "HYL", "WBY"]
    assert sites.station_info("WBY") == {"code": "WBY", "name": "文博苑社区",
                                         "institute": "新建南路街道新时代文明实践所",
                                         "center": "平城区新时代文明实践中心", "timezone": "Asia/Shanghai"}


def test_a_wrong_row_refuses_the_whole_file_naming_each_row(server_app):
    sites.import_sites(NETWORK)
    before = site_rows()
    bad = ("code,name,tier,parent,timezone\n"
           "YG,云冈区新时代文明实践中心,center,DT,Asia/Beijing\n"       # 2: not a zone
           "YG-1,云冈镇所,institute,NOPE,\n"                            # 3: unknown parent
           "S1,某站,station,WBY,\n"                                     # 4: a station under a station
           "站Ａ,站A,station,PC-XJNL,\n"                                # 5: full-width code
           "X,,village,PC,\n"                                           # 6: no name, bad tier
           "WBY,文博苑社区（改名）,station,PC-XJNL,\n")                  # 7: fine alone
    with pytest.raises(ImportRefused) as refused:
        sites.import_sites(bad)
    lines = {r.line for r in refused.value.rows}
    assert lines == {2, 3, 4, 5, 6}
    reasons = " ".join(r.error for r in refused.value.rows)
    assert "Asia/Beijing" in reasons and "NOPE" in reasons and "full-width" in reasons
    assert site_rows() == before                                       # nothing imported, not even line 7


def test_import_updates_and_republishes_station_info(server_app):
    sites.import_sites(NETWORK)
    sites.import_sites("code,name,tier,parent\nPC-XJNL,新建南路街道所,institute,PC\n")
    assert sites.station_info("WBY")["institute"] == "新建南路街道所"
    with db.reading():
        published = [json.loads(r.data)["institute"] for r in
                     ChangeRow.select().where((ChangeRow.kind == "station") & (ChangeRow.key == "WBY"))
                     .order_by(ChangeRow.version)]
    assert published[-1] == "新建南路街道所"


@pytest.mark.parametrize("text,reason", [
    ("code,name,tier\nA,甲,center\n", "missing column(s) parent"),
    ("code,name,tier,parent,phone\nA,甲,center,,1\n", "unknown column(s) phone"),
    ("", "empty"),
    ("code,name,tier,parent\nA,甲,center,,x,y\n", "cells"),
    ("code,name,tier,parent\nA,甲,center,\nB,乙,center,\n", "one root"),
])
def test_malformed_files_are_refused_with_a_line(server_app, text, reason):
    with pytest.raises(ImportRefused) as refused:
        sites.import_sites(text)
    assert any(reason in r.error for r in refused.value.rows), refused.value.rows
    assert site_rows() == {}


def test_timezones_are_checked_with_zoneinfo():
    assert sites.valid_timezone("Asia/Shanghai") and sites.valid_timezone("Asia/Urumqi")
    for bad in ("Asia/Beijing", "Mars/Olympus", "", "../etc/passwd", "/etc/localtime", "Asia/Shanghai "):
        assert not sites.valid_timezone(bad)


def test_enrolment_refuses_a_typo_and_names_the_nearest(server_app):
    sites.import_sites(NETWORK)
    with pytest.raises(ServiceError) as refused:
        devices.make_enroll_code("文博苑社")
    assert refused.value.code == "unknown_station" and "文博苑社区 (WBY)" in refused.value.message
    with pytest.raises(ServiceError) as refused:
        devices.make_enroll_code("PC")                      # a center, not a station
    assert refused.value.code == "unknown_station"
    assert devices.make_enroll_code("WBY") and devices.make_enroll_code("文博苑社区")


def test_cli_sites_import_and_code(server_settings, capsys, monkeypatch, tmp_path):
    if server_settings.database_url:
        monkeypatch.setenv("DATABASE_URL", server_settings.database_url)
    data = str(server_settings.data_dir)
    assert main(["server", "init", "--data", data, "--json"]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad.csv"
    bad.write_bytes("code,name,tier,parent\nDT,大同,center,\nA,甲站,station,ZZ\n".encode("gbk"))
    assert main(["server", "sites", "import", "--data", data, str(bad), "--json"]) == 1
    answer = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert answer["error"] == "import_refused" and answer["rows"][0]["line"] == 3
    good = tmp_path / "sites.csv"
    good.write_text("\ufeff" + NETWORK, encoding="utf-8")
    assert main(["server", "sites", "import", "--data", data, str(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip()) == {"imported": 5}
    assert main(["server", "code", "--data", data, "--station", "站Ａ"]) == 1
    err = capsys.readouterr().err
    assert "no station '站Ａ' in the network" in err
    assert main(["server", "code", "--data", data, "--station", "WBY", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["station"] == "WBY"


def test_migration_moves_the_old_station_table_into_sites(server_app):
    with db.writing():
        db.db.execute_sql('CREATE TABLE "station" ("code" VARCHAR(255) PRIMARY KEY, "name" VARCHAR(255), '
                          '"institute" VARCHAR(255), "center" VARCHAR(255), "timezone" VARCHAR(255))')
        db.db.execute_sql('INSERT INTO "station" VALUES (\'dgj\', \'东关街站\', \'东关街道所\', \'广陵区中心\', '
                          '\'Asia/Shanghai\'), (\'s2\', \'二站\', \'\', \'\', \'Asia/Urumqi\')')
        db.db.execute_sql("DELETE FROM migrations WHERE name = '0005_center_sites'")
    assert db.migrate() == ["0005_center_sites"]
    assert sites.station_info("dgj") == {"code": "dgj", "name": "东关街站", "institute": "东关街道所",
                                         "center": "广陵区中心", "timezone": "Asia/Shanghai"}
    assert sites.station_info("s2")["timezone"] == "Asia/Urumqi"
    with db.reading():
        assert "station" not in db.db.get_tables()
        assert Site.select().where(Site.parent.is_null()).count() == 1
    assert db.migrate() == []


def test_upsert_station_shortcut_builds_parents(server_app):
    changes.upsert_station("s1", "站点 s1")
    changes.upsert_station("dgj", "东关街站", institute="东关街道所", center="广陵区中心")
    assert sites.station_info("dgj")["center"] == "广陵区中心"
    assert sites.get_site("s1").parent == "CENTER"
