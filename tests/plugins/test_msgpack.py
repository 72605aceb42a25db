"""The msgpack event format: exact round trips (types, nanoseconds, UTC offsets), the documented wire
layout, use from HTTP and Kafka structured modes, and bounded decoding of hostile input."""

from __future__ import annotations

import contextlib
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cefmt import (
    CloudEvent,
    CloudEventError,
    EncodeError,
    InvalidAttributeError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    Timestamp,
    UnsupportedSpecVersionError,
    decode,
    encode,
)
from cefmt_plugins.msgpack_format import ZONED_TIMESTAMP_EXT
from tests.strategies import events

_SETTINGS = settings(max_examples=200, deadline=None)


def _same_offsets(left: CloudEvent, right: CloudEvent) -> bool:
    """Equality compares instants; the wire must also keep each Timestamp's UTC offset."""
    pairs = [(left.time, right.time), *((v, right.extensions[n]) for n, v in left.extensions.items())]
    return all(str(a) == str(b) for a, b in pairs if isinstance(a, Timestamp))


@_SETTINGS
@given(events())
def test_structured_round_trip_keeps_every_type(event: CloudEvent) -> None:
    raw = encode(event, "msgpack")
    assert isinstance(raw, bytes)
    decoded = decode(raw, "msgpack")
    assert decoded == event  # no extension_types needed: msgpack carries the types
    assert _same_offsets(decoded, event)


@_SETTINGS
@given(st.sampled_from(["1.0", "0.3"]).flatmap(lambda v: st.lists(events(specversion=v), max_size=5)))
def test_batch_round_trip(batch: list[CloudEvent]) -> None:
    decoded = decode(encode(batch, "msgpack", "batch"), "msgpack")
    assert isinstance(decoded, list) and len(decoded) == len(batch)
    assert all(d == e for d, e in zip(decoded, batch, strict=True))


@_SETTINGS
@given(events())
def test_works_in_http_and_kafka_structured_mode(event: CloudEvent) -> None:
    http = encode(event, "http", "structured", format="msgpack")
    assert http.headers == {"content-type": "application/cloudevents+msgpack"}
    assert decode(http, "http") == event
    kafka = encode(event, "kafka", "structured", format="msgpack")
    assert decode(kafka, "kafka") == event


def test_http_batch_mode_uses_the_batch_media_type() -> None:
    batch = [CloudEvent(id=str(i), source="/s", type="t", data=b"x" * i) for i in range(3)]
    message = encode(batch, "http", "batch", format="msgpack")
    assert message.headers == {"content-type": "application/cloudevents-batch+msgpack"}
    assert decode(message, "http") == batch


# -- the documented layout (docs/formats/msgpack.md) -------------------------------------------------------


def test_layout_uses_json_member_names_and_native_types() -> None:
    event = CloudEvent(
        {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "subject": "Grüße"},
        b"\x00\xff",
        datacontenttype="application/octet-stream",
        time="2020-01-02T03:04:05.123456789Z",
        count=7, flag=False, blob=b"\x01", note="ünï",
    )  # fmt: skip
    doc = msgpack.unpackb(encode(event, "msgpack"), timestamp=0)
    assert doc == {
        "specversion": "1.0", "id": "1", "source": "/s", "type": "t", "subject": "Grüße",
        "datacontenttype": "application/octet-stream",
        "time": msgpack.Timestamp(1577934245, 123456789),
        "count": 7, "flag": False, "blob": b"\x01", "note": "ünï",
        "data": b"\x00\xff",
    }  # fmt: skip
    assert "data_base64" not in doc


def test_spec_0_3_writes_schemaurl() -> None:
    event = CloudEvent(specversion="0.3", id="1", source="/s", type="t", schemaurl="/x", data={"a": 1})
    doc = msgpack.unpackb(encode(event, "msgpack"))
    assert doc["schemaurl"] == "/x" and "dataschema" not in doc and doc["data"] == {"a": 1}


def test_a_utc_timestamp_is_msgpack_timestamp_readable_by_anyone() -> None:
    raw = encode(CloudEvent(id="1", source="/s", type="t", time="1969-12-31T23:59:59.000000001Z"), "msgpack")
    plain = msgpack.unpackb(raw, timestamp=0)["time"]
    assert plain == msgpack.Timestamp(-1, 1)
    assert str(decode(raw, "msgpack").time) == "1969-12-31T23:59:59.000000001Z"


