#!/usr/bin/env bash
# camera4kivy's CameraX provider (Java sources + a gradle hook, MIT, Android-for-Python/camerax_provider)
# into android/camerax_provider/, where buildozer.spec's android.add_src and p4a.hook point.
# Run once on the machine that builds the APK (it needs git and the network; CI does not build APKs).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DEST="$ROOT/android/camerax_provider"
if [ -d "$DEST/camerax_src" ]; then echo "$DEST"; exit 0; fi
git clone --depth 1 https://github.com/Android-for-Python/camerax_provider.git "$DEST"
echo "$DEST"
