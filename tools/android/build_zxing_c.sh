#!/usr/bin/env bash
# Build zxing-cpp's C API (ZXingC.h) as a shared library, readers only, QR only, for the kiosk's
# ctypes decoder backend (kiosk/scanner/zxing_c.py), by the CMake steps of the python-for-android
# recipe (android/p4a_recipes/libzxing/__init__.py) on the desktop toolchain.
#
#   tools/android/build_zxing_c.sh            # prints the path of libZXing.so (built once, then cached)
#
# Source: the zxing-cpp sdist on PyPI (it carries core/ with ZXingC.h), fetched by pip and checked
# against a pinned SHA-256. Output under .build/ (ignored by git): .build/zxing-c-$VERSION/libZXing.so.
# Needs cmake and a C++20 compiler (Debian's cmake and g++, see .ci/system-packages.sh).
# WEIGUANG_BUILD_DIR moves the cache; WEIGUANG_ZXING_SDIST uses a tarball already on disk.
set -euo pipefail
VERSION=3.1.1
SHA256=1051a521b21a9fe206702ad4186aeb195154e3e1badcd99576d030723f36382b
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD_DIR="${WEIGUANG_BUILD_DIR:-$ROOT/.build}"
OUT="$BUILD_DIR/zxing-c-$VERSION"
LIB="$OUT/libZXing.so"
PYTHON="${PYTHON:-$( [ -x "$ROOT/.venv/bin/python" ] && echo "$ROOT/.venv/bin/python" || echo python3 )}"

if [ -f "$LIB" ] && [ -f "$OUT/ZXingC.h" ]; then
  echo "$LIB"
  exit 0
fi
for tool in cmake c++; do
  command -v "$tool" >/dev/null || { echo "build_zxing_c: $tool not found (Debian: apt-get install cmake g++)" >&2; exit 2; }
done

mkdir -p "$BUILD_DIR/sdist"
exec 9>"$BUILD_DIR/.zxing-c.lock"   # one build at a time (parallel test sessions share the cache)
flock 9
if [ -f "$LIB" ] && [ -f "$OUT/ZXingC.h" ]; then echo "$LIB"; exit 0; fi
SDIST="${WEIGUANG_ZXING_SDIST:-$BUILD_DIR/sdist/zxing_cpp-$VERSION.tar.gz}"
if [ ! -f "$SDIST" ]; then
  # pip prepares the sdist's metadata on the way (scikit-build-core in an isolated env): no compiling.
  "$PYTHON" -m pip download -q --no-binary :all: --no-deps -d "$BUILD_DIR/sdist" "zxing-cpp==$VERSION" >&2
fi
echo "$SHA256  $SDIST" | sha256sum -c --quiet - >&2 || { echo "build_zxing_c: $SDIST does not match the pinned SHA-256" >&2; exit 3; }

WORK="$(mktemp -d "$BUILD_DIR/zxing-c-work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
tar xzf "$SDIST" -C "$WORK"
SRC="$WORK/zxing_cpp-$VERSION"

# The python-for-android recipe's own CMake steps (cmake_commands in
# android/p4a_recipes/libzxing/__init__.py), run here with the desktop toolchain: one set of options.
"$PYTHON" - "$ROOT/android/p4a_recipes/libzxing/__init__.py" "$SRC" "$WORK/build" "$(nproc)" <<'PY' >&2
import runpy, subprocess, sys
recipe_file, source_dir, build_dir, jobs = sys.argv[1:5]
for command in runpy.run_path(recipe_file)["cmake_commands"](source_dir, build_dir, (), jobs):
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, stdout=sys.stderr)
PY

mkdir -p "$OUT.tmp"
# The real file, not the versioned symlink chain (libZXing.so -> .so.4 -> .so.3.1.1).
cp -L "$WORK/build/libZXing.so" "$OUT.tmp/libZXing.so"
cp "$SRC/core/src/ZXingC.h" "$SRC/LICENSE" "$OUT.tmp/"
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$LIB"
