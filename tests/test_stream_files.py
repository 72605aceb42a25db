"""cefmt.stream's files: the output replaces only a regular file (whole or not at all) and writes anything else in
place; dead letters go neither into the input nor the output, and only a run that completes appends them; bad
sizes and unknown formats are refused before anything is read."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import threading
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from cefmt import CloudEventError
from cefmt.stream import (
    FramingError,
    RecordError,
    Stats,
    convert,
    convert_file,
    encode_events,
    output_file,
    read_events,
    write_events,
)
from cefmt.stream._files import DeadLetterFile, check_dead_letter

from .test_stream import MIXED, good_line

GOOD = b"".join(convert([good_line(n) for n in range(1, 4)], "json", "json"))  # as the json codec writes them
BAD_ONCE = good_line(1) + b"not json\n" + good_line(2)


def listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_bytes(GOOD)
    return path


def character_device(tmp_path: Path) -> Path:
    """A null device of our own (as root, where the system allows it), so a regression cannot replace the real
    one; ``/dev/null`` itself elsewhere."""
    path = tmp_path / "null"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        return Path("/dev/null")
    return path


@contextlib.contextmanager
def fifo_reader(path: Path) -> Iterator[bytearray]:
    """A FIFO at ``path`` with a thread reading everything written to it."""
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
        reader.join(timeout=30)
        assert not reader.is_alive()


# -- the output ------------------------------------------------------------------------------------------------------


def test_a_fifo_is_written_in_place_and_stays_a_fifo(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "pipe"
    with fifo_reader(target) as received:
        stats = convert_file(source, target, "json", "json")
    assert stats.events_out == 3 and bytes(received) == GOOD
    assert stat.S_ISFIFO(os.lstat(target).st_mode)
    assert listing(tmp_path) == ["in.jsonl", "pipe"]


def test_a_character_device_is_written_in_place_and_stays_one(source: Path, tmp_path: Path) -> None:
    device = character_device(tmp_path)
    before = os.stat(device)
    assert convert_file(source, device, "json", "msgpack").events_out == 3
    after = os.stat(device)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert not [name for name in os.listdir(device.parent) if name.endswith(".partial")]


def test_a_symlink_keeps_pointing_at_its_target_which_gets_the_output(source: Path, tmp_path: Path) -> None:
    real = tmp_path / "data" / "real.msgpack"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "link.msgpack"
    link.symlink_to(Path("data") / "real.msgpack")
    convert_file(source, link, "json", "msgpack")
    assert link.is_symlink() and os.readlink(link) == os.path.join("data", "real.msgpack")
    assert [e.id for e in read_events(real, "msgpack")] == ["1", "2", "3"]
    assert listing(real.parent) == ["real.msgpack"]


def test_a_chain_of_symlinks_and_a_dangling_one_lead_to_the_file_at_the_end(source: Path, tmp_path: Path) -> None:
    (tmp_path / "second").symlink_to("made/later.jsonl")
    (tmp_path / "first").symlink_to(tmp_path / "second")
    convert_file(source, tmp_path / "first", "json", "json")
    assert (tmp_path / "first").is_symlink() and (tmp_path / "second").is_symlink()
    assert (tmp_path / "made" / "later.jsonl").read_bytes() == GOOD


def test_a_symlink_loop_is_an_error_not_a_hang(source: Path, tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        convert_file(source, tmp_path / "a", "json", "json")


def test_a_regular_file_is_replaced_whole_keeping_its_mode(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old")
    target.chmod(0o640)
    convert_file(source, target, "json", "json")
    assert target.read_bytes() == GOOD and stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_new_file_gets_the_usual_mode(source: Path, tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        convert_file(source, tmp_path / "new.jsonl", "json", "json")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.jsonl").stat().st_mode) == 0o644


def test_a_failed_run_leaves_the_old_file_and_nothing_else(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(BAD_ONCE)
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old")
    (tmp_path / "out.jsonl.partial").write_bytes(b"someone else's")  # a file of that name is not ours to take
    with pytest.raises(RecordError):
        convert_file(source, target, "json", "json")
    assert target.read_bytes() == b"old"
    assert (tmp_path / "out.jsonl.partial").read_bytes() == b"someone else's"
    assert listing(tmp_path) == ["in.jsonl", "out.jsonl", "out.jsonl.partial"]


def test_output_file_writes_beside_the_target_and_renames_at_the_end(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with output_file(target) as out:
        out.write(b"half")
        (partial,) = [name for name in listing(tmp_path) if name.endswith(".partial")]
        assert partial.startswith("out.bin.") and not target.exists()
    assert listing(tmp_path) == ["out.bin"] and target.read_bytes() == b"half"
    with pytest.raises(KeyboardInterrupt), output_file(target) as out:
        out.write(b"other")
        raise KeyboardInterrupt
    assert listing(tmp_path) == ["out.bin"] and target.read_bytes() == b"half"


def test_a_folder_is_not_an_output(source: Path, tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        convert_file(source, tmp_path, "json", "json")
    with pytest.raises(IsADirectoryError):
        convert_file(source, f"{tmp_path}/nothing-here/", "json", "json")
    assert listing(tmp_path) == ["in.jsonl"]


# -- dead letters ------------------------------------------------------------------------------------------------


def test_a_dead_letter_file_that_is_the_input_or_the_output_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(BAD_ONCE)
    (tmp_path / "alias.jsonl").symlink_to(source)
    (tmp_path / "hard.jsonl").hardlink_to(source)
    for same in (source, tmp_path / "alias.jsonl", tmp_path / "hard.jsonl", tmp_path / "." / "in.jsonl"):
        with pytest.raises(CloudEventError, match="is the input"):
            convert_file(source, tmp_path / "out.jsonl", dead_letter=same)
        with pytest.raises(CloudEventError, match="is the input"):
            list(convert(str(source), dead_letter=str(same)))
        with pytest.raises(CloudEventError, match="is the input"), open(source, "rb") as file:
            list(read_events(file, dead_letter=same))
    out = tmp_path / "out.jsonl"
    for same in (out, tmp_path / "sub" / ".." / "out.jsonl"):  # not there yet: the same path
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(CloudEventError, match="is the output"):
            convert_file(source, out, dead_letter=same)
    assert source.read_bytes() == BAD_ONCE and not out.exists()


def test_devices_may_be_shared(source: Path, tmp_path: Path) -> None:
    device = character_device(tmp_path)
    check_dead_letter(device, source=device, target=device)
    stats = convert_file(source, device, dead_letter=device)
    assert stats.events_out == 3


def test_a_completed_run_appends_its_dead_letters(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(BAD_ONCE)
    dead = tmp_path / "dead" / "letters.jsonl"
    dead.parent.mkdir()
    dead.write_bytes(b'{"earlier": 1}\n')
    stats = convert_file(source, tmp_path / "out.jsonl", dead_letter=dead)
    assert stats.dead_lettered == 1
    lines = dead.read_bytes().splitlines()
    assert lines[0] == b'{"earlier": 1}' and json.loads(lines[1])["record"] == "not json"
    assert listing(dead.parent) == ["letters.jsonl"]


def test_a_failed_run_appends_no_dead_letters(tmp_path: Path) -> None:
    # The second item is dead-lettered, then the array breaks: the run fails, and says so.
    source = tmp_path / "in.json"
    source.write_bytes(b"[" + good_line(1).strip() + b', "not an event", ' + good_line(2).strip() + b", {broken")
    dead = tmp_path / "dead.jsonl"
    dead.write_bytes(b"kept\n")
    stats = Stats()
    with pytest.raises(FramingError):
        list(read_events(source, "json-array", dead_letter=dead, stats=stats))
    assert stats.dead_lettered == 1 and dead.read_bytes() == b"kept\n"
    with pytest.raises(FramingError):
        convert_file(source, tmp_path / "out.jsonl", "json-array", "json", dead_letter=dead)
    assert dead.read_bytes() == b"kept\n" and listing(tmp_path) == ["dead.jsonl", "in.json"]
    with pytest.raises(IsADirectoryError):  # the output cannot be opened
        convert_file(source, tmp_path, "json-array", "json", dead_letter=dead)
    assert dead.read_bytes() == b"kept\n" and listing(tmp_path) == ["dead.jsonl", "in.json"]


def test_a_stream_closed_by_its_reader_keeps_the_dead_letters_of_what_was_read(tmp_path: Path) -> None:
    dead = tmp_path / "dead.jsonl"
    events = read_events(MIXED, "json", dead_letter=dead)
    assert isinstance(events, Generator)
    assert [next(events).id, next(events).id] == ["1", "3"]
    events.close()
    assert [json.loads(line)["position"]["record"] for line in dead.read_bytes().splitlines()] == [2, 3]


def test_no_dead_letters_no_file(source: Path, tmp_path: Path) -> None:
    convert_file(source, tmp_path / "out.jsonl", dead_letter=tmp_path / "dead.jsonl")
    assert not (tmp_path / "dead.jsonl").exists()


def test_an_append_that_fails_part_way_cuts_the_file_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dead_path = tmp_path / "dead.jsonl"
    dead_path.write_bytes(b"before\n")
    dead = DeadLetterFile(dead_path)
    dead.write(b"x" * 100_000 + b"\n")

    class Full(OSError):
        pass

    real_write = os.write
    written: list[int] = []

    def write_then_fail(fd: int, data: bytes) -> int:
        if written:
            raise Full(28, "No space left on device")
        written.append(real_write(fd, bytes(data)[:1000]))
        return written[-1]

    monkeypatch.setattr(os, "write", write_then_fail)
    with pytest.raises(Full):
        dead.commit()
    monkeypatch.undo()
    assert written == [1000] and dead_path.read_bytes() == b"before\n"


def test_a_dead_letter_folder_is_made_and_a_folder_refused_before_the_run(source: Path, tmp_path: Path) -> None:
    DeadLetterFile(tmp_path / "new" / "dead.jsonl")
    assert (tmp_path / "new").is_dir()
    with pytest.raises(IsADirectoryError):
        convert_file(source, tmp_path / "out.jsonl", dead_letter=tmp_path / "new")
    assert not (tmp_path / "out.jsonl").exists()


# -- sizes and formats are checked before anything is read -------------------------------------------------------


@pytest.mark.parametrize("name", ["max_record_size", "chunk_size", "batch_size"])
@pytest.mark.parametrize("value", [0, -1, True, 1.5, "10", None])
def test_convert_refuses_a_size_that_is_not_a_positive_whole_number(name: str, value: object) -> None:
    stats = Stats()
    with pytest.raises(CloudEventError, match=f"{name} must be a whole number of at least 1, got {value!r}"):
        list(convert([GOOD], "json", "json", on_error="skip", stats=stats, **{name: value}))  # type: ignore[arg-type]
    assert stats.records == 0


def test_every_stream_function_checks_its_sizes() -> None:
    with pytest.raises(CloudEventError, match="max_record_size"):
        list(read_events([GOOD], max_record_size=-1))
    with pytest.raises(CloudEventError, match="chunk_size"):
        list(read_events([GOOD], chunk_size=0))
    with pytest.raises(CloudEventError, match="batch_size"):
        list(write_events([], "json", "batch", batch_size=0))
    with pytest.raises(CloudEventError, match="chunk_size"):
        list(write_events([], "json", chunk_size=0))
    with pytest.raises(CloudEventError, match="batch_size"):
        list(encode_events([], "http", "batch", batch_size=-5))
    with pytest.raises(CloudEventError, match="max_record_size"):
        convert_file("/nonexistent.jsonl", "/nonexistent/out", max_record_size=0)


@pytest.mark.parametrize("mode", ["structured", "batch"])
def test_an_unknown_format_is_refused_whatever_the_policy(mode: str) -> None:
    stats = Stats()
    # the formats with that mode, whatever other format plugins are installed
    with pytest.raises(
        CloudEventError, match=r"no event format 'nope' .*; event formats here: ([a-z]+, )*json, ([a-z]+, )*msgpack"
    ):
        list(convert([GOOD], "json", "http", mode, format="nope", on_error="skip", stats=stats))
    assert stats.records == 0
    with pytest.raises(CloudEventError, match="no event format 'http'"):
        list(encode_events([], "kafka", "structured", format="http"))
