"""`bench/bench_center.py --quick` end to end: it builds its data, starts a real `weiguang
server run`, logs in, measures every figure and writes its JSON. No timing is asserted
(figures depend on the machine); what is checked is that every figure was measured and
that the totals the server answered are the ones in the data it built."""

from __future__ import annotations

import json
import sqlite3

import pytest

pytestmark = pytest.mark.slow

CASES = {"review page", "review JSON", "search page", "search JSON", "import"}


def test_quick_bench_measures_every_figure_over_real_data(tmp_path, capsys):
    from bench import bench_center
    assert bench_center.main(["--quick", "--reps", "1", "--cache", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "center-quick.json").read_text())
    figures = report["results"]["sqlite"]
    assert {f["case"] for f in figures.values()} == CASES
    assert {f["user"] for f in figures.values()} == {"bench-city", "bench-pc", "bench-wby"}
    for figure in figures.values():
        for part in ("ttfb", "complete", "bare"):
            assert figure[part]["n"] >= 1 and figure[part]["p50"] > 0
        assert figure["complete"]["p50"] >= figure["ttfb"]["p50"]

    db = sqlite3.connect(tmp_path / "center-quick" / "weiguang.db")
    waiting = dict(db.execute("SELECT station, COUNT(*) FROM sessions WHERE state = 'review' GROUP BY station"))
    by_key = {(f["case"], f["site"]): f for f in figures.values()}
    assert by_key[("review JSON", "DT")]["total"] == sum(waiting.values()) > 0
    assert by_key[("review JSON", "WBY")]["total"] == waiting.get("WBY", 0)
    matches = db.execute("SELECT COUNT(*) FROM volunteer WHERE name LIKE '%林%' OR vid LIKE '林%'").fetchone()[0]
    assert by_key[("search JSON", "DT")]["total"] == matches > 0
    # the state mix is a review desk's: most sessions closed, a few per cent waiting
    states = dict(db.execute("SELECT state, COUNT(*) FROM sessions GROUP BY state"))
    assert states["closed"] > 0.8 * sum(states.values()) and 0.01 < states["review"] / sum(states.values()) < 0.1
    assert "import 2,000 rows" in capsys.readouterr().out
