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
