"""``cefmt convert``, ``validate``, ``inspect`` and ``codecs`` through the real console script."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from cefmt.stream import read_events

from .conftest import SAMPLE, cefmt_script, run

SUMMARY = re.compile(
    rb"cefmt convert: (\d+) records, (\d+) events in, (\d+) events out, (\d+) skipped, (\d+) dead-lettered, "
    rb"[\d.]+ s, [\d,]+ events/s\n"
)


def counts(stderr: bytes) -> tuple[int, ...]:
    match = SUMMARY.search(stderr)
    assert match, stderr
    return tuple(int(group) for group in match.groups())


def test_the_readme_command_converts_the_sample(tmp_path: Path) -> None:
    result = run("convert", str(SAMPLE), "out/sample.msgpack", "--from", "json", "--to", "msgpack", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert counts(result.stderr) == (3000, 3000, 3000, 0, 0)
    assert [line for line in result.stderr.splitlines() if line] == [SUMMARY.search(result.stderr).group().strip()]  # type: ignore[union-attr]
    output = tmp_path / "out" / "sample.msgpack"
    assert output.stat().st_size > 500_000 and os.listdir(tmp_path / "out") == ["sample.msgpack"]
    assert sum(1 for _ in read_events(output, "msgpack")) == 3000


@pytest.mark.parametrize(
    "target",
    [["msgpack"], ["json-array"], ["http", "--mode", "structured"], ["http", "--mode", "batch", "--format", "msgpack"],
     ["kafka", "--mode", "structured", "--format", "msgpack"], ["msgpack", "--mode", "batch", "--batch-size", "7"]],
    ids=" ".join,
)  # fmt: skip
def test_a_pipe_there_and_back_is_byte_identical(target: list[str]) -> None:
    there = run("convert", str(SAMPLE), "-", "--to", *target, "-q")
    assert there.returncode == 0 and there.stderr == b"", there.stderr
    back = run("convert", "-", "-", "--from", target[0], "--to", "json", "-q", stdin=there.stdout)
    assert back.returncode == 0, back.stderr
    if "batch" in target:  # batches group events by spec version
        assert sorted(back.stdout.splitlines()) == sorted(SAMPLE.read_bytes().splitlines())
    else:
        assert back.stdout == SAMPLE.read_bytes()


def test_binary_mode_with_extension_types_keeps_them(tmp_path: Path) -> None:
    there = run("convert", str(SAMPLE), "-", "--to", "http", "-q")
    back = run("convert", "-", "-", "--from", "http", "--to", "json", "-q",
               "--extension-type", "sequence=int", "--extension-type", "sampled=bool", stdin=there.stdout)  # fmt: skip
    assert back.returncode == 0, back.stderr
    assert back.stdout == SAMPLE.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "thrift"], b"--to thrift: no codec registered for it; stream kinds here: "),
        (["--to", "kafka", "--mode", "batch"], b"kafka has no batch mode"),
        (["--to", "msgpack", "--on-error", "dead-letter"], b"--on-error dead-letter needs --dead-letter FILE"),
        (["--to", "msgpack", "--extension-type", "x=float"], b"expected NAME=TYPE"),
        (["--from", "json"], b"the following arguments are required: --to"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: bytes, tmp_path: Path) -> None:
    result = run("convert", str(SAMPLE), str(tmp_path / "out"), *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_a_missing_input_exits_1(tmp_path: Path) -> None:
    result = run("convert", str(tmp_path / "nope.jsonl"), "-", "--to", "msgpack")
    assert result.returncode == 1 and b"nope.jsonl: no such file" in result.stderr


# -- the error policies, on a file of mixed good and bad records -----------------------------------------------------


def test_fail_stops_with_the_record_and_leaves_no_output(mixed: Path, tmp_path: Path) -> None:
    result = run("convert", str(mixed), str(tmp_path / "out.msgpack"), "--to", "msgpack")
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert lines[0].startswith("cefmt convert: record 6 (line 6, byte ")
    assert lines[0].endswith("attribute 'time': is not an RFC 3339 timestamp (got 'lunchtime')")
    assert lines[1].startswith("cefmt convert: stopped after 6 records, 5 events in")
    assert lines[1].endswith(f"; {tmp_path / 'out.msgpack'} is unchanged")
    assert sorted(os.listdir(tmp_path)) == ["mixed.jsonl"]


def test_skip_drops_and_counts(mixed: Path, tmp_path: Path) -> None:
    result = run("convert", str(mixed), str(tmp_path / "out.msgpack"), "--to", "msgpack", "--on-error", "skip")
    assert result.returncode == 0, result.stderr
    assert counts(result.stderr) == (11, 7, 7, 5, 0)
    ids = [event.id for event in read_events(tmp_path / "out.msgpack", "msgpack")]
    assert len(ids) == 7 and ids[-2:] == ["c1", "c2"]


def test_dead_letter_writes_each_bad_record_with_its_error_and_position(mixed: Path, tmp_path: Path) -> None:
    dead = tmp_path / "dead.jsonl"
    result = run("convert", str(mixed), "-", "--to", "json", "--on-error", "dead-letter", "--dead-letter", str(dead))
    assert result.returncode == 0, result.stderr
    assert counts(result.stderr) == (11, 7, 7, 0, 5)
    assert len(result.stdout.splitlines()) == 7
    bad = [json.loads(line) for line in dead.read_text().splitlines()]
    assert [(b["position"]["line"], b["error_type"], b.get("attribute")) for b in bad] == [
        (6, "InvalidAttributeError", "time"),
        (7, "MalformedMessageError", None),
        (9, "MissingAttributeError", "source"),
        (10, "UnsupportedSpecVersionError", None),
        (12, "InvalidAttributeError", "Bad-Name"),
    ]
    assert bad[1]["record"] == "this is not json" and bad[0]["rule"] == "is not an RFC 3339 timestamp"


def test_a_broken_stream_stops_whatever_the_policy(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_bytes(SAMPLE.read_bytes().splitlines()[0].join([b"[", b", {oops"]))
    result = run("convert", str(broken), "-", "--from", "json-array", "--to", "json", "--on-error", "skip")
    assert result.returncode == 1
    assert b"record 2 (line 1): not valid JSON" in result.stderr and b"cannot be read past this point" in result.stderr


# -- validate, inspect, codecs ---------------------------------------------------------------------------------------


def test_validate_reports_every_bad_record_and_exits_1(mixed: Path) -> None:
    result = run("validate", str(mixed))
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    name = str(mixed)
    assert lines[0].startswith(f"{name}: record 6 (line 6, byte ")
    assert lines[0].endswith(
        ": attribute 'time': is not an RFC 3339 timestamp (got 'lunchtime') [InvalidAttributeError]"
    )
    assert "record 8 (line 9" in lines[2] and "attribute 'source': is required by CloudEvents 1.0" in lines[2]
    assert "attribute 'specversion': unsupported specversion '9.9'" in lines[3]
    assert "attribute 'Bad-Name'" in lines[4]
    assert lines[-1] == f"{name}: 11 records, 6 valid, 5 bad (7 events)"
    as_json = run("validate", str(mixed), "--json")
    assert [json.loads(line)["position"]["line"] for line in as_json.stdout.splitlines()] == [6, 7, 9, 10, 12]


def test_validate_passes_the_sample() -> None:
    result = run("validate", str(SAMPLE))
    assert result.returncode == 0 and result.stdout.decode().endswith("3000 records, 3000 valid, 0 bad (3000 events)\n")


def test_inspect_prints_a_table() -> None:
    result = run("inspect", str(SAMPLE), "--limit", "12")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert lines[0].split() == ["#", "SPEC", "ID", "TYPE", "SOURCE", "TIME", "CONTENT", "TYPE", "DATA", "EXTENSIONS"]
    assert len(lines) == 14 and lines[13].startswith("12 ")
    first = json.loads(SAMPLE.read_bytes().splitlines()[0])
    assert first["id"] in lines[2] and first["type"] in lines[2]
    assert any(
        "<" in line and "bytes>" in line
        for line in run("inspect", str(SAMPLE), "-n", "60").stdout.decode().splitlines()
    )


def test_codecs_lists_the_registry_and_names_a_broken_plugin(tmp_path: Path) -> None:
    result = run("codecs")
    assert result.returncode == 0, result.stdout
    rows = [line.split() for line in result.stdout.decode().splitlines()]
    assert rows[0] == ["KEY", "DISTRIBUTION", "TARGET", "STATUS"]
    assert ["1.0/http/binary", "cefmt", "cefmt._http:binary", "loaded"] in rows
    assert any(row[0] == "1.0/msgpack/structured" for row in rows)

    site = tmp_path / "site"
    info = site / "brokenplug-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenplug\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[cefmt.codecs]\n1.0/broken/binary = brokenplug_mod:codec\n")
    (site / "brokenplug_mod.py").write_text("raise ImportError('needs libfoo, which is not installed')\n")
    env = {"PYTHONPATH": str(site)}
    result = run("codecs", env=env)
    assert result.returncode == 1
    (line,) = [line for line in result.stdout.decode().splitlines() if line.startswith("1.0/broken/binary")]
    assert "brokenplug" in line and "BROKEN: ImportError: needs libfoo, which is not installed" in line
    assert run("codecs", "--no-load", env=env).returncode == 0
    as_json = [json.loads(line) for line in run("codecs", "--json", env=env).stdout.splitlines()]
    assert {"key": "1.0/broken/binary", "distribution": "brokenplug", "target": "brokenplug_mod:codec",
            "status": "broken", "error": "ImportError: needs libfoo, which is not installed"} in as_json  # fmt: skip


def test_python_dash_m_runs_the_same_command() -> None:
    result = subprocess.run([sys.executable, "-m", "cefmt.cli", "--version"], capture_output=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith(b"cefmt ")


# -- progress bar --------------------------------------------------------------------------------------------------


def test_no_progress_bar_when_piped_and_one_on_request() -> None:
    quiet = run("convert", str(SAMPLE), "-", "--to", "msgpack")
    assert b"%|" not in quiet.stderr and len(quiet.stderr.splitlines()) == 1
    shown = run("convert", str(SAMPLE), "-", "--to", "msgpack", "--progress", "always")
    assert b"%|" in shown.stderr and b"events" in shown.stderr


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    # stderr is a pseudo-terminal; a job over the bar's one-second delay shows it. The input comes
    # through a FIFO that stays open for two seconds, so the job outlasts the delay on any machine.
    source = tmp_path / "slow.jsonl"
    os.mkfifo(source)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a size
    process = subprocess.Popen(
        [cefmt_script(), "convert", str(source), str(tmp_path / "out.msgpack"), "--to", "msgpack"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower,
    )  # fmt: skip
    os.close(follower)
    seen = bytearray()

    def drain() -> None:
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:
                return
            if not data:
                return
            seen.extend(data)

    reader = threading.Thread(target=drain)
    reader.start()
    sample = SAMPLE.read_bytes()
    with open(source, "wb") as fifo:
        for _ in range(12):
            fifo.write(sample)
            fifo.flush()
            time.sleep(0.17)
    assert process.wait(timeout=60) == 0
    reader.join(timeout=10)
    os.close(leader)
    # The bar (no total: a FIFO has no size) shows bytes, a rate and the events so far.
    assert re.search(rb"\[\d\d:\d\d, [\d.]+[kMG]?B/s, [\d,]+ events\]", seen), bytes(seen)
    assert b"36000 events in, 36000 events out" in seen
