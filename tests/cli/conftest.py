"""Run the installed ``cefmt`` console script as a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
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


class Listener:
    """A running ``cefmt listen --port 0``: its URL (read from its first stderr line) and its output."""

    def __init__(self, *args: str, output: Path | None = None) -> None:
        command = [cefmt_script(), "listen", "--port", "0", *args]
        if output is not None:
            command += ["--output", str(output)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.process.stderr is not None
        first = self.process.stderr.readline().decode()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+/)", first)
        assert match, first
        self.url = match.group(1)
        self.stdout = b""
        self.stderr = b""

    def finish(self, timeout: float = 30) -> int:
        out, err = self.process.communicate(timeout=timeout)
        self.stdout, self.stderr = out, err
        return self.process.returncode


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    """The listeners a test starts; any still running at its end are killed."""
    started: list[Listener] = []
    yield started
    for listener in started:
        if listener.process.poll() is None:
            listener.process.kill()
            listener.process.communicate()
