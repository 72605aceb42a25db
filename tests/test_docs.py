"""Every code block of README.md and docs/**/*.md runs, as written.

* ``python`` blocks are executed in order, in one namespace per page (a block starting with ``>>>`` is a
  doctest), with a scratch folder as the working directory and the repository's ``examples/`` in it;
* ``bash`` blocks run in that folder, and must invoke ``cefmt`` (a ``cefmt`` command, or ``python -m
  cefmt...``): they are the commands a reader types;
* ``json`` and ``toml`` blocks must parse; ``text`` and unlabelled blocks show output and are not run.

A comment on the line before a block says what the test does with it beyond running it::

    <!-- test: not run: REASON -->   not run at all, for the reason given (kept rare)
    <!-- test: send -->              defines send(url, event): it posts to a receiver the test serves
    <!-- test: serve flask -->       defines a Flask app (also: asgi, aiohttp): the test serves it on
                                     127.0.0.1, sends it events in every mode and a bad request, and
                                     checks what it printed and answered
    <!-- test: kafka -->             defines publish(producer, topic, event) and consume(consumer):
                                     the test runs them against the test broker
"""

from __future__ import annotations

import contextlib
import doctest
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import requests
import tomllib

from cefmt import CloudEvent
from cefmt.http import to_batch, to_binary, to_structured

from .conftest import REPO
from .plugins.conftest import kafka_bootstrap  # noqa: F401 - the broker, started only for a page that needs it

# docs/bindings/ pages talk to the real brokers: tests/bindings/test_docs.py runs them, pointed at the
# test brokers through the environment variables the examples read.
PAGES = [
    REPO / "README.md",
    *sorted(page for page in (REPO / "docs").rglob("*.md") if page.parent.name != "bindings"),
]
_MARKER = re.compile(r"<!--\s*test:\s*(.*?)\s*-->")
_FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)")


class Block(NamedTuple):
    page: Path
    line: int  # of the opening fence, from 1
    language: str
    code: str
    marker: str | None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, with the test marker written before each."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, language = opening.group(1), opening.group(2).lower()
        previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = _MARKER.search(previous)
        end = index + 1
        while end < len(lines) and not lines[end].startswith(fence):
            end += 1
        code = "\n".join(lines[index + 1 : end]) + "\n"
        found.append(Block(page, index + 1, language, code, marker.group(1) if marker else None))
        index = end + 1
    return found


# -- running one page ----------------------------------------------------------------------------------------


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """An empty working folder with the repository's examples in it."""
    (tmp_path / "examples").symlink_to(REPO / "examples", target_is_directory=True)
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


def _run_python(block: Block, namespace: dict[str, Any]) -> None:
    if block.code.lstrip().startswith(">>>"):
        test = doctest.DocTestParser().get_doctest(block.code, namespace, block.where, str(block.page), block.line)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        report = io.StringIO()
        runner.run(test, out=report.write, clear_globs=False)
        namespace.update(test.globs)  # a DocTest works on a copy: what it defined is kept for the next block
        assert runner.failures == 0, f"{block.where}: the doctest fails\n{report.getvalue()}"
        return
    exec(compile(block.code, block.where, "exec", dont_inherit=True), namespace)  # no __future__ of this module


def _invokes_cefmt(code: str) -> bool:
    commands = [line.split("#")[0].strip() for line in code.splitlines()]
    commands = [command for command in commands if command]
    return bool(commands) and all(
        command.startswith(("cefmt ", "python -m cefmt", "python3 -m cefmt")) for command in commands
    )


