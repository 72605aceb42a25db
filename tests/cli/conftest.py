"""Run the installed ``cefmt`` console script as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample-events.jsonl"


def cefmt_script() -> str:
    script = Path(sys.executable).with_name("cefmt")
    if not script.exists():
        raise RuntimeError(f"the cefmt console script is not installed beside {sys.executable}; pip install -e .")
    return str(script)


def run(*args: str, cwd: Path | None = None, stdin: bytes | None = None, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[bytes]:  # fmt: skip
    """``cefmt ARGS`` with stdin, captured stdout and stderr, and the exit status."""
    return subprocess.run(
        [cefmt_script(), *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Five good events and five bad records (bad time, not JSON, no source, bad version, bad name), and a batch."""
    lines = [
        *SAMPLE.read_bytes().splitlines(keepends=True)[:5],
        b'{"specversion":"1.0","id":"b1","source":"/s","type":"t","time":"lunchtime"}\n',
        b"this is not json\n",
        b"\n",
        b'{"specversion":"1.0","id":"b2","type":"t"}\n',
        b'{"specversion":"9.9","id":"b3","source":"/s","type":"t"}\n',
        b'[{"specversion":"1.0","id":"c1","source":"/s","type":"t"},{"specversion":"1.0","id":"c2","source":"/s","type":"t"}]\n',
        b'{"specversion":"1.0","id":"b4","source":"/s","type":"t","Bad-Name":1}\n',
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"".join(lines))
    return path