def test_an_offset_timestamp_uses_the_zoned_extension_and_keeps_its_offset() -> None:
    event = CloudEvent(id="1", source="/s", type="t", time="2018-04-05T17:31:00.000000123+02:00")
    ext = msgpack.unpackb(encode(event, "msgpack"))["time"]
    assert ext.code == ZONED_TIMESTAMP_EXT and len(ext.data) == 14
    assert ext.data[:2] == (120).to_bytes(2, "big", signed=True)
    assert str(decode(encode(event, "msgpack"), "msgpack").time) == "2018-04-05T17:31:00.000000123+02:00"


_ZONES = st.sampled_from([timezone.utc, timezone(timedelta(minutes=-330)), timezone(timedelta(hours=14))])


@given(st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=_ZONES), st.integers(0, 999))
def test_every_instant_is_written_as_the_calendar_says(moment: datetime, nanosecond: int) -> None:
    stamp = Timestamp(*moment.timetuple()[:6], moment.microsecond, moment.tzinfo, nanosecond=nanosecond)
    written = msgpack.unpackb(encode(CloudEvent(id="1", source="/s", type="t", time=stamp), "msgpack"), timestamp=0)
    utc = moment.astimezone(timezone.utc).replace(tzinfo=None)
    seconds = (utc - datetime(1970, 1, 1)) // timedelta(seconds=1)
    nanos = utc.microsecond * 1000 + nanosecond
    offset = moment.utcoffset() // timedelta(minutes=1)  # type: ignore[operator]
    if offset == 0:
        assert written["time"] == msgpack.Timestamp(seconds, nanos)
    else:
        assert written["time"].data == struct.pack(">hIq", offset, nanos, seconds)
    assert decode(encode(CloudEvent(id="1", source="/s", type="t", time=stamp), "msgpack"), "msgpack").time == stamp


def test_threads_each_pack_their_own_events() -> None:
    # The plugin keeps one msgpack packer per thread: events packed at once in many threads come out whole.
    events = [CloudEvent(id=str(n), source="/s", type="t", data={"n": "x" * n}) for n in range(200)]
    expected = [encode(event, "msgpack") for event in events]
    with ThreadPoolExecutor(8) as pool:
        for _ in range(5):
            assert list(pool.map(lambda event: encode(event, "msgpack"), events)) == expected


def test_after_data_that_cannot_be_packed_the_next_event_packs_whole() -> None:
    good = CloudEvent(id="1", source="/s", type="t", data={"a": 1})
    with pytest.raises(EncodeError):
        encode(CloudEvent(id="2", source="/s", type="t", data={"a": [1, 2**70]}), "msgpack")
    assert decode(encode(good, "msgpack"), "msgpack") == good


def test_a_hand_written_document_decodes() -> None:
    raw = msgpack.packb(
        {"specversion": "1.0", "id": "x", "source": "urn:a", "type": "t", "time": msgpack.Timestamp(0, 5),
         "n": -5, "data": [1, "two", {"three": 3.0}]}, datetime=False)  # fmt: skip
    event = decode(raw, "msgpack")
    assert event.time == Timestamp.parse("1970-01-01T00:00:00.000000005Z")
    assert event.extensions["n"] == -5 and event.data == [1, "two", {"three": 3.0}]
    assert event.datacontenttype == "application/json"


# -- encoding what msgpack must refuse ---------------------------------------------------------------------


@pytest.mark.parametrize("data", [{1: "int key"}, {"a": float("nan")}, float("inf"), 2**70, {"deep": [{"x": 2**64}]}])
def test_encoding_data_that_is_not_a_json_value_is_a_cefmt_error(data: Any) -> None:
    with pytest.raises((EncodeError, InvalidAttributeError)):
        encode(CloudEvent(id="1", source="/s", type="t", data=data), "msgpack")


# -- hostile input -----------------------------------------------------------------------------------------


