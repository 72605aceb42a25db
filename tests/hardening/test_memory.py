"""The memory one message may take, held to the multiples SECURITY.md states (a measurement, not a timing).

Each case is the worst shape of its format that ``benchmarks/bench_memory.py`` knows, decoded once in a
fresh process; the peak resident set size may grow by at most the stated multiple of the message size,
plus what the objects and arrays ``max_container_count`` allows can cost.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BENCH = REPO / "benchmarks" / "bench_memory.py"
sys.path.insert(0, str(BENCH.parent))
import bench_memory  # noqa: E402

#: What SECURITY.md states: a multiple of the size per format, and the containers' share.
STATED = {"json": 18.0, "msgpack": 50.0}
CONTAINERS_SHARE = 20_000_000


@pytest.mark.parametrize(
    "case",
    [
        "json: small negative ints",
        "json: 99k one-member objects + strings",
        "msgpack: negative fixints",
        "msgpack: 99k empty maps + strings",
        "msgpack: 49k maps holding a map + strings",
        "json: 49k objects holding an object + strings",
        "msgpack: 15M empty maps (refused)",
        "json: 5M empty objects (refused)",
    ],
)
def test_peak_memory_stays_within_the_stated_multiple(case: str, tmp_path: Path) -> None:
    path = tmp_path / "message"
    bench_memory.write_case(case, 4_000_000, path)
    out = subprocess.run(
        [sys.executable, str(BENCH), "--child", case, str(path)], check=True, capture_output=True, text=True
    ).stdout
    row = json.loads(out)
    bound = STATED[bench_memory.CASES[case][0]] * row["bytes"] + CONTAINERS_SHARE
    assert row["peak_growth"] <= bound, row
    if "refused" in case:
        assert row["outcome"].startswith("refused"), row
