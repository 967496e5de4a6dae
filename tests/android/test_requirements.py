"""The requirements line of buildozer.spec, checked by python-for-android's own resolver (no SDK).

The resolver runs offline; whether a plain module has a pure-Python wheel is asked of PyPI through
pip (its cache makes repeats cheap). Without PyPI these tests skip, except under CI=true.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.android import check_requirements as cr

ROOT = Path(__file__).parents[2]
SPEC = ROOT / "buildozer.spec"


def spec_with(tmp_path: Path, extra: str) -> Path:
    text = SPEC.read_text(encoding="utf-8")
    text = text.replace("p4a.local_recipes = android/p4a_recipes", f"p4a.local_recipes = {ROOT / 'android/p4a_recipes'}")
    text = text.replace("\nrequirements = ", f"\nrequirements = {extra},", 1)
    path = tmp_path / "buildozer.spec"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pypi():
    ok, detail = cr.has_pure_wheel("polib")
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"PyPI not reachable through pip: {detail}")
        pytest.skip(f"PyPI not reachable through pip: {detail}")


def test_resolver_sorts_recipes_from_plain_modules():
    spec = cr.read_spec(SPEC)
    recipes, modules = cr.resolve(cr.requirements(spec), ROOT / "android/p4a_recipes")
    assert {"libzxing", "kivy", "pyjnius", "numpy", "pillow", "cryptography", "python3"} <= set(recipes)
    assert recipes.index("libzxing") < len(recipes)        # our local recipe, found in p4a.local_recipes
    assert "camera4kivy" in modules and "libzxing" not in modules


def test_the_spec_can_be_built(pypi):
    assert cr.check(SPEC) == []


@pytest.mark.parametrize("requirement", ["zxing-cpp", "opencv-python"])
def test_a_requirement_without_recipe_or_pure_wheel_fails(pypi, tmp_path, requirement):
    problems = cr.check(spec_with(tmp_path, requirement))
    assert len(problems) == 1 and problems[0].startswith(f"{requirement}: no python-for-android recipe")


def test_a_pure_wheel_or_a_recipe_passes(pypi, tmp_path):
    assert cr.check(spec_with(tmp_path, "polib,libsodium")) == []


def test_command_line_exit_codes(pypi, tmp_path):
    assert cr.main([str(SPEC)]) == 0
    assert cr.main([str(spec_with(tmp_path, "zxing-cpp"))]) == 1
