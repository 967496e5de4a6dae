"""The kiosk on Android: private storage, screen kept on, lock-task mode. Inert on a desktop.

    from kiosk import android_kiosk
    android_kiosk.data_dir()       # the app's private storage on Android; None elsewhere
    android_kiosk.prepare()        # keep the screen on and pin the app (no-op off Android)

Lock task (Android's kiosk mode) comes in two strengths. Screen pinning: startLockTask() from an
ordinary app asks the user to confirm the pin, and a long press of Back+Overview unpins. Full lock:
when this app is the device owner (`adb shell dpm set-device-owner
org.weiguang.kiosk/android.app.admin.DeviceAdminReceiver`, on a device with no accounts), it first
allows itself with DevicePolicyManager.setLockTaskPackages, and startLockTask() then locks with no
prompt and no way out: Home, Overview and notifications are gone until the coordinator leaves kiosk
mode (stop_lock_task). The app is also the home screen (the HOME intent filter in buildozer.spec),
so after a reboot the kiosk is what comes up.

Everything Android is reached through pyjnius, imported only on Android.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

PACKAGE = "org.weiguang.kiosk"
ADMIN_RECEIVER = "android.app.admin.DeviceAdminReceiver"   # the framework's own class, declared in the manifest


def on_android() -> bool:
    return "ANDROID_ARGUMENT" in os.environ or "ANDROID_PRIVATE" in os.environ


def data_dir() -> Path | None:
    """The app's private storage (android.storage.app_storage_path), None off Android."""
    if not on_android():
        return None
    from android.storage import app_storage_path  # python-for-android's module

    path = Path(app_storage_path()) / "weiguang"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _activity():
    from jnius import autoclass

    return autoclass("org.kivy.android.PythonActivity").mActivity


def _on_ui_thread(fn):
    from android.runnable import run_on_ui_thread

    return run_on_ui_thread(fn)


def keep_screen_on() -> bool:
    if not on_android():
        return False
    from jnius import autoclass

    flags = autoclass("android.view.WindowManager$LayoutParams").FLAG_KEEP_SCREEN_ON

    @_on_ui_thread
    def apply():
        _activity().getWindow().addFlags(flags)

    apply()
    return True


def is_device_owner() -> bool:
    if not on_android():
        return False
    from jnius import autoclass

    Context = autoclass("android.content.Context")
    dpm = _activity().getSystemService(Context.DEVICE_POLICY_SERVICE)
    return bool(dpm.isDeviceOwnerApp(PACKAGE))


def start_lock_task() -> str:
    """Pin the app: 'locked' (device owner: full lock), 'pinned' (screen pinning) or 'desktop'."""
    if not on_android():
        return "desktop"
    from jnius import autoclass

    owner = is_device_owner()
    if owner:
        Context = autoclass("android.content.Context")
        ComponentName = autoclass("android.content.ComponentName")
        activity = _activity()
        dpm = activity.getSystemService(Context.DEVICE_POLICY_SERVICE)
        admin = ComponentName(PACKAGE, ADMIN_RECEIVER)
        dpm.setLockTaskPackages(admin, [PACKAGE])

    @_on_ui_thread
    def start():
        _activity().startLockTask()

    start()
    return "locked" if owner else "pinned"


def stop_lock_task() -> bool:
    """Leave lock task (coordinator mode's 'leave kiosk mode')."""
    if not on_android():
        return False

    @_on_ui_thread
    def stop():
        _activity().stopLockTask()

    stop()
    return True


def request_camera() -> bool:
    """Ask for the CAMERA permission (a runtime permission since Android 6); when it is granted
    after the app started, start the camera then. False off Android."""
    if not on_android():
        return False
    from android.permissions import Permission, check_permission, request_permissions

    if check_permission(Permission.CAMERA):
        return True

    def granted(permissions, results):
        if all(results):
            from kivy.app import App
            from kivy.clock import Clock

            def start(dt):
                app = App.get_running_app()
                camera = getattr(app, "camera", None)
                if camera is not None and not camera.running:
                    camera.start()

            Clock.schedule_once(start, 0)

    request_permissions([Permission.CAMERA], granted)
    return False


def prepare() -> dict:
    """Called once at start on Android: camera permission, screen on, lock task. Returns what it did."""
    done = {"screen_on": False, "lock": "desktop"}
    try:
        done["camera"] = request_camera()
        done["screen_on"] = keep_screen_on()
        done["lock"] = start_lock_task()
    except Exception as exc:  # noqa: BLE001 - a kiosk that cannot pin itself still scans
        log.warning("android kiosk mode: %s", exc)
        done["error"] = str(exc)
    log.info("android kiosk: %s", done)
    return done


def enrol_file() -> Path | None:
    """Where `adb push enrol.json` lands without root: the app's external files directory."""
    if not on_android():
        return None
    return Path(_activity().getExternalFilesDir(None).getAbsolutePath()) / "enrol.json"


def first_start(db: Path, enrol_json: Path | None) -> list[list[str]]:
    """The CLI commands that set up `db` from enrol.json ({"station", "server", "code"[, "timezone"]}).

    Pure: returns the commands (tests check them on a desktop); main.py runs them through kiosk.cli.
    """
    import json

    if db.exists() or enrol_json is None or not enrol_json.is_file():
        return []
    data = json.loads(enrol_json.read_text(encoding="utf-8"))
    commands = [["kiosk", "init", "--db", str(db), "--station", str(data["station"]),
                 "--timezone", str(data.get("timezone", "Asia/Shanghai"))]]
    if data.get("server") and data.get("code"):
        commands.append(["kiosk", "enroll", "--db", str(db), "--server", str(data["server"]), str(data["code"])])
    return commands