def _doc(**members: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", **members}


_HOSTILE: list[tuple[bytes, str]] = [
    (b"", "empty"),
    (msgpack.packb(_doc())[:-3], "cannot be read"),
    (msgpack.packb(_doc()) + b"\x00", "after its end"),
    (b"\xc1", "not valid msgpack"),  # the one byte msgpack never uses
    (b"\x91" * 100_000 + b"\x80", "nesting depth"),
    (b"\xdb\xff\xff\xff\xff" + b"a" * 10, "cannot be read"),  # a str claiming 4 GiB
    (b"\xc6\xff\xff\xff\xff", "cannot be read"),  # a bin claiming 4 GiB
    (b"\xdd\xff\xff\xff\xff", "cannot be read"),  # an array claiming 4 billion items
    (b"\xdf\xff\xff\xff\xff", "attribute count 4294967295"),  # a map claiming 4 billion pairs
    (b"\x81\xa1a\xa2\xff\xfe", "UTF-8"),
    (msgpack.packb({1: 2}), "cannot be read"),  # strict_map_key
    (msgpack.packb([1]), "msgpack map"),
    (msgpack.packb("x"), "msgpack map"),
    (msgpack.packb(_doc(x=msgpack.ExtType(42, b"zz"))), "extension type 42"),
    (msgpack.packb(_doc(time=msgpack.ExtType(ZONED_TIMESTAMP_EXT, b"\x00"))), "zoned timestamp"),
    (msgpack.packb(_doc(time=msgpack.ExtType(ZONED_TIMESTAMP_EXT, b"\x7f\xff" + b"\x00" * 12))), "out of range"),
    (msgpack.packb(_doc(time=msgpack.Timestamp(2**62, 0)), datetime=False), "cannot be read|out of range|time"),
    (msgpack.packb(_doc(data={"a": b"nested bin"})), "only top-level"),
    (msgpack.packb(_doc(data={b"k": 1})), "not a string"),
    (msgpack.packb(_doc(data=[float("nan")])), "NaN"),
    (msgpack.packb(_doc(data=msgpack.Timestamp(1, 0)), datetime=False), "cannot be a Timestamp"),
    (msgpack.packb(_doc(x=1.5)), "float"),
    (msgpack.packb(_doc(x=[1])), "must be a String"),
    (msgpack.packb(_doc(id=5)), "id"),
    (msgpack.packb(_doc(specversion="9.9")), "specversion"),
    (msgpack.packb({"specversion": "1.0", "id": "1", "source": "/s"}), "type"),
    (msgpack.packb(_doc(specversion="0.3", datacontentencoding="gzip")), "datacontentencoding"),
]


@pytest.mark.parametrize(("raw", "match"), _HOSTILE)
def test_hostile_events_raise_cefmt_errors_fast(raw: bytes, match: str) -> None:
    started = time.monotonic()
    with pytest.raises(CloudEventError, match=match) as info:
        decode(raw, "msgpack", "structured")
    assert isinstance(info.value, (MalformedMessageError, InvalidAttributeError, UnsupportedSpecVersionError))
    assert time.monotonic() - started < 5  # a bound, not a speed claim: it must not hang or allocate GiBs


def test_size_limit_is_checked_before_unpacking() -> None:
    raw = encode(CloudEvent(id="1", source="/s", type="t", data=b"x" * 1000), "msgpack")
    with pytest.raises(LimitExceededError) as info:
        decode(raw, "msgpack", limits=Limits(max_message_bytes=100))
    assert (info.value.limit, info.value.value, info.value.maximum) == ("size of msgpack event", len(raw), 100)
    assert decode(raw, "msgpack", limits=Limits(max_message_bytes=len(raw))).data == b"x" * 1000
    # Not msgpack at all: a LimitExceededError proves nothing was unpacked first.
    for mode in ("structured", "batch"):
        with pytest.raises(LimitExceededError, match=f"size of msgpack {'event' if mode == 'structured' else mode}"):
            decode(b"\xc1" * 101, "msgpack", mode, limits=Limits(max_message_bytes=100))


def test_max_size_is_shorthand_for_max_message_bytes() -> None:
    raw = encode(CloudEvent(id="1", source="/s", type="t", data=b"x" * 1000), "msgpack")
    with pytest.raises(LimitExceededError) as info:
        decode(raw, "msgpack", max_size=100)
    assert info.value.maximum == 100 and info.value.value == len(raw)
    assert decode(raw, "msgpack", max_size=len(raw)).data == b"x" * 1000
    # max_size replaces only the size in the limits it comes with.
    assert decode(raw, "msgpack", max_size=len(raw), limits=Limits(max_message_bytes=10)).data == b"x" * 1000
    with pytest.raises(LimitExceededError, match="attribute count"):
        decode(raw, "msgpack", max_size=len(raw), limits=Limits(max_attribute_count=2))
    with pytest.raises(InvalidAttributeError, match="max_message_bytes"):
        decode(raw, "msgpack", max_size=0)


@pytest.mark.parametrize(
    "header",
    [b"\x93", b"\xdc\x00\x03", b"\xdd\x00\x00\x00\x03", b"\xdd\xff\xff\xff\xff"],
    ids=["fixarray", "array16", "array32", "array32-huge"],
)
def test_batch_length_is_read_from_the_header_before_unpacking(header: bytes) -> None:
    # The items are the byte msgpack never uses: unpacking them would be a format error instead.
    with pytest.raises(LimitExceededError, match="batch length") as info:
        decode(header + b"\xc1" * 3, "msgpack", "batch", limits=Limits(max_batch_length=2))
    assert info.value.value >= 3


def test_batch_length_limit_admits_a_batch_at_the_limit() -> None:
    raw = encode([CloudEvent(id=str(i), source="/s", type="t") for i in range(3)], "msgpack", "batch")
    assert len(decode(raw, "msgpack", limits=Limits(max_batch_length=3))) == 3
    with pytest.raises(LimitExceededError, match="batch length 3 exceeds the limit of 2"):
        decode(raw, "msgpack", limits=Limits(max_batch_length=2))


def test_attribute_count_is_checked_before_unpacking_and_per_batch_item() -> None:
    with pytest.raises(LimitExceededError, match="attribute count 300 exceeds the limit of 256"):
        decode(b"\xde\x01\x2c" + b"\xc1" * 10, "msgpack", "structured")  # a map16 header, then garbage
    doc = _doc(**{f"x{i}": "v" for i in range(300)})
    with pytest.raises(LimitExceededError, match="attribute count 304"):
        decode(msgpack.packb(doc), "msgpack", "structured")
    assert len(decode(msgpack.packb(doc), "msgpack", limits=Limits(max_attribute_count=304)).extensions) == 300
    with pytest.raises(LimitExceededError, match="batch item 1: attribute count 304"):
        decode(msgpack.packb([_doc(), doc]), "msgpack", "batch")


def _nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 45))
def test_nesting_depth_counts_as_the_json_format_does(depth: int, limit: int) -> None:
    event = CloudEvent(id="1", source="/s", type="t", data=_nested(depth))
    limits = Limits(max_nesting_depth=limit)
    outcomes = []
    for fmt in ("json", "msgpack"):
        try:
            outcomes.append(decode(encode(event, fmt), fmt, limits=limits).data == event.data)
        except LimitExceededError as exc:
            outcomes.append(exc.value)
    # The event map is one level, as the JSON object is: both formats agree on the depth found.
    assert outcomes[0] == outcomes[1] == (True if depth + 1 <= limit else depth + 1)


