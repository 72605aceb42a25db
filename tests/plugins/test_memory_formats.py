"""The memory one message of each cefmt_plugins format may take, held to what SECURITY.md states (a
measurement, not a timing): each worst case of ``benchmarks/bench_memory_formats.py``, decoded once in a
fresh process, may grow the peak resident set by at most the stated multiple of its size plus what the
containers ``max_container_count`` allows can cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BENCH = REPO / "benchmarks" / "bench_memory_formats.py"
sys.path.insert(0, str(BENCH.parent))
import bench_memory_formats  # noqa: E402

#: What SECURITY.md states, per format: a multiple of the size, and the containers' share.
STATED = {"cbor": 30.0, "avro": 25.0, "avro-compact": 18.0, "protobuf": 18.0, "xml": 18.0}
CONTAINERS_SHARE = 20_000_000


@pytest.mark.parametrize("case", list(bench_memory_formats.CASES))
def test_peak_memory_stays_within_the_stated_multiple(case: str, tmp_path: Path) -> None:
    path = tmp_path / "message"
    path.write_bytes(bench_memory_formats.CASES[case][1](4_000_000))
    out = subprocess.run(
        [sys.executable, str(BENCH), "--child", case, str(path)], check=True, capture_output=True, text=True
    ).stdout
    row = json.loads(out)
    bound = STATED[bench_memory_formats.CASES[case][0]] * row["bytes"] + CONTAINERS_SHARE
    assert row["peak_growth"] <= bound, row
    assert row["outcome"].startswith("refused") == ("refused" in case), row
