"""Run `weiguang server run` under yappi (CPU clock, every thread: the event loop and the
group writer), and write the profile when the server stops (SIGTERM or Ctrl-C).

    python tools/profile_server.py --data DIR --port P --out server.prof [--top 40]
    python bench/bench_sync.py --quick --only-steady --profile server.prof   # under the bench's load

The profile is pstats-compatible (`python -m pstats server.prof`); the top functions by
own time and by cumulative time are also printed on stderr.
"""

from __future__ import annotations

import argparse
import io
import pstats
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    import uvicorn
    import yappi

    from sync.server.app import create_app
    from sync.server.settings import ServerSettings
    app = create_app(ServerSettings(data_dir=Path(args.data)))
    # uvicorn re-raises the SIGTERM it caught once it has shut down: end with the profile saved.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    yappi.set_clock_type("cpu")
    yappi.start(builtins=False, profile_threads=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_config=None, backlog=4096)
    finally:
        yappi.stop()
        yappi.get_func_stats().save(args.out, type="pstat")
        out = io.StringIO()
        stats = pstats.Stats(args.out, stream=out)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
