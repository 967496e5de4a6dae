"""`make bench`: every benchmark in turn, each printing its own table.

    python bench/run_all.py [--quick]

Benchmarks never run in the test suite; their figures go in the issue notes and the README.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ("bench_decode.py", []),
    ("bench_zxing_c.py", []),
    ("bench_store.py", []),
    ("bench_sync.py", ["--workers", "1,2,4"]),   # + the steady ingest on PostgreSQL, 1, 2 and 4 workers
    ("bench_ui.py", []),
    ("bench_center.py", ["--postgres"]),
    ("bench_reports.py", ["--postgres"]),
]
QUICK = {"bench_decode.py": ["--quick"], "bench_store.py": ["--rows", "100000"], "bench_sync.py": ["--quick"], "bench_center.py": ["--quick"],
         "bench_reports.py": ["--quick"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a first look")
    args = parser.parse_args()
    failed = []
    for script, extra in SCRIPTS:
        path = HERE / script
        if not path.exists():
            print(f"\n(skipped {script}: not present)")
            continue
        extra = extra + (QUICK.get(script, []) if args.quick else [])
        print(f"\n# {script} {' '.join(extra)}", flush=True)
        if subprocess.run([sys.executable, str(path), *extra], cwd=HERE.parent).returncode != 0:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
