"""python-for-android's entry point (buildozer.spec): the kiosk app on an Android tablet or phone.

The database lives in the app's private storage; on the first start an enrol.json pushed with adb
(README, "Running on Android") sets the station up and enrols the kiosk with its one-time code.
"""

import sys

from kiosk import android_kiosk
from kiosk.cli import main as cli


def run() -> int:
    data = android_kiosk.data_dir()
    if data is None:
        print("main.py is the Android entry point; on a desktop run `weiguang kiosk run`", file=sys.stderr)
        return 2
    db = data / "kiosk.db"
    enrol = android_kiosk.enrol_file()
    for command in android_kiosk.first_start(db, enrol):
        cli(command)
    if enrol is not None and enrol.exists() and db.exists():
        enrol.unlink()  # the enrolment code is single-use: do not leave it on shared storage
    android_kiosk.prepare()
    return cli(["kiosk", "run", "--db", str(db), "--fullscreen"])


if __name__ == "__main__":
    sys.exit(run())
