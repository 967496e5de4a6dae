# Weiguang: `make demo` runs the demo, `make test` runs the tests, `make bench` the benchmarks.
# Each installs what it needs first (Debian packages via .ci/system-packages.sh, Python into .venv).
VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: setup system demo test bench clean zxing-c

setup: system $(STAMP)

system:
	bash .ci/system-packages.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/weiguang demo

# libZXing (zxing-cpp's C API) for the decoder tests' second backend: built once, cached in .build/.
# A failed build does not stop the tests: they skip with the reason, or fail under CI=true.
zxing-c: setup
	PYTHON=$(PY) bash tools/android/build_zxing_c.sh || echo "libZXing not built: the zxing-c decoder tests will say why"

test: setup zxing-c
	$(PY) -m pytest -q -p no:cacheprovider

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) demo-data .bench
