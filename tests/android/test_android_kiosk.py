"""kiosk.android_kiosk off Android: every call is inert; the first-start commands work through the CLI.

Lock task, the kept-on screen and app_storage_path need Android (pyjnius, python-for-android's
`android` module): nothing here has a device or an emulator, so those paths are not run.
"""

from __future__ import annotations

import json

from kiosk import android_kiosk
from kiosk.cli import main as cli
from kiosk.store import open_store


def test_inert_on_a_desktop(monkeypatch):
    monkeypatch.delenv("ANDROID_ARGUMENT", raising=False)
    monkeypatch.delenv("ANDROID_PRIVATE", raising=False)
    assert android_kiosk.on_android() is False
    assert android_kiosk.data_dir() is None and android_kiosk.enrol_file() is None
    assert android_kiosk.prepare() == {"camera": False, "screen_on": False, "lock": "desktop"}
    assert android_kiosk.stop_lock_task() is False and android_kiosk.is_device_owner() is False


def test_first_start_sets_the_station_up_from_enrol_json(tmp_path, capsys):
    db = tmp_path / "private" / "kiosk.db"
    db.parent.mkdir()
    enrol = tmp_path / "enrol.json"
    enrol.write_text(json.dumps({"station": "文博苑社区", "timezone": "Asia/Shanghai"}), encoding="utf-8")
    commands = android_kiosk.first_start(db, enrol)
    assert commands == [["kiosk", "init", "--db", str(db), "--station", "文博苑社区", "--timezone", "Asia/Shanghai"]]
    for command in commands:
        assert cli(command) == 0
    assert open_store(db).settings.get("station")["name"] == "文博苑社区"
    assert android_kiosk.first_start(db, enrol) == []          # only the first start


def test_first_start_enrols_when_given_a_code(tmp_path):
    enrol = tmp_path / "enrol.json"
    enrol.write_text(json.dumps({"station": "文博苑社区", "server": "https://center.example", "code": "ABCD-1234"}))
    commands = android_kiosk.first_start(tmp_path / "kiosk.db", enrol)
    assert commands[1] == ["kiosk", "enroll", "--db", str(tmp_path / "kiosk.db"), "--server", "https://center.example", "ABCD-1234"]
    assert android_kiosk.first_start(tmp_path / "kiosk.db", None) == []


def test_main_py_refuses_to_run_off_android(monkeypatch, capsys):
    import runpy

    monkeypatch.delenv("ANDROID_ARGUMENT", raising=False)
    monkeypatch.delenv("ANDROID_PRIVATE", raising=False)
    main = runpy.run_path(str(android_kiosk.Path(__file__).parents[2] / "main.py"))
    assert main["run"]() == 2
    assert "Android entry point" in capsys.readouterr().err
