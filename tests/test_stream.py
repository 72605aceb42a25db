"""cefmt.stream: framings cut at any chunk boundary, round trips through every stream kind, error policies,
bounded memory, and plain functions that run in a process pool."""

from __future__ import annotations

import io
import json
import multiprocessing
import pickle
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cefmt
from cefmt import CloudEvent, CloudEventError, Codec, LimitExceededError
from cefmt.stream import (
    BadRecord,
    FramingError,
    Position,
    Record,
    RecordError,
    Stats,
    convert,
    convert_file,
    encode_events,
    output_mode,
    read_events,
    read_records,
    stream_kind,
    stream_kinds,
    write_events,
)
from cefmt.stream._framing import read_array, read_length_prefixed, read_lines, read_msgpack

from .strategies import events as event_strategy
from .strategies import json_view

GOOD = b'{"specversion":"1.0","id":"%d","source":"/s","type":"t","data":{"n":%d}}\n'


def good_line(n: int) -> bytes:
    return GOOD % (n, n)


def split(data: bytes, sizes: list[int]) -> list[bytes]:
    """``data`` cut into chunks of the given sizes (cycled), the way a socket or a file might hand it over."""
    chunks, start, index = [], 0, 0
    while start < len(data):
        size = max(1, sizes[index % len(sizes)]) if sizes else len(data)
        chunks.append(data[start : start + size])
        start += size
        index += 1
    return chunks


def records(items: Iterator[Any]) -> list[Record]:
    return [item for item in items if isinstance(item, Record)]


# -- round trips ------------------------------------------------------------------------------------------------

chunk_sizes = st.lists(st.integers(1, 300), min_size=1, max_size=5)
lossless = ["msgpack", ("msgpack", "batch"), ("http", "structured", "msgpack"), ("kafka", "structured", "msgpack")]
json_based = [
    "json",
    ("json", "batch"),
    "json-array",
    ("http", "structured"),
    ("http", "batch"),
    ("kafka", "structured"),
]


def _target(spec: Any) -> tuple[str, str | None, str | None]:
    spec = (spec,) if isinstance(spec, str) else spec
    return spec[0], (spec[1] if len(spec) > 1 else None), (spec[2] if len(spec) > 2 else None)


@pytest.mark.parametrize("spec", lossless + json_based, ids=str)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(event_strategy(), max_size=8), sizes=chunk_sizes, batch_size=st.integers(1, 4))
def test_write_then_read_gives_the_events_back(
    spec: Any, events: list[CloudEvent], sizes: list[int], batch_size: int
) -> None:
    dst, mode, fmt = _target(spec)
    data = b"".join(write_events(events, dst, mode, format=fmt, batch_size=batch_size))
    back = list(read_events(split(data, sizes), dst))
    expected = events if spec in lossless else [json_view(event) for event in events]
    # Batches group events by spec version; order holds within each version.
    for version in ("1.0", "0.3"):
        mine = [e for e in expected if e.specversion == version]
        theirs = [e for e in back if e.specversion == version]
        assert len(mine) == len(theirs)
        assert all(a == b for a, b in zip(mine, theirs, strict=True))


@settings(max_examples=30, deadline=None)
@given(events=st.lists(event_strategy(), min_size=1, max_size=6), sizes=chunk_sizes)
def test_convert_json_lines_to_msgpack_and_back_is_byte_identical(events: list[CloudEvent], sizes: list[int]) -> None:
    jsonl = b"".join(write_events(events, "json"))
    packed = b"".join(convert(split(jsonl, sizes), "json", "msgpack"))
    assert b"".join(convert(split(packed, sizes), "msgpack", "json")) == jsonl


