"""The Arrow event format: the table's schema, lossless round trips, tables from other producers, hostile
IPC streams and limits. (Round trips through every binding, garbage and the generic limits are in
tests/hardening through the VIEWS row.)"""

from __future__ import annotations

import struct
from datetime import timedelta, timezone
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cefmt
from cefmt import (
    CloudEvent,
    EncodeError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    Timestamp,
    decode,
    encode,
)
from cefmt_plugins.arrow import (
    BASE_SCHEMA,
    decode_rows,
    from_table,
    layout_of,
    read_stream,
    schema_for,
    to_table,
    write_stream,
)
from tests.strategies import events

EVENT = {"id": "1", "source": "/s", "type": "t"}


def _same(got: list[CloudEvent], sent: list[CloudEvent]) -> bool:
    return got == sent  # CloudEvent equality compares types too (1 != True, "1" != b"1")


# -- the schema ----------------------------------------------------------------------------------------------------


def test_the_base_columns_and_their_types() -> None:
    table = to_table([CloudEvent(EVENT)])
    assert table.schema.equals(BASE_SCHEMA)
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("time_nanos").type == pa.int16()
    assert table.schema.field("data").type == pa.binary()
    assert pa.types.is_map(table.schema.field("extensions").type)


def test_time_keeps_nanoseconds_and_its_offset_in_their_own_columns() -> None:
    event = CloudEvent(EVENT, time="2018-04-05T17:31:00.123456789+02:00")
    row = to_table([event]).to_pylist()[0]
    assert row["time"].isoformat() == "2018-04-05T15:31:00.123456+00:00"  # the instant, in UTC
    assert (row["time_nanos"], row["time_offset"]) == (789, 120)
    assert str(from_table(to_table([event]))[0].time) == "2018-04-05T17:31:00.123456789+02:00"


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59.999999999-23:59", "1677-01-01T00:00:00Z"]
)
def test_times_outside_what_nanosecond_timestamps_hold_come_back(text: str) -> None:
    event = CloudEvent(EVENT, time=text, at=Timestamp.parse(text))
    assert from_table(to_table([event]))[0] == event


def test_data_is_bytes_with_its_kind() -> None:
    table = to_table(
        [
            CloudEvent(EVENT, b"\x00\xff"),
            CloudEvent(EVENT, "héllo", datacontenttype="text/plain"),
            CloudEvent(EVENT, {"a": [1, 2.5, None]}),
            CloudEvent(EVENT, "5", datacontenttype="application/json"),  # a JSON string, not the number 5
            CloudEvent(EVENT),
        ]
    )
    assert table.column("data").to_pylist() == [b"\x00\xff", "héllo".encode(), b'{"a":[1,2.5,null]}', b"5", None]
    assert table.column("data_kind").to_pylist() == ["bytes", "text", "json", "text", None]
    back = from_table(table)
    assert back[3].data == "5" and back[2].data == {"a": [1, 2.5, None]}


def test_uniform_extensions_get_typed_columns_the_others_the_map() -> None:
    batch = [
        CloudEvent(EVENT, n=1, flag=True, blob=b"\x01", at=Timestamp.parse("2020-01-01T00:00:00+01:00"), mixed=1),
        CloudEvent(EVENT, n=2, mixed="one"),  # n still uniform where present; mixed is not
    ]
    assert layout_of(batch) == {"at": "timestamp", "blob": "binary", "flag": "boolean", "n": "integer"}
    table = to_table(batch)
    assert table.schema.field("n").type == pa.int32()
    assert table.schema.field("at_offset").type == pa.int16()
    assert "mixed" not in table.column_names
    maps = table.column("extensions").to_pylist()
    assert maps[0] == [
        (
            "mixed",
            {
                "string": None,
                "integer": 1,
                "boolean": None,
                "binary": None,
                "timestamp": None,
                "nanos": None,
                "offset": None,
            },
        )
    ]
    assert maps[1][0][1]["string"] == "one"
    assert _same(from_table(table), batch)


def test_a_fixed_layout_puts_what_does_not_fit_in_the_map() -> None:
    batch = [CloudEvent(EVENT, n=1), CloudEvent(EVENT, n="x"), CloudEvent(EVENT, other=True)]
    table = to_table(batch, layout={"n": "integer"})
    assert table.column("n").to_pylist() == [1, None, None]
    assert table.schema.equals(schema_for({"n": "integer"}))
    assert _same(from_table(table), batch)
    assert to_table(batch, layout={}).column_names == BASE_SCHEMA.names


def test_an_extension_named_like_a_base_column_travels_in_the_map() -> None:
    event = CloudEvent({**EVENT, "extensions": 5, "schemaurl": "x"})  # schemaurl: an extension in 1.0
    table = to_table([event])
    assert table.schema.names.count("extensions") == 1 and "schemaurl" in table.schema.names
    assert from_table(table)[0] == event


