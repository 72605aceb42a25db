"""The types users see: the README's examples pass ``mypy --strict`` as they are, the return types of
``encode``/``decode`` follow the transport and mode, and a misspelt transport or mode fails the check."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO
from .test_docs import blocks

pytestmark = pytest.mark.timeout(600)


def _mypy(folder: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(folder / ".mypy_cache"),
         "--no-color-output", "--show-error-codes", *map(str, files)],
        cwd=folder, check=False, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_the_readme_examples_pass_mypy_strict(tmp_path: Path) -> None:
    files = []
    for index, block in enumerate(b for b in blocks(REPO / "README.md") if b.language == "python"):
        path = tmp_path / f"readme_example_{index}.py"
        path.write_text(block.code, encoding="utf-8")
        files.append(path)
    assert len(files) >= 6
    done = _mypy(tmp_path, *files)
    assert done.returncode == 0, done.stdout + done.stderr


TYPED = """
from collections.abc import Mapping

from cefmt import CloudEvent, Limits, decode, decode_event, decode_events, encode
from cefmt.http import HTTPMessage
from cefmt.kafka import KafkaMessage

event = CloudEvent({"type": "t", "source": "/s"}, {"a": 1})


def http_binary() -> HTTPMessage:
    return encode(event, "http", "binary")


def http_batch() -> HTTPMessage:
    return encode([event, event], "http", "batch", format="json")


def kafka_record() -> KafkaMessage:
    return encode(event, "kafka", "binary", key=b"k")


def json_document() -> bytes:
    return encode(event, "json")


def msgpack_batch() -> bytes:
    return encode([event], "msgpack", "batch")


def one(message: HTTPMessage) -> CloudEvent:
    return decode(message, "http", "binary", limits=Limits(), extension_types={"n": int})


def batch(raw: bytes) -> list[CloudEvent]:
    return decode(raw, "json", "batch")


def either(message: HTTPMessage) -> CloudEvent | list[CloudEvent]:
    return decode(message, "http")


def kafka_event(record: Mapping[str, bytes]) -> CloudEvent:
    return decode(record, "kafka", format="json")


def receiver(message: HTTPMessage) -> list[CloudEvent]:
    return [decode_event(message, "http"), *decode_events(message, "http")]


def header_value(record: KafkaMessage) -> bytes | str | None:
    return record.headers["ce_id"]
"""

TYPOS = """
from cefmt import CloudEvent, decode, decode_event, encode

event = CloudEvent({"type": "t", "source": "/s"}, {"a": 1})
encode(event, "htp", "binary")
encode(event, "http", "binray")
decode(b"{}", "jsno")
decode_event(b"{}", "kafak")
encode(event, "json", "batch")
wrong: bytes = encode(event, "http", "binary")
encode(event, "http", "structured", formt="json")
"""


def test_return_types_follow_the_transport_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "typed.py"
    path.write_text(TYPED, encoding="utf-8")
    done = _mypy(tmp_path, path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_misspelt_transport_or_mode_or_option_fails(tmp_path: Path) -> None:
    path = tmp_path / "typos.py"
    path.write_text(TYPOS, encoding="utf-8")
    done = _mypy(tmp_path, path)
    assert done.returncode == 1
    flagged = {int(line) for line in re.findall(r"typos\.py:(\d+): error", done.stdout)}
    typo_lines = {
        number for number, text in enumerate(TYPOS.splitlines(), 1) if text.startswith(("encode", "decode", "wrong"))
    }
    assert flagged == typo_lines, done.stdout