def test_http_binary_lines_carry_headers_and_base64_body() -> None:
    event = CloudEvent(id="1", source="/s", type="t", data=b"\x00\xff", datacontenttype="application/octet-stream")
    line = b"".join(write_events([event], "http"))
    doc = json.loads(line)
    assert doc == {
        "headers": {
            "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t",
            "content-type": "application/octet-stream",
        },
        "body_base64": "AP8=",
    }  # fmt: skip
    assert list(read_events([line], "http")) == [event]


def test_hand_written_http_and_kafka_captures_are_read() -> None:
    http = b'{"headers": {"ce-specversion": "1.0", "ce-id": "7", "ce-source": "/s", "ce-type": "t", "content-type": "text/plain"}, "body": "hi"}\n'
    (event,) = read_events([http], "http")
    assert (event.id, event.data) == ("7", "hi")
    kafka = b'{"key": "k1", "headers": [["ce_specversion", "MS4w"], ["ce_id", "OA=="], ["ce_source", "L3M="], ["ce_type", "dA=="]], "value": null}\n'
    (event,) = read_events([kafka], "kafka")
    assert (event.id, event.data) == ("8", None)


def test_kafka_lines_carry_headers_as_base64_pairs() -> None:
    event = CloudEvent(id="1", source="/s", type="t", partitionkey="user-9")
    (message,) = encode_events([event], "kafka")
    assert ("ce_partitionkey", b"user-9") in message.headers  # a Kafka record, as the codec gives it
    line = b"".join(write_events([event], "kafka"))
    doc = json.loads(line)
    assert doc["key_base64"] is None and doc["value_base64"] is None and ["ce_id", "MQ=="] in doc["headers"]
    assert list(read_events([line], "kafka")) == [event]


def test_a_batch_record_gives_every_event_with_its_item_position() -> None:
    batch = b'[{"specversion":"1.0","id":"a","source":"/s","type":"t"},{"specversion":"1.0","id":"b","source":"/s","type":"t"}]\n'
    seen: list[BadRecord] = []
    events = list(read_events([good_line(1), batch], "json", dead_letter=seen.append))
    assert [e.id for e in events] == ["1", "a", "b"] and not seen


def test_stream_kinds_follow_the_registry() -> None:
    assert {"json", "json-array", "msgpack", "http", "kafka"} <= set(stream_kinds())
    assert stream_kind("msgpack").framing == "msgpack"
    with pytest.raises(cefmt.UnknownCodecError):
        stream_kind("thrift")  # a format nobody registered
    assert output_mode("kafka") == "binary"
    with pytest.raises(CloudEventError, match="no batch mode"):
        output_mode("kafka", "batch")
    with pytest.raises(CloudEventError, match="format="):
        output_mode("msgpack", format="json")


def test_another_registered_format_streams_as_length_prefixed_frames() -> None:
    # A format known only at run time: "memo" carries the id and source, separated by a space.
    memo = Codec(
        encode=lambda event, **_: f"{event.id} {event.source}".encode(),
        decode=lambda raw, **_: CloudEvent.from_attributes(
            {
                "specversion": "1.0",
                "id": raw.split(b" ")[0].decode(),
                "source": raw.split(b" ")[1].decode(),
                "type": "memo",
            }
        ),
        media_type="application/cloudevents+memo",
    )
    cefmt.register("1.0", "memo", "structured", memo)
    assert stream_kind("memo").framing == "length-prefixed"
    events = [CloudEvent(id=str(n), source="/m", type="memo") for n in range(3)]
    data = b"".join(write_events(events, "memo"))
    assert data[:8] == b"\x00\x00\x00\x040 /m"
    assert list(read_events(split(data, [3]), "memo")) == events


# -- framings ---------------------------------------------------------------------------------------------------


def test_lines_report_line_numbers_and_offsets_and_skip_blank_lines() -> None:
    data = b"a\r\n\n  \nbb\nccc"
    found = records(read_lines(split(data, [2]), 100))
    assert [(r.raw, r.position) for r in found] == [
        (b"a", Position(1, line=1, offset=0)),
        (b"bb", Position(2, line=4, offset=7)),
        (b"ccc", Position(3, line=5, offset=10)),
    ]


