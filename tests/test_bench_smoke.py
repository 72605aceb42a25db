"""``just bench --quick`` is a smoke run: it prints its table and leaves every tracked file as it is.

(Speed itself is measured in benchmarks/, never asserted here: this only checks which files a run writes.)
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from .conftest import REPO

WRITTEN_BY_A_FULL_RUN = [REPO / "benchmarks" / "RESULTS.md", REPO / "docs" / "performance.md", REPO / "README.md"]


def _digests() -> dict[Path, str]:
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in WRITTEN_BY_A_FULL_RUN}


def test_a_quick_run_writes_no_file(tmp_path: Path) -> None:
    before = _digests()
    command = [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--docs", "--impls", "cefmt,cefmt-pure",
               "--task", "create event, readme", "--rounds", "1"]  # fmt: skip
    done = subprocess.run(command, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "| create event, readme |" in done.stdout  # the table is printed
    assert "docs/performance.md is left as it is" in done.stderr
    assert "wrote" not in done.stderr
    assert _digests() == before
    assert list(tmp_path.iterdir()) == []


def test_a_quick_run_writes_where_it_is_told(tmp_path: Path) -> None:
    output = tmp_path / "smoke.md"
    command = [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--impls", "cefmt",
               "--task", "create event, readme", "--rounds", "1", "--output", str(output)]  # fmt: skip
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "| create event, readme |" in output.read_text(encoding="utf-8")


def test_the_msgpack_floor_writes_what_cefmt_writes() -> None:
    # The stdlib script the convert benchmark times cefmt against must do the same job: for each sample
    # line, the document cefmt's msgpack format writes (key order aside), nothing left out.
    import importlib.util

    import msgpack

    from cefmt import decode, encode

    spec = importlib.util.spec_from_file_location("bench_convert", REPO / "benchmarks" / "bench_convert.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    lines = (REPO / "examples" / "sample-events.jsonl").read_bytes().splitlines()
    for line in lines:
        by_hand = msgpack.unpackb(msgpack.packb(bench.stdlib_document(line)), timestamp=0)
        by_cefmt = msgpack.unpackb(encode(decode(line, "json"), "msgpack"), timestamp=0)
        assert by_hand == by_cefmt, line
    assert len(lines) == 3000
