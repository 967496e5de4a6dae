"""buildozer.spec without the Android SDK: its keys, the files it names, the manifest it makes."""

from __future__ import annotations

import glob
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tools.android.check_requirements import read_spec

ROOT = Path(__file__).parents[2]
SPEC = ROOT / "buildozer.spec"
# Fetched on the build machine by tools/android/fetch_camerax_provider.sh (not kept in the repository).
FETCHED = {"android.add_src": "android/camerax_provider/camerax_src", "p4a.hook": "android/camerax_provider/gradle_options.py"}
ANDROID = "{http://schemas.android.com/apk/res/android}"


@pytest.fixture(scope="module")
def app():
    return read_spec(SPEC)["app"]


def test_keys(app):
    assert app["package.domain"] + "." + app["package.name"] == "org.weiguang.kiosk"
    assert app["android.archs"].split(",") == ["arm64-v8a"]
    assert int(app["android.api"]) >= 34 and int(app["android.minapi"]) >= 21
    assert {"CAMERA", "INTERNET", "WAKE_LOCK"} <= {p.strip() for p in app["android.permissions"].split(",")}
    assert app["android.wakelock"] == "True" and app["android.home_app"] == "True"
    assert app["p4a.bootstrap"] == "sdl2" and app["fullscreen"] == "1"
    reqs = [r.strip() for r in app["requirements"].split(",")]
    assert "libzxing" in reqs and "camera4kivy" in reqs and "zxing-cpp" not in reqs


def test_referenced_files_exist(app):
    assert (ROOT / app["source.dir"] / "main.py").is_file()
    local = ROOT / app["p4a.local_recipes"]
    assert (local / "libzxing" / "__init__.py").is_file()
    assert (ROOT / app["android.manifest.intent_filters"]).is_file()
    for entry in app["android.add_resources"].split(","):
        assert (ROOT / entry.split(":")[0]).is_file(), entry
    for pattern in app["source.include_patterns"].split(","):
        assert glob.glob(str(ROOT / pattern)), f"source.include_patterns {pattern!r} matches nothing"
    assert (ROOT / "assets/fonts/WeiguangSans.ttf").is_file()
    fetch = (ROOT / "tools/android/fetch_camerax_provider.sh").read_text()
    for key, path in FETCHED.items():
        assert app[key] == path and "android/camerax_provider" in fetch


def test_the_manifest_python_for_android_makes(app):
    """Render python-for-android's own manifest template with our settings: a valid manifest, the HOME
    category on the kiosk's activity, the device-admin receiver inside <application>."""
    import jinja2
    import pythonforandroid

    templates = Path(pythonforandroid.__file__).parent / "bootstraps/_sdl_common/build/templates"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)))

    class Args(dict):
        __getattr__ = dict.get

    args = Args(
        package="org.weiguang.kiosk", numeric_version=1, version="0.13.0", min_sdk_version=24,
        permissions=[{"name": f"android.permission.{p.strip()}"} for p in app["android.permissions"].split(",")],
        wakelock=True, home_app=True, launcher=False, allow_backup="false", android_apptheme="@android:style/Theme.NoTitleBar",
        window=False, android_entrypoint="org.kivy.android.PythonActivity", manifest_orientation="fullUser",
        intent_filters=(ROOT / app["android.manifest.intent_filters"]).read_text(), android_used_libs=[],
        meta_data=[], add_activity=[], extra_manifest_xml="", extra_manifest_application_arguments="",
        service_class_name="org.kivy.android.PythonService", activity_class_name="org.kivy.android.PythonActivity",
    )
    text = env.get_template("AndroidManifest.tmpl.xml").render(
        args=args, android_api=34, service=False, service_names=[], debug=False, native_services=[],
        url_scheme="kivy", cls=None,
    )
    root = ET.fromstring(text.encode())
    application = root.find("application")
    receivers = application.findall("receiver")
    admin = [r for r in receivers if r.get(ANDROID + "name") == "android.app.admin.DeviceAdminReceiver"]
    assert admin and admin[0].get(ANDROID + "permission") == "android.permission.BIND_DEVICE_ADMIN"
    main = [a for a in application.findall("activity") if a.get(ANDROID + "name") == "org.kivy.android.PythonActivity"][0]
    categories = {c.get(ANDROID + "name") for f in main.findall("intent-filter") for c in f.findall("category")}
    assert "android.intent.category.HOME" in categories
    placeholders = [a for a in application.findall("activity") if a.get(ANDROID + "name") == "org.weiguang.kiosk.Placeholder"]
    assert placeholders and placeholders[0].get(ANDROID + "enabled") == "false"
    perms = {p.get(ANDROID + "name") for p in root.findall("uses-permission")}
    assert "android.permission.CAMERA" in perms and "android.permission.WAKE_LOCK" in perms
