"""Parquet: the format's codec, and the ``parquet`` stream kind (files read row by row and written row group
by row group, stdin spooled, bad rows following ``on_error``, workers), with memory that a row group
bounds, whatever the file's size."""

from __future__ import annotations

import base64
import io
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cefmt import CloudEvent, LimitExceededError, Limits, MalformedMessageError, decode, encode
from cefmt.stream import FramingError, RecordError, Stats, convert, convert_file, read_events, write_events
from cefmt_plugins.arrow import BASE_SCHEMA, from_table
from cefmt_plugins.arrow.parquet import write_file
from tests.cli.conftest import run
from tests.strategies import events

EVENT = {"id": "1", "source": "/s", "type": "t"}


def _events(count: int, **extra: Any) -> list[CloudEvent]:
    return [CloudEvent({**EVENT, "id": str(n)}, {"n": n}, **extra) for n in range(count)]


def _jsonl(batch: list[CloudEvent]) -> bytes:
    return b"".join(write_events(batch, "json"))


# -- the codec ----------------------------------------------------------------------------------------------------


def test_a_batch_is_one_parquet_file() -> None:
    batch = _events(3, n=7)
    raw = encode(batch, "parquet", "batch")
    assert raw[:4] == b"PAR1" and raw[-4:] == b"PAR1"
    table = pq.read_table(pa.BufferReader(raw))
    assert table.column("n").type == pa.int32()
    assert decode(raw, "parquet") == batch
    headers, body = encode(batch, "http", "batch", format="parquet")
    assert headers["content-type"] == "application/cloudevents-batch+parquet"
    assert decode((headers, body), "http") == batch


def test_limits_before_reading() -> None:
    raw = encode(_events(5), "parquet", "batch")
    with pytest.raises(LimitExceededError, match="batch length 5"):
        decode(raw, "parquet", limits=Limits(max_batch_length=4))
    with pytest.raises(LimitExceededError, match="size of Parquet file"):
        decode(raw, "parquet", limits=Limits(max_message_bytes=100))


def test_a_file_that_expands_beyond_the_bound_is_refused_before_it_is_read() -> None:
    # 8 MB of zeros compress to a few kilobytes: the row group says what it expands to, and that is refused.
    raw = encode([CloudEvent(EVENT, b"\x00" * 8_000_000)], "parquet", "batch")
    assert len(raw) < 100_000
    with pytest.raises(LimitExceededError, match="uncompressed size of Parquet row group 0"):
        decode(raw, "parquet")


@pytest.mark.parametrize(
    ("raw", "message"), [(b"PAR1junkPAR1", "not a Parquet file"), (b"x" * 40, "not a Parquet file")]
)
def test_what_is_not_parquet_is_a_malformed_message(raw: bytes, message: str) -> None:
    with pytest.raises(MalformedMessageError, match=message):
        decode(raw, "parquet", "batch")


# -- the stream kind ------------------------------------------------------------------------------------------------


def test_json_lines_to_parquet_and_back(tmp_path: Path) -> None:
    batch = [*_events(250), CloudEvent({**EVENT, "id": "x"}, b"\x00", n="text now", at="2020-01-01T00:00:00.5+01:00")]
    source = tmp_path / "in.jsonl"
    source.write_bytes(_jsonl(batch))
    stats = convert_file(source, tmp_path / "out.parquet", "json", "parquet")
    assert (stats.events_out, stats.messages_out) == (251, 3)  # batches of 100 by default
    back = list(read_events(tmp_path / "out.parquet", "parquet"))
    assert back == [decode(encode(event, "json"), "json") for event in batch]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events(), max_size=12), st.integers(1, 5))
def test_any_events_through_a_parquet_stream_come_back_exactly(batch: list[CloudEvent], size: int) -> None:
    # Batches of `size` events, each with its own extension columns, all in one file of the first's schema.
    out = b"".join(write_events(batch, "parquet", batch_size=size))
    back = list(read_events(out, "parquet"))
    assert len(back) == len(batch)
    for version in ("1.0", "0.3"):  # a batch holds one spec version: the order is kept within each version
        got = [event for event in back if event.specversion == version]
        sent = [event for event in batch if event.specversion == version]
        assert all(a == b for a, b in zip(got, sent, strict=True))


def test_the_writer_gathers_batches_into_row_groups() -> None:
    message = encode(_events(1000), "parquet", "batch")
    raw = b"".join(write_file([message] * 9, row_group_rows=4000))
    parquet = pq.ParquetFile(pa.BufferReader(raw))
    assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == [4000, 4000, 1000]
    assert len(list(read_events(raw, "parquet"))) == 9000


def test_no_events_make_a_file_with_no_rows_and_an_empty_file_has_none() -> None:
    raw = b"".join(convert([b""], "json", "parquet"))
    assert pq.read_table(pa.BufferReader(raw)).schema.equals(BASE_SCHEMA)
    assert list(read_events(raw, "parquet")) == []
    assert list(read_events(b"", "parquet")) == []


def test_what_is_not_parquet_stops_the_stream() -> None:
    with pytest.raises(FramingError, match="not a Parquet file"):
        list(read_events(b"not parquet at all", "parquet", on_error="skip"))


def _with_bad_rows(path: Path) -> None:
    table = pa.table({"id": ["1", "", "3", "4"], "source": ["/s", "/s", "/s", "/s"], "type": ["t", "t", "t", "t"],
                      "data": [b"a", b"b", b"c", b"\xff"], "data_kind": ["bytes", "bytes", "bytes", "text"]})  # fmt: skip
    pq.write_table(table, path)


