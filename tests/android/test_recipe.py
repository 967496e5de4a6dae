"""The python-for-android recipe for libZXing, without the NDK.

Its CMake steps (cmake_commands) are what tools/android/build_zxing_c.sh runs on the desktop
toolchain to make the library the decoder tests load (tests/kiosk/scanner), so a green decoder
run over the zxing-c backend is those steps run here. This file checks the rest: python-for-android
finds and loads the recipe from p4a.local_recipes, and its build_arch hands those same steps the
NDK's toolchain.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "tools/android/build_zxing_c.sh"


@pytest.fixture(scope="module")
def recipe():
    from pythonforandroid.build import Context
    from pythonforandroid.recipe import Recipe

    ctx = Context()
    ctx.local_recipes = str(ROOT / "android/p4a_recipes")
    return Recipe.get_recipe("libzxing", ctx)


def test_python_for_android_loads_the_local_recipe(recipe):
    assert recipe.name == "libzxing"
    assert recipe.built_libraries == {"libZXing.so": "build"} and recipe.need_stl_shared
    script = SCRIPT.read_text()
    # One source: the PyPI sdist the script downloads, with the same pinned hash and version.
    assert recipe.versioned_url == "https://files.pythonhosted.org/packages/source/z/zxing-cpp/zxing_cpp-3.1.1.tar.gz"
    assert re.search(rf"^SHA256={recipe.sha256sum}$", script, re.M)
    assert re.search(rf"^VERSION={re.escape(recipe.version)}$", script, re.M)
    # And one set of CMake steps: the script runs the recipe's cmake_commands.
    assert "cmake_commands" in script and "android/p4a_recipes/libzxing/__init__.py" in script


def test_build_arch_runs_the_steps_with_the_ndk_toolchain(recipe, monkeypatch, tmp_path):
    import types

    from pythonforandroid.archs import ArchAarch_64

    recipe_globals = type(recipe).build_arch.__globals__   # the recipe module's namespace
    calls = []
    monkeypatch.setitem(recipe_globals, "shprint", lambda cmd, *args, **kw: calls.append([cmd, *args]))
    monkeypatch.setitem(recipe_globals, "sh", types.SimpleNamespace(Command=lambda name: name))
    monkeypatch.setattr(type(recipe), "get_recipe_env", lambda self, arch=None, **kw: {"PATH": "/usr/bin"})
    monkeypatch.setattr(type(recipe), "get_build_dir", lambda self, arch: str(tmp_path / "src"))
    monkeypatch.setattr(type(recipe), "stl_lib_name", "c++_shared", raising=False)
    recipe.ctx.ndk_dir = "/opt/ndk"
    recipe.ctx.ndk_api = 24
    recipe.build_arch(ArchAarch_64(recipe.ctx))
    configure, build = calls
    assert configure[:5] == ["cmake", "-S", str(tmp_path / "src/core"), "-B", str(tmp_path / "src/build")]
    assert "-DCMAKE_TOOLCHAIN_FILE=/opt/ndk/build/cmake/android.toolchain.cmake" in configure
    assert "-DANDROID_ABI=arm64-v8a" in configure and "-DANDROID_PLATFORM=android-24" in configure
    assert "-DANDROID_STL=c++_shared" in configure
    assert {"-DZXING_C_API=ON", "-DZXING_WRITERS=OFF", "-DZXING_ENABLE_QRCODE=ON", "-DZXING_ENABLE_1D=OFF"} <= set(configure)
    assert build[:3] == ["cmake", "--build", str(tmp_path / "src/build")]


def test_the_library_the_steps_built_here_reads_qr(zxing_c_lib):
    import numpy as np
    import qrcode

    from kiosk.scanner import zxing_c

    img = np.asarray(qrcode.make("WG1:RECIPE").get_image().convert("L"))
    assert [b.text for b in zxing_c.read_barcodes(img)] == ["WG1:RECIPE"]
    assert Path(zxing_c.library_path()).name == "libZXing.so"
