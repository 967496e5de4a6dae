"""Can python-for-android build every requirement of buildozer.spec? (No Android SDK needed.)

    python tools/android/check_requirements.py [buildozer.spec]      # exit 0, or the problems and exit 1

python-for-android builds a requirement by its recipe if it has one (its own, or ours in
android/p4a_recipes/); anything else it hands to pip, which on Android works only for pure Python.
So: python-for-android's own resolver (pythonforandroid.graph.get_recipe_order_and_bootstrap, as its
tests call it) splits the requirements line into recipes and plain Python modules, and each plain
module must have a pure-Python wheel (py3-none-any) on PyPI, asked of pip with
`--only-binary=:all: --platform any --abi none`. A package with compiled code and no recipe (the
zxing-cpp wheel, opencv-python) fails the check instead of failing an hour into an APK build.
A few pure-Python projects publish only an sdist: they are listed in SDIST_PURE with the reason.
"""

from __future__ import annotations

import configparser
import functools
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Pure Python, but published as an sdist only (no wheel to ask pip for).
SDIST_PURE = {
    "peewee": "peewee's C speedups are optional (built only when Cython is importable in its build); "
              "the ORM itself is one pure-Python module",
}


def read_spec(path: Path) -> configparser.ConfigParser:
    spec = configparser.ConfigParser(interpolation=None, strict=False)
    spec.optionxform = str  # keys are case-sensitive (android.permissions, p4a.local_recipes)
    spec.read(path, encoding="utf-8")
    return spec


def requirements(spec: configparser.ConfigParser) -> list[str]:
    return [r.strip() for r in spec["app"]["requirements"].split(",") if r.strip()]


def resolve(names: list[str], local_recipes: Path) -> tuple[list[str], list[str]]:
    """(recipes in build order, plain Python modules), by python-for-android's own resolver."""
    from pythonforandroid.bootstrap import Bootstrap
    from pythonforandroid.build import Context
    from pythonforandroid.graph import get_recipe_order_and_bootstrap

    ctx = Context()
    ctx.local_recipes = str(local_recipes)
    bootstrap = Bootstrap.get_bootstrap("sdl2", ctx)
    order, modules, _bs = get_recipe_order_and_bootstrap(ctx, names, bootstrap)
    return list(order), list(modules)


def _bare(name: str) -> str:
    for sep in ("==", ">=", "<=", "~=", "!=", ">", "<", "["):
        name = name.split(sep)[0]
    return name.strip()


@functools.lru_cache(maxsize=None)
def has_pure_wheel(requirement: str, python_version: str = "3.11") -> tuple[bool, str]:
    """Does PyPI have a py3-none-any wheel for `requirement`? (pip answers; its cache makes it cheap.)"""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             "--platform", "any", "--implementation", "py", "--abi", "none",
             "--python-version", python_version, "-d", tmp, requirement],
            capture_output=True, text=True, timeout=300,
        )
        wheels = [p.name for p in Path(tmp).glob("*.whl")]
    if proc.returncode == 0 and wheels:
        return True, wheels[0]
    return False, (proc.stderr.strip().splitlines() or ["no wheel"])[-1]


def check(spec_path: Path) -> list[str]:
    """Every problem with the spec's requirements line (empty: all can be built)."""
    spec = read_spec(spec_path)
    local = (spec_path.parent / spec["app"].get("p4a.local_recipes", "android/p4a_recipes")).resolve()
    names = requirements(spec)
    _recipes, modules = resolve(names, local)
    # The resolver also lists dependencies it discovered (e.g. six): check what pip would install.
    asked = sorted(m for m in modules if _bare(m) not in SDIST_PURE)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(has_pure_wheel, asked))
    return [f"{module}: no python-for-android recipe and no pure-Python wheel ({detail})"
            for module, (ok, detail) in zip(asked, answers) if not ok]


def main(argv: list[str]) -> int:
    spec_path = Path(argv[0]) if argv else ROOT / "buildozer.spec"
    problems = check(spec_path)
    for p in problems:
        print(p)
    if not problems:
        print(f"{spec_path.name}: every requirement is a python-for-android recipe or a pure-Python wheel")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