def test_bad_rows_follow_on_error_and_the_dead_letter_holds_the_row(tmp_path: Path) -> None:
    _with_bad_rows(tmp_path / "in.parquet")
    with pytest.raises(RecordError, match="record 2: row 1: attribute 'id'"):
        list(read_events(tmp_path / "in.parquet", "parquet"))
    assert [e.id for e in read_events(tmp_path / "in.parquet", "parquet", on_error="skip")] == ["1", "3"]
    dead = tmp_path / "dead.jsonl"
    stats = convert_file(tmp_path / "in.parquet", tmp_path / "out.jsonl", "parquet", "json", dead_letter=dead)
    assert (stats.events_out, stats.dead_lettered) == (2, 2)
    letters = [json.loads(line) for line in dead.read_bytes().splitlines()]
    assert [letter["position"] for letter in letters] == [{"record": 2}, {"record": 4}]
    assert letters[1]["error"].startswith("row 3: text data is not valid UTF-8")
    row = pa.ipc.open_stream(base64.b64decode(letters[1]["record_base64"])).read_all()
    assert row.to_pylist() == [{"id": "4", "source": "/s", "type": "t", "data": b"\xff", "data_kind": "text"}]


def test_a_seekable_file_object_and_a_pipe_through_the_cli(tmp_path: Path) -> None:
    raw = encode(_events(5), "parquet", "batch")
    assert [e.id for e in read_events(io.BytesIO(raw), "parquet")] == ["0", "1", "2", "3", "4"]
    assert [e.id for e in read_events([raw[:10], raw[10:]], "parquet")] == ["0", "1", "2", "3", "4"]  # spooled
    piped = run("convert", "-", "-", "--from", "parquet", "--to", "json", stdin=raw)  # stdin is a pipe: spooled
    assert piped.returncode == 0, piped.stderr
    assert [json.loads(line)["id"] for line in piped.stdout.splitlines()] == ["0", "1", "2", "3", "4"]
    written = run("convert", "-", "-", "--to", "parquet", stdin=_jsonl(_events(3)))
    assert written.returncode == 0, written.stderr
    assert [e.id for e in decode(written.stdout, "parquet")] == ["0", "1", "2"]  # type: ignore[union-attr]


def test_workers_read_and_write_parquet_as_one_process_does(tmp_path: Path) -> None:
    batch = _events(9000, n=1)
    source = tmp_path / "in.parquet"
    source.write_bytes(b"".join(write_events(batch, "parquet", batch_size=1000)))
    one, two = Stats(), Stats()
    lines = b"".join(convert(source, "parquet", "json", stats=one))
    assert b"".join(convert(source, "parquet", "json", workers=2, stats=two)) == lines
    assert (one.events_out, two.events_out) == (9000, 9000)
    parallel = b"".join(convert([lines], "json", "parquet", workers=2, batch_size=500))
    assert list(read_events(parallel, "parquet")) == batch


# -- memory -----------------------------------------------------------------------------------------------------------

_MEASURE = """
import os, sys
import cefmt_plugins.arrow.parquet  # the plugin and pyarrow loaded: the growth measured is the conversion's
from cefmt.stream import convert, stream_kind
stream_kind("parquet")
def peak():
    return next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM"))
before = peak()
with open(os.devnull, "wb") as out:
    for chunk in convert(sys.argv[1], "parquet", "json"):
        out.write(chunk)
print(peak() - before)
"""


def _file_of(path: Path, rows: int, group: int) -> int:
    """A Parquet file of ``rows`` events with 2 KB of data each, in row groups of ``group``; its data's size."""
    rnd = random.Random(7)
    with pq.ParquetWriter(path, BASE_SCHEMA, compression="zstd") as writer:
        for start in range(0, rows, group):
            count = min(group, rows - start)
            columns: dict[str, Any] = {
                name: pa.nulls(count, field.type) for name, field in zip(BASE_SCHEMA.names, BASE_SCHEMA, strict=True)
            }
            columns.update(specversion=["1.0"] * count, id=[str(start + n) for n in range(count)], source=["/s"] * count,
                           type=["t"] * count, data=[rnd.randbytes(16) * 128 for _ in range(count)], data_kind=["bytes"] * count)  # fmt: skip
            writer.write_table(pa.table(columns, schema=BASE_SCHEMA))
    return rows * 2048


def test_memory_follows_the_row_group_not_the_file(tmp_path: Path) -> None:
    growth = {}
    for rows in (16_384, 98_304):
        path = tmp_path / f"{rows}.parquet"
        data = _file_of(path, rows, 8192)
        out = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True)
        growth[rows] = int(out.stdout)
    # 200 MB of data in the larger file, six times the smaller one; 16 MB in a row group. The peak (about 65 MB
    # the first conversion costs whatever the size, and a few times a row group) does not follow the file.
    assert growth[98_304] < growth[16_384] + 30_000_000, growth
    assert growth[98_304] < data * 3 / 4, growth


def test_from_table_reads_a_file_written_by_others(tmp_path: Path) -> None:
    _with_bad_rows(tmp_path / "x.parquet")
    table = pq.read_table(tmp_path / "x.parquet").slice(0, 1)
    assert from_table(table) == [CloudEvent(EVENT, b"a")]