@pytest.mark.parametrize("size", [1, 4, 7, 1000])
def test_a_line_over_the_limit_is_a_bad_record_and_reading_goes_on(size: int) -> None:
    data = b"ok\n" + b"x" * 50 + b"\nfine\n" + b"y" * 30
    found = records(read_lines(split(data, [size]), 20))
    assert [r.raw for r in found] == [b"ok", None, b"fine", None]
    assert isinstance(found[1].error, LimitExceededError) and found[1].position == Position(2, line=2, offset=3)
    assert found[3].position.line == 4


@settings(max_examples=50, deadline=None)
@given(items=st.lists(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5)), max_size=6),
       sizes=chunk_sizes, indent=st.sampled_from([None, 1]))  # fmt: skip
def test_json_array_items_are_found_at_any_chunk_boundary(items: list[Any], sizes: list[int], indent: Any) -> None:
    data = json.dumps(items, indent=indent, ensure_ascii=False).encode()
    found = records(read_array(split(data, sizes), 10_000))
    assert [json.loads(r.raw) for r in found] == items


def test_json_array_numbers_split_across_chunks_are_read_whole() -> None:
    assert [r.raw for r in records(read_array([b"[1", b"23 ,", b"4]"], 100))] == [b"123", b"4"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": 1}', "must be one array"),
        (b'[{"a": 1} {"b": 2}]', "expected ',' or ']'"),
        (b'[{"a": 1},', "not closed"),
        (b'[{"a": }]', "not valid JSON"),
        (b"[1] 2", "more after the end"),
        (b'["\xff"]', "not valid UTF-8"),
        (b"[" + b"[" * 100_000 + b"]" * 100_000 + b"]", "nested too deeply"),
        (b'[{"a": "' + b"x" * 500 + b'"}]', "longer than the limit"),
    ],
)
def test_a_broken_json_array_stops_with_a_framing_error(data: bytes, message: str) -> None:
    with pytest.raises(FramingError, match=message):
        records(read_array(split(data, [64]), 200))


def test_msgpack_objects_are_cut_at_any_boundary_and_bad_streams_stop() -> None:
    objects = [{"a": 1}, [1, 2, 3], "x" * 300, {"nested": {"b": b"\x00" * 70}}]
    data = b"".join(msgpack.packb(o) for o in objects)
    for size in (1, 5, 64, 10_000):
        found = records(read_msgpack(split(data, [size]), 1000))
        assert [msgpack.unpackb(r.raw) for r in found] == objects
        assert found[1].position == Position(2, offset=len(msgpack.packb(objects[0])))
    with pytest.raises(FramingError, match="ends inside"):
        records(read_msgpack([data[:-1]], 1000))
    with pytest.raises(FramingError, match="not valid msgpack"):
        records(read_msgpack([msgpack.packb(1) + b"\xc1"], 1000))
    with pytest.raises(FramingError, match="larger than the limit"):
        records(read_msgpack(split(msgpack.packb("y" * 5000), [100]), 1000))


def test_length_prefixed_frames_over_the_limit_are_stepped_over() -> None:
    data = b"\0\0\0\2ok" + b"\0\0\0\x20" + b"z" * 32 + b"\0\0\0\1!"
    found = records(read_length_prefixed(split(data, [3]), 10))
    assert [r.raw for r in found] == [b"ok", None, b"!"]
    assert isinstance(found[1].error, LimitExceededError)
    with pytest.raises(FramingError, match="ends inside"):
        records(read_length_prefixed([b"\0\0\0\5abc"], 10))


# -- error policies ---------------------------------------------------------------------------------------------

MIXED = [
    good_line(1),
    b'{"specversion":"1.0","id":"2","source":"/s","type":"t","time":"lunchtime"}\n',
    b"not json\n",
    good_line(3),
    b'{"specversion":"1.0","id":"4","type":"t"}\n',
    good_line(5),
]


