"""The repository carries what its own tests need (issue 11): nothing in it reads outside it
(`../shared` was the design notes' folder beside the repository, and the QR photo corpus's),
and a test subset passes from a plain `git clone` into an empty folder, nothing beside it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"\.\./shared|/work/shared|parents\[\d\]\s*/\s*[\"']shared")


def tracked_files() -> list[str]:
    done = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip("not a git checkout")
    return done.stdout.split()


def test_no_file_reads_outside_the_repository():
    readers = [f for f in tracked_files()
               if f.endswith((".py", ".sh", ".toml", ".cfg", ".ini", ".kv", ".yml", ".yaml")) or
               f in ("Makefile", ".ci/run")]
    found = [f for f in readers if OUTSIDE.search((ROOT / f).read_text(encoding="utf-8", errors="replace"))
             and f != "tests/test_self_contained.py"]
    assert found == []


def test_what_the_tests_read_is_in_the_repository():
    files = set(tracked_files())
    assert "tests/data/qr-corpus/README.md" in files and "tests/data/qr-corpus/LICENSE" in files
    assert any(f.startswith("tests/data/qr-corpus/") and f.endswith((".png", ".jpg", ".jpeg")) for f in files)
    assert "README.md" in files        # tests/test_cli.py's command-line contract: the README's command list


@pytest.mark.skipif(not shutil.which("git"), reason="git is not installed")
def test_a_subset_passes_from_a_plain_clone_with_nothing_beside_it(tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(alone / "weiguang")], check=True,
                   capture_output=True, timeout=120)
    clone = alone / "weiguang"
    assert sorted(p.name for p in alone.iterdir()) == ["weiguang"]            # nothing beside it
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "DATABASE_URL", "WEIGUANG_QR_CORPUS", "WEIGUANG_ZXING_C_LIB")}
    env["PYTHONPATH"] = str(clone)
    where = subprocess.run([sys.executable, "-c", "import kiosk, sync; print(kiosk.__file__, sync.__file__)"],
                           cwd=clone, env=env, capture_output=True, text=True, timeout=60)
    assert where.stdout.count(str(clone)) == 2, where.stdout + where.stderr   # the clone's code, not this tree's
    subset = ["tests/test_cli.py", "tests/kiosk/scanner/test_decoder.py", "tests/sync/test_badges.py",
              "tests/kiosk/test_demo_story.py"]
    # The wheel's decoder only: libZXing's C API build (minutes on 2 cores) is not what this checks.
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "-k", "not zxing",
                           *subset],
                          cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and "error" not in done.stdout.splitlines()[-1]
