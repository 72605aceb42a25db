"""The command loses nothing and destroys nothing: outputs that are not regular files are written in place, dead
letters never go into the input or output, bad numbers and formats are usage errors before anything is read,
signals clean up, and files people actually have (a BOM, one pretty-printed event) are read."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cefmt.stream import read_events

from .conftest import SAMPLE, cefmt_script, run

EVENTS = SAMPLE.read_bytes()
FIRST = EVENTS.splitlines(keepends=True)[:3]


def leftovers(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".partial"))


@contextlib.contextmanager
def fifo_reader(path: Path) -> Iterator[bytearray]:
    os.mkfifo(path)
    received = bytearray()

    def read() -> None:
        with open(path, "rb") as fifo:
            while data := fifo.read(65536):
                received.extend(data)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        yield received
    finally:
        reader.join(timeout=60)
        assert not reader.is_alive()


@pytest.fixture
def system_files() -> Iterator[None]:
    """Puts ``/dev/null`` and ``/dev/stdout`` back should a test replace them (as root, a regression can), so a
    failing test fails loudly without leaving the machine broken for what runs after it."""
    yield
    damaged = []
    if not stat.S_ISCHR(os.lstat("/dev/null").st_mode):
        damaged.append("/dev/null")
        os.unlink("/dev/null")
        os.mknod("/dev/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.chmod("/dev/null", 0o666)
    if not os.path.islink("/dev/stdout"):
        damaged.append("/dev/stdout")
        os.unlink("/dev/stdout")
        os.symlink("/proc/self/fd/1", "/dev/stdout")
    assert not damaged, f"the test replaced {damaged} (put back now)"


def null_device(tmp_path: Path, which: str) -> Path:
    if which == "/dev/null":
        return Path("/dev/null")
    path = tmp_path / "null"
    try:  # a null device of our own, so that a regression replaces it rather than the system's
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        return Path("/dev/null")
    return path


# -- outputs that are not regular files ----------------------------------------------------------------------


def test_a_fifo_with_a_reader_gets_the_output_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "out.pipe"
    with fifo_reader(fifo) as received:
        result = run("convert", str(SAMPLE), str(fifo), "--to", "json", "-q")
    assert result.returncode == 0, result.stderr
    assert bytes(received) == EVENTS
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and leftovers(tmp_path) == []


@pytest.mark.parametrize("which", ["own", "/dev/null"])
@pytest.mark.usefixtures("system_files")
def test_a_character_device_stays_a_character_device(tmp_path: Path, which: str) -> None:
    device = null_device(tmp_path, which)
    before = os.stat(device)
    result = run("convert", str(SAMPLE), str(device), "--to", "msgpack")
    assert result.returncode == 0, result.stderr
    after = os.stat(device)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert leftovers(device.parent) == []


def test_a_symlink_stays_a_symlink_and_its_target_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "events.msgpack"
    target.write_bytes(b"old")
    link = tmp_path / "latest.msgpack"
    link.symlink_to(Path("store") / "events.msgpack")
    result = run("convert", str(SAMPLE), str(link), "--to", "msgpack", "-q")
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == os.path.join("store", "events.msgpack")
    assert sum(1 for _ in read_events(target, "msgpack")) == 3000
    assert os.listdir(tmp_path / "store") == ["events.msgpack"]


@pytest.mark.parametrize("out", ["-", "/dev/stdout", "/dev/fd/1"])
@pytest.mark.usefixtures("system_files")
def test_stdout_by_any_name_is_written_in_place(tmp_path: Path, out: str) -> None:
    piped = run("convert", str(SAMPLE), out, "--to", "json", "-q")
    assert piped.returncode == 0 and piped.stdout == EVENTS, piped.stderr
    # stdout is a regular file opened by the caller: it is written through, not replaced behind its back
    captured = tmp_path / "captured.jsonl"
    captured.write_bytes(b"kept\n")
    with open(captured, "ab") as stdout:
        inode = os.fstat(stdout.fileno()).st_ino
        done = subprocess.run(
            [cefmt_script(), "convert", str(SAMPLE), out, "--to", "json", "-q"],
            stdout=stdout, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, check=False, timeout=60,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert captured.read_bytes() == b"kept\n" + EVENTS and captured.stat().st_ino == inode
    assert leftovers(tmp_path) == []


def test_process_substitution_gets_the_output(tmp_path: Path) -> None:
    count = tmp_path / "count"
    script = (
        f'"{cefmt_script()}" convert "{SAMPLE}" >(wc -c > "{count}") --to json -q; status=$?; wait $!; exit $status'
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, check=False, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert int(count.read_text()) == len(EVENTS)
    assert leftovers(tmp_path) == [] and leftovers(Path("/dev/fd")) == []


def test_a_regular_output_is_replaced_whole_and_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"old")
    out.chmod(0o600)
    result = run("convert", str(SAMPLE), str(out), "--to", "json", "-q")
    assert result.returncode == 0 and out.read_bytes() == EVENTS
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and leftovers(tmp_path) == []


# -- dead letters ----------------------------------------------------------------------------------------------


def test_a_dead_letter_file_that_is_the_input_is_a_usage_error(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(FIRST) + b"not json\n")
    (tmp_path / "link.jsonl").symlink_to(source)
    (tmp_path / "hard.jsonl").hardlink_to(source)
    for dead in ("in.jsonl", "link.jsonl", "hard.jsonl", "./sub/../in.jsonl"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        result = run("convert", "in.jsonl", "out.jsonl", "--to", "json", "--dead-letter", dead, cwd=tmp_path)
        assert result.returncode == 2, (dead, result.stderr)
        assert b"is the input (in.jsonl): it would grow as it is read" in result.stderr
    with open(source, "rb") as stdin:
        done = subprocess.run(
            [cefmt_script(), "convert", "-", "out2.jsonl", "--to", "json", "--dead-letter", "link.jsonl"],
            stdin=stdin, capture_output=True, cwd=tmp_path, check=False, timeout=60,
        )  # fmt: skip
    assert done.returncode == 2 and b"is the input (stdin)" in done.stderr
    assert source.read_bytes() == b"".join(FIRST) + b"not json\n"
    inspect = run("inspect", "in.jsonl", "--dead-letter", "in.jsonl", cwd=tmp_path)
    assert inspect.returncode == 2 and b"is the input" in inspect.stderr


@pytest.mark.usefixtures("system_files")
def test_a_dead_letter_file_that_is_the_output_is_a_usage_error(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(FIRST) + b"not json\n")
    for existing in (False, True):
        if existing:
            (tmp_path / "out.jsonl").write_bytes(b"old")
        result = run("convert", "in.jsonl", "out.jsonl", "--to", "json", "--dead-letter", "./out.jsonl", cwd=tmp_path)
        assert result.returncode == 2 and b"is the output (out.jsonl)" in result.stderr, result.stderr
    assert (tmp_path / "out.jsonl").read_bytes() == b"old"
    piped = run("convert", str(source), "-", "--to", "json", "--dead-letter", "/dev/stdout")
    assert piped.returncode == 2 and b"is the output (stdout)" in piped.stderr
    to_null = run("convert", str(source), "/dev/null", "--to", "json", "--dead-letter", "/dev/null")
    assert to_null.returncode == 0, to_null.stderr  # a device may be shared
    assert run("convert", str(source), "-", "--to", "json", "--dead-letter", "-").returncode == 2


def test_a_run_that_fails_appends_no_dead_letters_and_says_so(tmp_path: Path) -> None:
    items = [json.loads(line) for line in FIRST]
    broken = json.dumps([items[0], "not an event", items[1]])[:-1] + ", {oops"
    (tmp_path / "in.json").write_text(broken)
    dead = tmp_path / "dead.jsonl"
    dead.write_bytes(b'{"earlier": true}\n')
    result = run("convert", "in.json", "out.jsonl", "--from", "json-array", "--to", "json", "--dead-letter",
                 "dead.jsonl", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert "record 4 (line 1): not valid JSON" in lines[0]
    assert lines[1].startswith("cefmt convert: stopped after 3 records, 2 events in")
    assert lines[1].endswith("; out.jsonl is unchanged, no dead letters were appended to dead.jsonl")
    assert dead.read_bytes() == b'{"earlier": true}\n'
    assert sorted(os.listdir(tmp_path)) == ["dead.jsonl", "in.json"]


def test_a_run_that_completes_appends_its_dead_letters(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(b"".join(FIRST) + b"not json\n")
    (tmp_path / "dead.jsonl").write_bytes(b'{"earlier": true}\n')
    result = run("convert", "in.jsonl", "out.jsonl", "--to", "json", "--dead-letter", "dead.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "dead.jsonl").read_bytes().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["record"] == "not json"
    assert (tmp_path / "out.jsonl").read_bytes() == b"".join(FIRST)
    assert sorted(os.listdir(tmp_path)) == ["dead.jsonl", "in.jsonl", "out.jsonl"]


# -- numbers, kinds, modes and formats are checked before anything is read --------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["convert", "-", "OUT", "--to", "json", "--max-record-size", "-1"], b"--max-record-size: must be at least 1, got -1"),
        (["convert", "-", "OUT", "--to", "json", "--max-record-size", "0"], b"--max-record-size: must be at least 1, got 0"),
        (["convert", "-", "OUT", "--to", "json", "--max-record-size", "1e6"], b"must be a whole number, got '1e6'"),
        (["convert", "-", "OUT", "--to", "json", "--mode", "batch", "--batch-size", "0"], b"--batch-size: must be at least 1"),
        (["validate", "-", "--max-record-size", "0"], b"--max-record-size: must be at least 1, got 0"),
        (["inspect", "-", "--max-record-size", "-5"], b"--max-record-size: must be at least 1, got -5"),
        (["inspect", "-", "-n", "-1"], b"-n/--limit: must be at least 0, got -1"),
        (["convert", "-", "OUT", "--to", "http", "--mode", "structured", "--format", "nope", "--on-error", "skip"],
         b"no event format 'nope' with a structured mode is registered; event formats here: avro, avro-compact, cbor, json"),
        (["convert", "-", "OUT", "--to", "http", "--mode", "batch", "--format", "kafka", "--on-error", "skip"],
         b"no event format 'kafka' with a batch mode"),
        (["convert", "-", "OUT", "--to", "http", "--mode", "sideways", "--on-error", "skip"],
         b"http has no sideways mode; it has batch, binary, structured"),
        (["convert", "-", "OUT", "--from", "yaml", "--to", "json"], b"--from yaml: no codec registered for it; stream kinds here: "),
    ],
)  # fmt: skip
def test_bad_options_are_usage_errors_before_any_record_is_read(
    args: list[str], message: bytes, tmp_path: Path
) -> None:
    # The input is a FIFO no one writes to: a command that started reading it would hang, not exit 2.
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    argv = [str(fifo) if arg == "-" else str(tmp_path / "out") if arg == "OUT" else arg for arg in args]
    result = run(*argv, timeout=30)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and b"Traceback" not in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["in.fifo"]


# -- signals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signum", "status", "name"), [(signal.SIGTERM, 143, b"SIGTERM"), (signal.SIGINT, 130, b"SIGINT")]
)
def test_a_signal_removes_the_partial_output_and_says_so(tmp_path: Path, signum: int, status: int, name: bytes) -> None:
    source = tmp_path / "in.fifo"
    os.mkfifo(source)
    out = tmp_path / "out.msgpack"
    process = subprocess.Popen(
        [cefmt_script(), "convert", str(source), str(out), "--to", "msgpack", "--dead-letter", str(tmp_path / "dead")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    with open(source, "wb") as feed:
        feed.write(EVENTS + b"not json\n")
        feed.flush()
        deadline = time.monotonic() + 30
        while not leftovers(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert leftovers(tmp_path), "the partial output never appeared"
        time.sleep(0.2)  # let it read what is there, and block for more
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == status, stderr
    assert f"stopped by {name.decode()} after 3001 records".encode() in stderr
    assert b"out.msgpack is unchanged, no dead letters were appended to" in stderr
    assert stderr.rstrip().endswith(b"(" + name + b")")
    assert sorted(os.listdir(tmp_path)) == ["in.fifo"]


# -- files people have -----------------------------------------------------------------------------------------


def test_a_bom_at_the_start_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + EVENTS)
    result = run("validate", "bom.jsonl", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.endswith(b"3000 records, 3000 valid, 0 bad (3000 events)\n")
    converted = run("convert", "bom.jsonl", "-", "--to", "json", "-q", cwd=tmp_path)
    assert converted.returncode == 0 and converted.stdout == EVENTS


def test_validate_reads_one_pretty_printed_event_and_a_pretty_array(tmp_path: Path) -> None:
    event = json.loads(FIRST[0])
    (tmp_path / "event.json").write_text(json.dumps(event, indent=2) + "\n")
    result = run("validate", "event.json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout == b"event.json: 1 records, 1 valid, 0 bad (1 events)\n"
    items = [json.loads(line) for line in FIRST]
    items[1]["time"] = "lunchtime"
    text = json.dumps(items, indent=4)
    (tmp_path / "events.json").write_text(text)
    line = [number for number, line in enumerate(text.splitlines(), 1) if line == "    {"][1]  # the second item
    result = run("validate", "events.json", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == [
        f"events.json: record 2 (line {line}): attribute 'time': is not an RFC 3339 timestamp (got 'lunchtime') "
        "[InvalidAttributeError]",
        "events.json: 3 records, 2 valid, 1 bad (2 events)",
    ]


def test_a_file_that_fits_no_kind_names_the_kinds_there_are(tmp_path: Path) -> None:
    packed = run("convert", str(SAMPLE), "-", "--to", "msgpack", "-q").stdout
    (tmp_path / "events.bin").write_bytes(packed)
    result = run("validate", "events.bin", cwd=tmp_path)
    assert result.returncode == 1
    assert b"events.bin: no record could be read as --from json; the stream kinds here are " in result.stderr
    assert b"json, json-array, kafka" in result.stderr and b"msgpack" in result.stderr
    assert run("validate", "events.bin", "--from", "msgpack", cwd=tmp_path).returncode == 0
    (tmp_path / "array.json").write_text("[1, 2")
    broken = run("validate", "array.json", "--from", "json-array", cwd=tmp_path)
    assert broken.returncode == 1 and b"no record could be read as --from json-array" in broken.stderr
    (tmp_path / "sourceless.jsonl").write_text('{"specversion": "1.0", "id": "1", "type": "t"}\n')
    events_all_bad = run("validate", "sourceless.jsonl", cwd=tmp_path)  # read as events: the kind is right
    assert events_all_bad.returncode == 1 and events_all_bad.stderr == b""


def test_a_syntax_error_deep_in_a_large_array_is_reported_as_one(tmp_path: Path) -> None:
    items = [json.dumps(json.loads(line)) for line in EVENTS.splitlines()]
    items[2000] = items[2000].replace('"id":', '"id"', 1)
    (tmp_path / "big.json").write_text("[\n" + ",\n".join(items) + "\n]\n")
    result = run("convert", "big.json", "-", "--from", "json-array", "--to", "json", "--max-record-size", "10000",
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode == 1
    first = result.stderr.decode().splitlines()[0]
    assert first.startswith("cefmt convert: record 2001 (line 2002): not valid JSON: Expecting ':' delimiter (column ")
    assert "longer than the limit" not in result.stderr.decode()


# -- inspect shows the good records and marks the bad --------------------------------------------------------------


def test_inspect_shows_every_row_and_marks_the_bad_ones(mixed: Path) -> None:
    result = run("inspect", str(mixed))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()[2:]
    assert [line.split()[0] for line in lines] == ["1", "2", "3", "4", "5", "BAD", "BAD", "BAD", "BAD", "6", "7", "BAD"]
    assert "record 6 (line 6, byte " in lines[5] and "attribute 'time': is not an RFC 3339 timestamp" in lines[5]
    assert lines[5].endswith("[InvalidAttributeError]") and "c1" in lines[9]
    assert result.stderr == b"cefmt inspect: 5 bad records, marked BAD\n"
    limited = run("inspect", str(mixed), "-n", "6").stdout.decode().splitlines()
    assert len(limited) == 8 and limited[-1].startswith("BAD ")


def test_inspect_on_error_fail_shows_the_rows_before_and_the_bad_one(mixed: Path) -> None:
    result = run("inspect", str(mixed), "--on-error", "fail")
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()[2:]
    assert [line.split()[0] for line in lines] == ["1", "2", "3", "4", "5", "BAD"]
    assert result.stderr.startswith(b"cefmt inspect: stopped at the first bad record: record 6 (line 6, byte ")
    skipped = run("inspect", str(mixed), "--on-error", "skip")
    assert skipped.returncode == 0 and len(skipped.stdout.splitlines()) == 2 + 7
    assert skipped.stderr == b"cefmt inspect: 5 bad records skipped, 0 dead-lettered\n"