def test_deep_data_is_refused_at_the_default_limit_and_in_a_batch_with_its_position() -> None:
    deep = CloudEvent(id="1", source="/s", type="t", data=_nested(200))
    with pytest.raises(LimitExceededError, match="msgpack nesting depth 201 exceeds the limit of 128"):
        decode(encode(deep, "msgpack"), "msgpack")
    assert decode(encode(deep, "msgpack"), "msgpack", limits=Limits(max_nesting_depth=201)).data == deep.data
    batch = encode([CloudEvent(id="0", source="/s", type="t"), deep], "msgpack", "batch")
    with pytest.raises(LimitExceededError, match="batch item 1: msgpack nesting depth 202"):
        decode(batch, "msgpack")
    # Deeper than msgpack's own unpacker stack: refused as over the limit, not as a foreign error.
    with pytest.raises(MalformedMessageError, match="nested too deeply"):
        decode(b"\x91" * 2000 + b"\x80", "msgpack", "batch", limits=Limits(max_nesting_depth=5000))


def test_bindings_pass_limits_on_to_the_msgpack_format() -> None:
    event = CloudEvent(id="1", source="/s", type="t", data=_nested(5))
    limits = Limits(max_nesting_depth=3)
    for transport in ("http", "kafka"):
        message = encode(event, transport, "structured", format="msgpack")
        assert decode(message, transport).data == event.data
        with pytest.raises(LimitExceededError, match="msgpack nesting depth 6"):
            decode(message, transport, limits=limits)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (msgpack.packb(_doc()), "must be an array"),
        (msgpack.packb([_doc(), "x"]), "batch item 1"),
        (msgpack.packb([_doc(), _doc(id=None)]), "batch item 1"),
        (msgpack.packb([_doc(), _doc(specversion="0.3")]), "one specversion"),
    ],
)
def test_hostile_batches(raw: bytes, match: str) -> None:
    with pytest.raises(CloudEventError, match=match):
        decode(raw, "msgpack", "batch")


def test_non_bytes_input_is_a_cefmt_error() -> None:
    with pytest.raises(MalformedMessageError, match="must be bytes"):
        decode("text", "msgpack", "structured")


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_as_foreign_errors(raw: bytes) -> None:
    for mode in ("structured", "batch"):
        with contextlib.suppress(CloudEventError):
            decode(raw, "msgpack", mode)


@settings(max_examples=300, deadline=None)
@given(events(), st.data())
def test_corrupted_events_never_escape_as_foreign_errors(event: CloudEvent, data: st.DataObject) -> None:
    raw = bytearray(encode(event, "msgpack"))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    with contextlib.suppress(CloudEventError):
        decode(bytes(raw[:cut]), "msgpack", "structured")