def test_fail_stops_at_the_first_bad_record_naming_it() -> None:
    with pytest.raises(RecordError) as info:
        list(read_events(MIXED, "json"))
    error = info.value
    assert error.position == Position(2, line=2, offset=len(MIXED[0]))
    assert isinstance(error.__cause__, cefmt.InvalidAttributeError) and error.__cause__.attribute == "time"
    assert str(error).startswith("record 2 (line 2, byte 71): attribute 'time'")


def test_skip_counts_what_it_drops() -> None:
    stats = Stats()
    events = list(read_events(MIXED, "json", on_error="skip", stats=stats))
    assert [e.id for e in events] == ["1", "3", "5"]
    assert (stats.records, stats.events_in, stats.skipped, stats.dead_lettered) == (6, 3, 3, 0)


def test_dead_letter_gets_every_bad_record_with_error_and_position(tmp_path: Path) -> None:
    seen: list[BadRecord] = []
    out = list(read_events(MIXED, "json", on_error="dead-letter", dead_letter=seen.append))
    assert len(out) + len(seen) == len(MIXED)  # nothing is dropped silently
    assert [(b.position.line, b.stage, getattr(b.error, "attribute", None)) for b in seen] == [
        (2, "decode", "time"),
        (3, "decode", None),
        (5, "decode", "source"),
    ]
    assert seen[1].raw == b"not json"

    target = tmp_path / "dead.jsonl"
    stats = Stats()
    chunks = list(convert(MIXED, "json", "msgpack", dead_letter=str(target), stats=stats))
    assert len(list(read_events(chunks, "msgpack"))) == 3
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["position"] for line in lines] == [
        {"record": 2, "line": 2, "offset": 71},
        {"record": 3, "line": 3, "offset": 146},
        {"record": 5, "line": 5, "offset": 226},
    ]
    assert lines[0]["attribute"] == "time" and lines[0]["rule"] == "is not an RFC 3339 timestamp"
    assert lines[1]["record"] == "not json" and lines[2]["error_type"] == "MissingAttributeError"
    assert stats.dead_lettered == 3 and stats.events_out == 3


def test_dead_letter_policy_without_a_sink_is_refused() -> None:
    with pytest.raises(CloudEventError, match="needs dead_letter"):
        list(read_events(MIXED, "json", on_error="dead_letter"))
    with pytest.raises(CloudEventError, match="on_error must be"):
        list(read_events(MIXED, "json", on_error="ignore"))


def test_an_event_the_target_cannot_encode_leaves_its_batch_and_the_rest_goes_out() -> None:
    def encode_batch(events: list[CloudEvent], **_: Any) -> bytes:
        if any(e.id == "2" for e in events):
            raise CloudEventError("id 2 is not welcome here")
        return ",".join(e.id for e in events).encode()

    cefmt.register("1.0", "picky", "batch", Codec(encode=encode_batch, decode=lambda raw, **_: [], media_type="x/y"))
    cefmt.register(
        "1.0", "picky", "structured", Codec(encode=lambda e, **_: b"", decode=lambda r, **_: None, media_type="x/z")
    )
    seen: list[BadRecord] = []
    messages = list(
        convert([good_line(n) for n in range(1, 5)], "json", "picky", "batch", batch_size=10, dead_letter=seen.append)
    )
    assert messages == [b"\0\0\0\x051,3,4"]
    assert [(b.position.record, b.stage) for b in seen] == [(2, "encode")]
    assert seen[0].raw == good_line(2).rstrip(b"\n")


# -- streaming ----------------------------------------------------------------------------------------------------


def test_output_comes_out_while_the_input_is_still_open() -> None:
    asked = []

    def slow_source() -> Iterator[bytes]:
        for n in range(3):
            asked.append(n)
            yield good_line(n)

    out = convert(slow_source(), "json", "msgpack")
    first = next(out)
    assert asked == [0] and next(iter(read_events([first], "msgpack"))).id == "0"


