"""cefmt.stream framings: linear work whatever the chunking, a UTF-8 BOM at the start, syntax errors in a JSON
array reported as such, and a ``json`` stream that is not JSON Lines (pretty-printed documents, an array)."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cefmt.stream import FramingError, Position, RecordError, Stats, convert, read_events
from cefmt.stream._framing import read_array, read_lines

from .test_stream import good_line, records, split

BOM = b"\xef\xbb\xbf"


def event(n: int) -> dict[str, Any]:
    return {"specversion": "1.0", "id": str(n), "source": "/s", "type": "t", "data": {"n": n}}


# -- linear work ----------------------------------------------------------------------------------------------------


def allocated_per_chunk(reader: Callable[[Iterable[bytes], int], Iterator[Any]], chunks: list[bytes]) -> int:
    """The bytes ``reader`` allocates over the whole input, summed chunk by chunk.

    Before each chunk is handed over (and once at the end), the peak of traced memory since the last chunk, less
    what is held now, is what the reader built and let go while it worked on that chunk: a reader that copies its
    pending text for every chunk allocates that text again each time, so the sum grows with the square of the
    input. The chunks exist before the count starts, so handing them over allocates nothing.
    """
    total = 0

    def measured() -> Iterator[bytes]:
        nonlocal total
        for chunk in chunks:
            current, peak = tracemalloc.get_traced_memory()
            total += peak - current
            tracemalloc.reset_peak()
            yield chunk

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        for _ in reader(measured(), 1 << 30):
            pass
        current, peak = tracemalloc.get_traced_memory()
        total += peak - current
    finally:
        tracemalloc.stop()
    return total


def test_a_long_line_in_small_chunks_is_read_in_linear_work() -> None:
    size = 1 << 20
    data = b'{"a":"' + b"x" * size + b'"}\n'
    chunks = split(data, [1024])
    assert [len(r.raw) for r in records(read_lines(iter(chunks), 1 << 30))] == [size + 8]
    # Linear: about one copy of the line (joining its pieces). Copying the pending text for each of the 1025
    # chunks, as before, allocates about 512 MiB.
    assert allocated_per_chunk(read_lines, chunks) < 4 * size


def test_a_long_array_item_in_small_chunks_is_read_in_linear_work() -> None:
    size = 1 << 20
    data = b'[{"a":"' + b"x" * size + b'"}]'
    chunks = split(data, [1024])
    assert [len(r.raw) for r in records(read_array(iter(chunks), 1 << 30))] == [size + 8]
    assert allocated_per_chunk(read_array, chunks) < 16 * size


def test_many_lines_in_one_chunk_are_read_in_linear_work() -> None:
    data = b"".join(good_line(n) for n in range(20_000))
    assert len(records(read_lines([data], 1000))) == 20_000
    assert allocated_per_chunk(read_lines, [data]) < 4 * len(data)


# -- a UTF-8 byte order mark at the start of a text stream -----------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 5, 4096])
def test_a_bom_at_the_start_of_json_lines_is_dropped_and_offsets_still_count_bytes(size: int) -> None:
    data = BOM + good_line(1) + good_line(2)
    found = records(read_lines(split(data, [size]), 1000))
    assert [r.raw for r in found] == [good_line(1).rstrip(), good_line(2).rstrip()]
    assert found[0].position == Position(1, line=1, offset=3)
    assert found[1].position == Position(2, line=2, offset=3 + len(good_line(1)))
    assert [e.id for e in read_events(split(data, [size]), "json")] == ["1", "2"]


@pytest.mark.parametrize("size", [1, 2, 4096])
def test_a_bom_at_the_start_of_every_text_framing_is_accepted(size: int) -> None:
    array = BOM + json.dumps([event(1), event(2)]).encode()
    assert [e.id for e in read_events(split(array, [size]), "json-array")] == ["1", "2"]
    http = BOM + b"".join(convert([good_line(1)], "json", "http"))
    assert [e.id for e in read_events(split(http, [size]), "http")] == ["1"]
    pretty = BOM + json.dumps(event(3), indent=2).encode()
    assert [e.id for e in read_events(split(pretty, [size]), "json")] == ["3"]


def test_a_bom_anywhere_but_the_start_is_not_dropped() -> None:
    stats = Stats()
    events = list(read_events([good_line(1), BOM + good_line(2)], "json", on_error="skip", stats=stats))
    assert [e.id for e in events] == ["1"] and stats.skipped == 1
    assert [r.raw for r in records(read_lines([b"a\n", BOM + b"b\n"], 100))] == [b"a", BOM + b"b"]


# -- syntax errors inside a JSON array ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [7, 100, 4096, 1 << 20])
def test_a_syntax_error_deep_in_a_large_array_is_reported_as_a_syntax_error_where_it_is(size: int) -> None:
    items = [json.dumps(event(n)) for n in range(3000)]
    items[2500] = items[2500].replace('"source"', '"source" "x"', 1)  # a missing ':'
    data = ("[\n" + ",\n".join(items) + "\n]\n").encode()
    with pytest.raises(FramingError) as info:
        records(read_array(split(data, [size]), 1000))  # the limit is far below what follows the bad item
    message = str(info.value)
    column = items[2500].index('"x"') + 1
    assert message.startswith(f"record 2501 (line 2502): not valid JSON: Expecting ':' delimiter (column {column})")
    assert "longer than the limit" not in message
    assert info.value.position == Position(2501, line=2502)


def test_an_item_that_is_really_too_long_is_still_reported_as_too_long() -> None:
    data = b'[{"a": 1}, {"a": "' + b"y" * 5000 + b'"}]'
    with pytest.raises(FramingError, match=r"record 2 \(line 1\): an array item is longer than the limit of 1000"):
        records(read_array(split(data, [64]), 1000))


def test_a_syntax_error_on_a_later_line_names_that_line() -> None:
    data = b'[\n  {\n    "a": 1,\n    "b": tru\n  }\n]'
    with pytest.raises(FramingError, match=r"record 1 \(line 4\): not valid JSON: Expecting value \(column 10\)"):
        records(read_array(split(data, [3]), 1000))


# -- a json stream that is not JSON Lines ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 16, 4096])
def test_one_pretty_printed_event_is_one_record(size: int) -> None:
    data = json.dumps(event(1), indent=2).encode() + b"\n"
    stats = Stats()
    assert [e.id for e in read_events(split(data, [size]), "json", stats=stats)] == ["1"]
    assert stats.records == 1


@pytest.mark.parametrize("size", [1, 16, 4096])
def test_pretty_printed_events_one_after_another_are_read_each_with_its_line(size: int) -> None:
    data = b"\n".join(json.dumps(event(n), indent=4).encode() for n in range(3))
    seen: list[Any] = []
    bad = json.dumps({**event(9), "time": "lunchtime"}, indent=2).encode()
    found = list(read_events(split(data + b"\n" + bad, [size]), "json", dead_letter=seen.append))
    assert [e.id for e in found] == ["0", "1", "2"]
    lines_each = data.count(b"\n") // 3 + 1
    assert [b.position for b in seen] == [Position(4, line=3 * lines_each + 1)]


@pytest.mark.parametrize("size", [1, 64, 4096])
def test_a_pretty_printed_array_is_read_item_by_item(size: int) -> None:
    items = [event(1), {**event(2), "time": "lunchtime"}, event(3)]
    data = json.dumps(items, indent=2).encode()
    stats = Stats()
    found = list(read_events(split(data, [size]), "json", on_error="skip", stats=stats))
    assert [e.id for e in found] == ["1", "3"]
    assert (stats.records, stats.skipped) == (3, 1)


def test_a_pretty_printed_array_longer_than_the_limit_is_still_read_item_by_item() -> None:
    data = json.dumps([event(n) for n in range(200)], indent=1).encode()
    found = list(read_events(split(data, [256]), "json", max_record_size=1000))
    assert len(found) == 200


def test_json_lines_stay_json_lines_even_when_the_first_line_is_bad() -> None:
    for first in (b"{not json\n", b"[1, 2\n", b'{"a": 1} trailing\n', b"plain words\n"):
        stats = Stats()
        found = list(read_events([first, good_line(1), good_line(2)], "json", on_error="skip", stats=stats))
        assert [e.id for e in found] == ["1", "2"], first
        assert (stats.records, stats.skipped) == (3, 1)


def test_a_broken_pretty_document_after_the_first_stops_the_stream() -> None:
    data = json.dumps(event(1), indent=2).encode() + b'\n{\n  "id": \n'
    with pytest.raises(FramingError, match=r"record 2 \(line \d+\): not valid JSON"):
        list(read_events([data], "json", on_error="skip"))


def test_a_pretty_printed_document_longer_than_the_limit_says_so() -> None:
    doc = json.dumps({**event(1), "data": {"x": "y" * 3000}}, indent=2).encode()
    with pytest.raises(FramingError, match="longer than the limit of 1000"):
        list(read_events(split(doc, [100]), "json", max_record_size=1000))


def test_a_bad_event_in_a_pretty_document_fails_with_its_position() -> None:
    data = json.dumps(event(1), indent=2).encode() + b"\n" + json.dumps({**event(2), "id": ""}, indent=2).encode()
    with pytest.raises(RecordError, match=r"record 2 \(line 10\): attribute 'id'"):
        list(read_events([data], "json"))


def test_whitespace_only_and_empty_json_streams_have_no_records() -> None:
    for data in (b"", b"\n\n  \n", BOM, BOM + b"\n"):
        stats = Stats()
        assert list(read_events([data], "json", stats=stats)) == [] and stats.records == 0


def test_a_pretty_printed_event_converts_to_one_json_line() -> None:
    data = json.dumps(event(1), indent=2).encode()
    out = b"".join(convert([data], "json", "json"))
    assert out.count(b"\n") == 1 and json.loads(out)["id"] == "1" and json.loads(out)["data"] == {"n": 1}


@settings(max_examples=500, deadline=None)
@given(
    data=st.lists(st.sampled_from([b"\n", b"\r", b" ", b"x", b"\xff", b"{}"]), max_size=120).map(b"".join)
    | st.binary(max_size=200).map(lambda b: b.replace(b"\x00", b"\n")),
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=5),
    bom=st.booleans(),
    limit=st.integers(1, 60),
)
def test_lines_agree_with_a_plain_split_at_any_chunking(data: bytes, sizes: list[int], bom: bool, limit: int) -> None:
    expected, offset = [], len(BOM) if bom else 0
    for number, text in enumerate(data.split(b"\n"), 1):
        line = text[:-1] if text.endswith(b"\r") else text
        if line.strip():
            expected.append((line if len(line) <= limit else None, number, offset))
        offset += len(text) + 1
    found = records(read_lines(split((BOM if bom else b"") + data, sizes), limit))
    assert [(r.raw, r.position.line, r.position.offset) for r in found] == expected
    assert [r.position.record for r in found] == list(range(1, len(found) + 1))