def test_both_spec_versions_share_a_table() -> None:
    batch = [
        CloudEvent(EVENT, dataschema="https://x/s"),
        CloudEvent({**EVENT, "specversion": "0.3"}, dataschema="/rel"),
    ]
    table = to_table(batch)
    assert table.column("dataschema").to_pylist() == ["https://x/s", "/rel"]
    assert _same(from_table(table), batch)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events(), max_size=6), st.booleans())
def test_any_events_come_back_exactly(batch: list[CloudEvent], fixed: bool) -> None:
    table = to_table(batch, layout={} if fixed else None)
    assert _same(from_table(table), batch)
    assert _same(from_table(read_stream(write_stream(table))), batch)


# -- the codec ------------------------------------------------------------------------------------------------------


def test_the_codec_and_a_binding_batch() -> None:
    batch = [CloudEvent(EVENT, b"\x00", n=3), CloudEvent({**EVENT, "id": "2"}, {"k": "v"})]
    raw = encode(batch, "arrow", "batch")
    assert decode(raw, "arrow") == batch
    headers, body = encode(batch, "http", "batch", format="arrow")
    assert headers["content-type"] == "application/cloudevents-batch+arrow"
    assert decode((headers, body), "http") == batch


def test_a_table_or_a_record_batch_decodes_as_it_is() -> None:
    table = to_table([CloudEvent(EVENT, n=1)])
    assert decode(table, "arrow", "batch") == [CloudEvent(EVENT, n=1)]
    assert decode(table.to_batches()[0], "arrow", "batch") == [CloudEvent(EVENT, n=1)]


def test_arrow_is_a_stream_kind_written_in_batches() -> None:
    from cefmt.stream import convert, read_events

    lines = b"".join(encode(CloudEvent({**EVENT, "id": str(n)}), "json") + b"\n" for n in range(250))
    out = b"".join(convert([lines], "json", "arrow"))
    assert [event.id for event in read_events([out], "arrow")] == [str(n) for n in range(250)]
    assert out.count(b"\xff\xff\xff\xff\x00\x00\x00\x00") == 3  # 100 + 100 + 50 events, each batch its own stream


def test_a_lone_surrogate_in_text_data_is_an_encode_error() -> None:
    event = CloudEvent._from_owned(
        {"specversion": "1.0", **EVENT, "datacontenttype": "text/plain"}, "a\ud800", trusted=True
    )
    with pytest.raises(EncodeError, match="lone surrogate"):
        to_table([event])


# -- tables from elsewhere ---------------------------------------------------------------------------------------------


def test_a_foreign_table_with_the_core_columns_only() -> None:
    table = pa.table(
        {
            "id": ["a", "b"],
            "source": ["/s", "/s"],
            "type": ["t", "t"],
            "time": pa.array([0, 1500], pa.timestamp("ns", tz="Europe/Paris")),
            "datacontenttype": ["application/json", None],
            "data": pa.array([b'{"x":1}', b"raw"], pa.large_binary()),
            "region": pa.array(["eu", None]).dictionary_encode(),
            "count": pa.array([5, 6], pa.int64()),
        }
    )
    first, second = from_table(table)
    assert first.data == {"x": 1} and second.data == b"raw"  # no data_kind: the binary-mode body rule
    assert second.time.nanosecond == 500 and second.time.microsecond == 1
    assert first.extensions == {"region": "eu", "count": 5} and second.extensions == {"count": 6}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pa.table({"id": ["1"], "source": ["/s"]}), "needs an 'type' column"),
        (pa.table({"id": [1], "source": ["/s"], "type": ["t"]}), "column 'id' must hold strings"),
        (pa.table({"id": ["1"], "source": ["/s"], "type": ["t"], "Bad": ["x"]}), "not a CloudEvents attribute name"),
        (pa.table({"id": ["1"], "source": ["/s"], "type": ["t"], "f": [1.5]}), "which no CloudEvents type is"),
        (
            pa.table({"id": ["1"], "source": ["/s"], "type": ["t"], "time": pa.array([0], pa.timestamp("us"))}),
            "without a time zone",
        ),
    ],
)
def test_a_table_cefmt_cannot_read_is_refused_naming_the_column(table: pa.Table, message: str) -> None:
    with pytest.raises(MalformedMessageError, match=message):
        from_table(table)


def _row(**columns: Any) -> pa.Table:
    base: dict[str, Any] = {"id": ["1"], "source": ["/s"], "type": ["t"]}
    base.update({name: value if isinstance(value, pa.Array) else pa.array(value) for name, value in columns.items()})
    return pa.table(base)


