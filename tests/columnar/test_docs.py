"""docs/pipelines.md and docs/formats/arrow.md run as written: the same conversion four ways (the Spark job
in the Spark test session), and each way writes the same events."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from cefmt import CloudEvent
from cefmt_plugins.arrow import from_table
from tests.cli.conftest import run
from tests.conftest import REPO


def _blocks(page: str, language: str) -> list[str]:
    text = (REPO / "docs" / page).read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)


@pytest.fixture
def in_folder(tmp_path: Path) -> Iterator[Path]:
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(here)


def _read(path: Path) -> list[CloudEvent]:
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    events = [event for file in files for event in from_table(pq.read_table(file))]
    return sorted(events, key=lambda event: event.id)


def test_the_arrow_page_runs() -> None:
    blocks = _blocks("formats/arrow.md", "python")
    assert len(blocks) == 3
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, "docs/formats/arrow.md", "exec", dont_inherit=True), namespace)


def test_the_pipelines_page_runs_four_ways_to_the_same_events(in_folder: Path, spark: Any) -> None:
    python = _blocks("pipelines.md", "python")
    assert len(python) == 4  # the input, the loop, cefmt.stream, Spark
    namespace: dict[str, Any] = {"__name__": "__doc_example__"}
    for block in python:
        exec(compile(block, "docs/pipelines.md", "exec", dont_inherit=True), namespace)
    (command,) = _blocks("pipelines.md", "console")
    words = shlex.split(command.strip())
    assert words[0] == "cefmt"
    finished = run(*words[1:], cwd=in_folder)
    assert finished.returncode == 0, finished.stderr
    loop = _read(in_folder / "orders-loop.parquet")
    assert len(loop) == 998
    assert _read(in_folder / "orders-stream.parquet") == loop
    assert _read(in_folder / "orders-cli.parquet") == loop
    assert _read(in_folder / "orders-spark") == loop
    dead = {
        name: (in_folder / name).read_bytes().count(b"\n")
        for name in ("dead-loop.jsonl", "dead-stream.jsonl", "dead-cli.jsonl")
    }
    assert dead == {"dead-loop.jsonl": 2, "dead-stream.jsonl": 2, "dead-cli.jsonl": 2}
    spark_dead = [
        json.loads(line) for part in (in_folder / "dead-spark").glob("*.json") for line in part.read_text().splitlines()
    ]
    assert "not json at all" in [letter["record"] for letter in spark_dead]
    assert all(letter["stage"] == "decode" for letter in spark_dead) and len(spark_dead) == 2
