#!/usr/bin/env bash
# The Debian packages Weiguang's demo and tests need beyond a bare Python machine.
# Idempotent: installs only what is missing. Needs root (CI and the dev machines are root).
set -euo pipefail
PACKAGES=(
  xvfb xauth x11-utils           # a real X screen for the Kivy window in tests and the demo
  libgl1 libgl1-mesa-dri libegl1 libmtdev1 libgles2  # Kivy's OpenGL on Mesa's software renderer
  poppler-utils                  # pdftoppm/pdftotext: tests look inside the badge PDFs
  postgresql-15 postgresql-client-15  # the server's tests against a real PostgreSQL cluster
  chromium                       # the center's pages driven by Playwright (executable_path=/usr/bin/chromium)
  libzbar0                       # pyzbar: the decode bench compares the kiosk decoder with zbar
  cmake g++                      # libZXing, zxing-cpp's C API, for the decoder's ctypes backend (tools/android/build_zxing_c.sh)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run this as root: sudo $0)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