_MAP = pa.map_(pa.string(), pa.struct([("string", pa.string()), ("integer", pa.int32())]))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (_row(data=pa.array([b"\xff"]), data_kind=["text"]), "not valid UTF-8"),
        (_row(data=pa.array([b"{"]), data_kind=["json"]), "not valid JSON"),
        (_row(data=pa.array([b"x"]), data_kind=["pickle"]), "data_kind must be one of"),
        (_row(data=pa.array([None], pa.binary()), data_kind=["bytes"]), "there is no data"),
        (_row(extensions=pa.array([[("n", {"string": "a", "integer": 1})]], _MAP)), "exactly one of"),
        (_row(n=[1], extensions=pa.array([[("n", {"string": "a", "integer": None})]], _MAP)), "given twice"),
        (_row(time=pa.array([0], pa.timestamp("us", tz="UTC")), time_nanos=pa.array([1000], pa.int16())), "0-999"),
        (_row(time=pa.array([0], pa.timestamp("us", tz="UTC")), time_offset=pa.array([1440], pa.int16())), "±23:59"),
        (_row(time=pa.array([3_000_000 * 86_400_000_000], pa.timestamp("us", tz="UTC"))), "years 1 to 9999"),
        (_row(n=pa.array([2**40], pa.int64())), "n"),
    ],
)
def test_a_bad_row_is_an_error_naming_the_row(table: pa.Table, message: str) -> None:
    with pytest.raises(cefmt.CloudEventError, match=message) as caught:
        from_table(table)
    assert str(caught.value).startswith("row 0")
    assert [type(item).__name__ for item in decode_rows(table)] == [type(caught.value).__name__]


def test_decode_rows_keeps_going_past_a_bad_row() -> None:
    table = pa.table({"id": ["1", "", "3"], "source": ["/s"] * 3, "type": ["t"] * 3})
    items = list(decode_rows(table))
    assert [type(item).__name__ for item in items] == ["CloudEvent", "InvalidAttributeError", "CloudEvent"]
    assert str(items[1]).startswith("row 1")


# -- hostile streams and limits -------------------------------------------------------------------------------------------


def test_limits_are_checked_before_the_work() -> None:
    raw = encode([CloudEvent({**EVENT, "id": str(n)}) for n in range(5)], "arrow", "batch")
    with pytest.raises(LimitExceededError, match="batch length 5 exceeds the limit of 4"):
        decode(raw, "arrow", limits=Limits(max_batch_length=4))
    with pytest.raises(LimitExceededError, match="size of Arrow IPC stream"):
        decode(raw, "arrow", limits=Limits(max_message_bytes=len(raw) - 1))
    many = encode([CloudEvent(EVENT, **{f"x{n}": n for n in range(10)})], "arrow", "batch")
    with pytest.raises(LimitExceededError, match="attribute count 14 exceeds the limit of 13"):
        decode(many, "arrow", limits=Limits(max_attribute_count=13))
    deep = encode([CloudEvent(EVENT, {"a": [[[[1]]]]})], "arrow", "batch")
    with pytest.raises(LimitExceededError, match="nesting depth"):
        decode(deep, "arrow", limits=Limits(max_nesting_depth=3))


def test_the_row_count_is_read_from_the_headers_before_any_batch() -> None:
    table = pa.table({"id": ["1"] * 3, "source": ["/s"] * 3, "type": ["t"] * 3})
    raw = bytearray(write_stream(table))
    # Claim 10**12 rows in the record batch header: refused from the header, nothing is read.
    at = bytes(raw).index(struct.pack("<q", 3))
    raw[at : at + 8] = struct.pack("<q", 10**12)
    with pytest.raises(LimitExceededError, match="batch length 1000000000000"):
        read_stream(bytes(raw))


def test_a_compressed_stream_is_refused() -> None:
    table = pa.table({"id": ["1"], "source": ["/s"], "type": ["t"]})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    with pytest.raises(MalformedMessageError, match="compressed body"):
        decode(sink.getvalue().to_pybytes(), "arrow")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty message"),
        (b"\x00\x00", "not a valid Arrow IPC stream"),
        (write_stream(pa.table({"id": ["1"], "source": ["/s"], "type": ["t"]})) + b"junk", "bytes after its end"),
        ("text", "must be bytes"),
    ],
)
def test_broken_streams_are_malformed_messages(raw: Any, message: str) -> None:
    with pytest.raises(MalformedMessageError, match=message):
        decode(raw, "arrow", "batch")


def test_an_offset_pointing_outside_the_body_is_caught_by_validation() -> None:
    raw = bytearray(write_stream(pa.table({"id": ["abc"], "source": ["/s"], "type": ["t"]})))
    # The offsets buffer of the first string column ends with 3 ("abc"): make it point far past the data.
    at = bytes(raw).rindex(struct.pack("<i", 3) + b"\x00" * 4)
    raw[at : at + 4] = struct.pack("<i", 1 << 30)
    with pytest.raises(MalformedMessageError):
        decode(bytes(raw), "arrow")


def test_timezones_of_datetimes_that_are_not_timestamps() -> None:
    from datetime import datetime

    moment = datetime(2020, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=-3)))
    event = CloudEvent(EVENT, time=moment, at=moment)
    assert from_table(to_table([event]))[0] == event