def _run_bash(block: Block, folder: Path) -> None:
    assert _invokes_cefmt(block.code), (
        f"{block.where}: a bash block must invoke cefmt to be run; mark it <!-- test: not run: REASON --> otherwise"
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    script = block.code.replace("python3 -m", f"{sys.executable} -m").replace("python -m", f"{sys.executable} -m")
    command = ["bash", "-euo", "pipefail", "-c", script]
    done = subprocess.run(command, check=False, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{block.where}: exit status {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr}"


def _check_data(block: Block) -> None:
    if block.language == "json":
        for line in block.code.splitlines():
            if line.strip():
                json.loads(line)
    elif block.language == "toml":
        tomllib.loads(block.code)


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(REPO)) for page in PAGES])
def test_every_code_block_runs(
    page: Path, scratch: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Blocks run under this interpreter, as a reader's would in an activated environment: bash blocks find
    # it first on PATH (_run_bash), and Spark's workers are started with it.
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    monkeypatch.setenv("PYSPARK_DRIVER_PYTHON", sys.executable)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for block in blocks(page):
        marker = block.marker or ""
        if marker.startswith("not run"):
            reason = marker.removeprefix("not run").lstrip(": ").strip()
            assert reason, f"{block.where}: say why the block is not run"
            continue
        if block.language == "python":
            _run_python(block, namespace)
        elif block.language in ("bash", "sh", "shell", "console"):
            _run_bash(block, scratch)
        else:
            _check_data(block)
        if marker:
            DRIVERS[marker.split()[0]](block, namespace, marker, request)


def test_the_readme_opens_with_the_main_job_and_then_the_test_suite() -> None:
    first, second = [block for block in blocks(REPO / "README.md") if block.language == "bash"][:2]
    assert "cefmt convert examples/sample-events.jsonl" in first.code
    assert (REPO / "examples" / "sample-events.jsonl").is_file()
    assert "just test" in second.code
    assert "just test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_markers_are_known_and_not_run_is_rare() -> None:
    found = [block for page in PAGES for block in blocks(page) if block.marker]
    for block in found:
        assert block.marker is not None
        assert block.marker.startswith("not run") or block.marker.split()[0] in DRIVERS, block.where
    runnable = [block for page in PAGES for block in blocks(page) if block.language in ("python", "bash")]
    skipped = [block for block in found if block.marker is not None and block.marker.startswith("not run")]
    assert len(skipped) * 3 < len(runnable), "most blocks run; only a few may be marked not run"


# -- what the test does with a marked block ---------------------------------------------------------------------

EVENTS = [
    CloudEvent({"type": "com.example.docs", "source": "/docs", "id": "1", "subject": "Grüße"}, {"n": [1, 2]}),
    CloudEvent({"type": "com.example.docs", "source": "/docs", "id": "2"}, "naïve", datacontenttype="text/plain"),
]


@contextlib.contextmanager
def _served(kind: str, app: Any) -> Iterator[str]:
    from .web import servers

    serve = {"flask": servers.wsgi, "asgi": servers.asgi, "aiohttp": servers.aiohttp}[kind]
    with serve(app) as url:
        yield url


def _serve(block: Block, namespace: dict[str, Any], marker: str, request: pytest.FixtureRequest) -> None:
    """Serve the block's ``app``; send it events in every mode and a bad request; check what it printed."""
    kind = marker.split()[1]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), _served(kind, namespace["app"]) as served:
        url = served + "/"
        send = namespace.get("send")
        if send is not None:  # the page's own sender, when it has one
            send(url, EVENTS[0])
        for message in (to_binary(EVENTS[0]), to_structured(EVENTS[1]), to_batch(EVENTS)):
            reply = requests.post(url, data=message.body, headers=message.headers, timeout=10)
            assert reply.status_code in (200, 202, 204), f"{block.where}: {reply.status_code} {reply.text}"
        bad = requests.post(url, data=b"{}", headers={"content-type": "application/json"}, timeout=10)
        assert bad.status_code == 400, f"{block.where}: a bad request got {bad.status_code}"
        assert "not a CloudEvents HTTP message" in bad.text
    lines = printed.getvalue().splitlines()
    expected = [f"{event.type} {event.data}" for event in (EVENTS[:1] * (send is not None) + EVENTS + EVENTS)]
    assert lines == expected, f"{block.where}: printed {lines}"


def _send(block: Block, namespace: dict[str, Any], marker: str, request: pytest.FixtureRequest) -> None:
    """Call the block's ``send(url, event)`` against a receiver served here; it must arrive as sent."""
    from flask import Flask
    from flask import request as received

    import cefmt

    arrived: list[CloudEvent] = []
    app = Flask("docs-receiver")

    @app.post("/")
    def receive() -> tuple[str, int]:
        arrived.extend(cefmt.decode_events(received, "http"))
        return "", 204

    with _served("flask", app) as url:
        for event in EVENTS:
            namespace["send"](url + "/", event)
    assert arrived == EVENTS, f"{block.where}: arrived {arrived}"


def _kafka(block: Block, namespace: dict[str, Any], marker: str, request: pytest.FixtureRequest) -> None:
    """Run the block's ``publish`` and ``consume`` through the test broker."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

    from .plugins.test_kafka import _fresh_topic

    bootstrap = request.getfixturevalue("kafka_bootstrap")
    topic = _fresh_topic(bootstrap)
    producer = Producer({"bootstrap.servers": bootstrap})
    sent = [EVENTS[0].evolve(partitionkey="user-9"), EVENTS[1]]
    for event in sent:
        namespace["publish"](producer, topic, event)
    assert producer.flush(15) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": topic, "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    try:
        received = [namespace["consume"](consumer) for _ in sent]
    finally:
        consumer.close()
    assert received == sent, f"{block.where}: consumed {received}"


DRIVERS = {"serve": _serve, "send": _send, "kafka": _kafka}


def test_the_documentation_site_builds_without_a_warning(tmp_path: Path) -> None:
    """``just docs``: mkdocs with the API reference from the docstrings, warnings as errors."""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        check=False, cwd=REPO, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    reference = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("cefmt.encode", "cefmt.decode_event", "cefmt.http.from_request", "cefmt.kafka.to_binary"):
        assert f'id="{name}"' in reference, name