def test_files_text_streams_and_bytes_are_sources(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(good_line(1) + good_line(2))
    assert [e.id for e in read_events(path, "json")] == ["1", "2"]
    assert [e.id for e in read_events(str(path), "json")] == ["1", "2"]
    assert [e.id for e in read_events(io.BytesIO(path.read_bytes()), "json")] == ["1", "2"]
    assert [e.id for e in read_events(io.TextIOWrapper(io.BytesIO(path.read_bytes())), "json")] == ["1", "2"]
    assert [e.id for e in read_events(path.read_bytes(), "json")] == ["1", "2"]
    assert [e.id for e in read_events(path.read_text().splitlines(keepends=True), "json")] == ["1", "2"]


def test_messages_given_as_objects_are_decoded() -> None:
    event = CloudEvent(id="1", source="/s", type="t", data={"a": 1})
    messages = list(encode_events([event, event.evolve(id="2")], "http", "binary"))
    assert [e.id for e in read_events(messages, "http")] == ["1", "2"]


def _events_source(count: int) -> Iterator[bytes]:
    payload = "x" * 1000
    for n in range(count):
        yield b'{"specversion":"1.0","id":"%d","source":"/s","type":"t","data":{"p":"%s"}}\n' % (n, payload.encode())


def test_memory_stays_bounded_whatever_the_input_size() -> None:
    count = 15_000  # about 16 MB of JSON Lines, never held at once
    stats = Stats()
    tracemalloc.start()
    try:
        written = sum(len(chunk) for chunk in convert(_events_source(count), "json", "msgpack", stats=stats))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stats.events_out == count and written > 15_000_000
    assert peak < 3_000_000, f"peak {peak} bytes"


def test_the_functions_pickle_and_run_in_a_process_pool(tmp_path: Path) -> None:
    assert pickle.loads(pickle.dumps(convert)) is convert
    assert pickle.loads(pickle.dumps(Stats(records=3))).records == 3
    jobs = []
    for part in range(3):
        source = tmp_path / f"part{part}.jsonl"
        source.write_bytes(b"".join(good_line(part * 10 + n) for n in range(part + 1)))
        jobs.append((str(source), str(tmp_path / f"part{part}.msgpack"), "json", "msgpack"))
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.starmap(convert_file, jobs)
    assert [stats.events_out for stats in results] == [1, 2, 3]
    ids = [e.id for e in read_events(tmp_path / "part2.msgpack", "msgpack")]
    assert ids == ["20", "21", "22"]


def test_convert_file_leaves_no_output_when_it_fails(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(MIXED))
    with pytest.raises(RecordError):
        convert_file(source, tmp_path / "out.msgpack", "json", "msgpack")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_read_records_gives_each_bad_record_in_its_place() -> None:
    stats = Stats()
    items = list(read_records(MIXED, "json", stats=stats))
    assert [item.id if isinstance(item, CloudEvent) else item.position.record for item in items] == [
        "1", 2, 3, "3", 5, "5"
    ]  # fmt: skip
    assert all(isinstance(item, BadRecord) for item in items if not isinstance(item, CloudEvent))
    assert (stats.records, stats.events_in, stats.dead_lettered) == (6, 3, 3)


def test_read_records_holds_no_more_than_a_chunk_of_bad_records() -> None:
    def bad_lines() -> Iterator[bytes]:
        for _ in range(2000):
            yield b"not an event, " + b"x" * 5000 + b"\n"  # 10 MB of bad records before the first good one
        yield good_line(1)

    tracemalloc.start()
    try:
        items = read_records(bad_lines(), "json", chunk_size=65536)
        count = sum(1 for item in items if isinstance(item, BadRecord))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 2000 and peak < 2_000_000, f"peak {peak} bytes"
