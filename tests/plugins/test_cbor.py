"""The CBOR event format plugin: the draft's mapping read with cbor2 alone, data items, bounds, hostile input.

Round trips, conversion and garbage for every binding come from ``tests/hardening`` (the VIEWS row).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cefmt import (
    CloudEvent,
    CloudEventError,
    InvalidAttributeError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    Timestamp,
    decode,
    encode,
)
from tests.strategies import events

REQUIRED = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


def _doc(**members: Any) -> bytes:
    return cbor2.dumps({**REQUIRED, **members})


# -- what cefmt writes, read with cbor2 alone ------------------------------------------------------------------


def test_attributes_are_native_cbor_types_with_tags_0_and_32() -> None:
    event = CloudEvent(
        {"id": "1", "source": "https://example.com/a", "type": "t", "dataschema": "urn:s", "subject": "sü"},
        b"\x00\xff",
        time="2020-01-02T03:04:05.123456789+02:00",
        count=-7, flag=False, blob=b"\x01", note="n", when=Timestamp.parse("1970-01-01T00:00:00Z"),
    )  # fmt: skip
    doc = cbor2.loads(encode(event, "cbor"), semantic_decoders={0: lambda value, immutable: ("tag0", value)})
    assert doc == {
        "specversion": "1.0", "id": "1", "source": cbor2.CBORTag(32, "https://example.com/a"), "type": "t",
        "dataschema": cbor2.CBORTag(32, "urn:s"), "subject": "sü",
        "time": ("tag0", "2020-01-02T03:04:05.123456789+02:00"),
        "count": -7, "flag": False, "blob": b"\x01", "note": "n", "when": ("tag0", "1970-01-01T00:00:00Z"),
        "data": b"\x00\xff",
    }  # fmt: skip


def test_json_data_is_its_json_text_and_text_is_a_text_string() -> None:
    as_json = cbor2.loads(encode(CloudEvent(REQUIRED, {"a": [1, 2.5]}), "cbor"))
    assert as_json["datacontenttype"] == "application/json" and as_json["data"] == '{"a":[1,2.5]}'
    json_string = cbor2.loads(encode(CloudEvent(REQUIRED, "hi"), "cbor"))
    assert json_string["data"] == '"hi"'  # a JSON string under application/json: its JSON text
    text = cbor2.loads(encode(CloudEvent(REQUIRED, "hi", datacontenttype="text/plain"), "cbor"))
    assert text["data"] == "hi"


def test_cbor_content_is_embedded_as_a_data_item_and_read_back_byte_for_byte() -> None:
    item = cbor2.dumps({1: [b"x", cbor2.CBORTag(35, "a+")], "k": None})  # COSE-style keys, a regex tag
    event = CloudEvent(REQUIRED, item, datacontenttype="application/senml+cbor")
    raw = encode(event, "cbor")
    outer = cbor2.loads(raw, semantic_decoders={35: lambda value, immutable: ("regex", value)})
    assert outer["data"] == {1: [b"x", ("regex", "a+")], "k": None}  # an item, not a byte string
    decoded = decode(raw, "cbor")
    assert decoded.data == item and decoded == event  # nothing in it was interpreted
    # Bytes that are not one whole item, or are a string item, stay a byte string.
    for data in (b"\xff\x00", item + b"\x00", cbor2.dumps("text"), cbor2.dumps(b"bin")):
        raw = encode(CloudEvent(REQUIRED, data, datacontenttype="application/cbor"), "cbor")
        assert cbor2.loads(raw)["data"] == data
        assert decode(raw, "cbor").data == data


# -- what other producers write ------------------------------------------------------------------------------


def test_untagged_strings_are_accepted_for_timestamps_and_uris() -> None:
    event = decode(_doc(time="2020-01-01T00:00:00.000000001Z", dataschema="urn:x"), "cbor")
    assert event.time == Timestamp.parse("2020-01-01T00:00:00.000000001Z") and event.dataschema == "urn:x"


def test_a_tag_0_extension_is_a_timestamp_with_nanoseconds_and_offset() -> None:
    event = decode(_doc(at=cbor2.CBORTag(0, "2018-04-05T17:31:00.000000123+05:30")), "cbor")
    assert str(event["at"]) == "2018-04-05T17:31:00.000000123+05:30"


def test_data_without_datacontenttype_is_cbor_content_made_explicit() -> None:
    # Section 3.1.2: decode as if application/cbor, and set it explicitly for other formats.
    event = decode(_doc(data={"x": [1, 2]}), "cbor")
    assert event.datacontenttype == "application/cbor"
    assert event.data == cbor2.dumps({"x": [1, 2]})
    text = decode(_doc(data="hello"), "cbor")
    assert (text.data, text.datacontenttype) == ("hello", "application/cbor")
    binary = decode(_doc(data=b"\x00"), "cbor")
    assert (binary.data, binary.datacontenttype) == (b"\x00", None)
    null = decode(_doc(data=None), "cbor")
    assert null.data is None  # null counts as absent, for data as for attributes


def test_json_data_written_as_cbor_items_is_read_as_the_json_value() -> None:
    event = decode(_doc(datacontenttype="application/json", data={"a": [1, 2.5, None, True]}), "cbor")
    assert CloudEvent(event.get_attributes(), event.data) == CloudEvent(
        event.get_attributes(), {"a": [1, 2.5, None, True]}
    )


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"a": b"bytes"}, "no JSON value"),
        ({"a": float("nan")}, "NaN"),
        ({1: "int key"}, "cannot be read"),
        ({"a": cbor2.CBORTag(99, 1)}, "no JSON value"),
    ],
)
def test_json_data_that_is_no_json_value_is_refused(data: Any, match: str) -> None:
    with pytest.raises(CloudEventError, match=match):
        decode(_doc(datacontenttype="application/json", data=data), "cbor")


def test_other_content_types_take_a_text_or_byte_string_only() -> None:
    assert decode(_doc(datacontenttype="text/plain", data="x"), "cbor").data == "x"
    with pytest.raises(MalformedMessageError, match="must be a text or byte string, got an array"):
        decode(_doc(datacontenttype="text/plain", data=[1]), "cbor")


def test_the_self_described_cbor_prefix_is_accepted() -> None:
    assert decode(b"\xd9\xd9\xf7" + _doc(), "cbor").id == "1"


def test_indefinite_lengths_are_read() -> None:
    raw = b"\xbf" + b"".join(cbor2.dumps(k) + cbor2.dumps(v) for k, v in REQUIRED.items())
    raw += b"\x64data\x5f\x41a\x41b\xff" + b"\xff"  # an indefinite byte string "ab"
    assert decode(raw, "cbor").data == b"ab"


def test_spec_0_3() -> None:
    event = CloudEvent(specversion="0.3", id="1", source="/s", type="t", schemaurl="/rel", data=b"\x01")
    doc = cbor2.loads(encode(event, "cbor"))
    assert doc["schemaurl"] == cbor2.CBORTag(32, "/rel")
    assert decode(encode(event, "cbor"), "cbor") == event
    base64 = cbor2.dumps({**REQUIRED, "specversion": "0.3", "datacontentencoding": "base64", "data": "TWE="})
    assert decode(base64, "cbor").data == b"Ma"


# -- hostile input and limits -------------------------------------------------------------------------------


_HOSTILE: list[tuple[bytes, str]] = [
    (b"", "empty"),
    (b"\x80", "must be a map"),
    (b"\xb8", "not well-formed"),  # found by fuzzing: a map whose count is cut off
    (b"\xb9\x00", "not well-formed"),
    (_doc()[:-2], "not well-formed"),
    (_doc() + b"\x00", "after its end"),
    (b"\xa1\x1c", "not well-formed"),  # additional information 28 is reserved
    (b"\xa1\x61a\x5b\xff\xff\xff\xff\xff\xff\xff\xff", "runs past the end"),
    (b"\xa1\x61a\x9b\x00\xff\xff\xff\xff\xff\xff\xff", "more than the message holds"),
    (b"\xbb\x00\x00\x00\x01\x00\x00\x00\x00", "attribute count"),
    (b"\xa1\x61a" + b"\x81" * 300 + b"\x00", "nesting depth"),
    (b"\xa1\x61a" + b"\xc1" * 300 + b"\x00", "nesting depth"),  # tags count as levels
    (b"\xa1\x61a\xff", "closes nothing"),
    (b"\xa1\x61a\x5f\x61x\xff", "chunk of another kind"),
    (_doc(x=cbor2.CBORTag(35, "(a+)+$")), "tag 35"),  # a regular expression is never compiled
    (_doc(x=cbor2.CBORTag(28, [1])), "tag 28"),  # shared references are never followed
    (_doc(x=cbor2.CBORTag(29, 0)), "tag 29"),
    (_doc(x=cbor2.CBORTag(36, "MIME")), "tag 36"),
    (_doc(x=cbor2.CBORTag(1, 0)), "tag 1"),
    (_doc(x=1.5), "float"),
    (_doc(x=[1]), "list"),
    (_doc(time=cbor2.CBORTag(0, "lunchtime")), "RFC 3339"),
    (_doc(at=cbor2.CBORTag(0, "lunchtime")), "attribute 'at'"),
    (b"\xa5" + _doc()[1:] + b"\x62id\x61x", "appears more than once"),
    (cbor2.dumps({1: "x", **REQUIRED}), "member names are text strings"),
    (b"\xa1\x61a\x62\xff\xfe", "UTF-8"),
    (_doc(id=5), "id"),
    (_doc(specversion="9.9"), "specversion"),
    (_doc(specversion="0.3", datacontentencoding="gzip"), "datacontentencoding"),
]


@pytest.mark.parametrize(("raw", "match"), _HOSTILE)
def test_hostile_events_raise_cefmt_errors_fast(raw: bytes, match: str) -> None:
    started = time.monotonic()
    with pytest.raises(CloudEventError, match=match):
        decode(raw, "cbor")
    assert time.monotonic() - started < 5  # a bound, not a speed claim


def test_size_is_checked_before_anything_is_read() -> None:
    with pytest.raises(LimitExceededError, match="size of CBOR event 101 exceeds the limit of 100"):
        decode(b"\xff" * 101, "cbor", limits=Limits(max_message_bytes=100))


def test_containers_are_counted_before_cbor2_builds_them() -> None:
    # Four million empty arrays: 4 MB of CBOR, hundreds of MB as Python lists.
    raw = b"\xa1\x64data\x9a\x00\x3d\x09\x00" + b"\x80" * 4_000_000
    started = time.monotonic()
    with pytest.raises(LimitExceededError, match="container count 100001 exceeds the limit of 100000"):
        decode(raw, "cbor")
    assert time.monotonic() - started < 10
    small = b"\xa1\x64data\x83\x80\x80\x80"
    with pytest.raises(LimitExceededError, match="container count"):
        decode(small, "cbor", limits=Limits(max_container_count=3))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(2, 32))
def test_nesting_depth_counts_as_the_json_format_does(depth: int, limit: int) -> None:
    data: Any = 1
    for level in range(depth):
        data = [data] if level % 2 else {"k": data}
    event = CloudEvent(REQUIRED, cbor2.dumps(data), datacontenttype="application/cbor")
    outcome: Any
    try:
        outcome = decode(encode(event, "cbor"), "cbor", limits=Limits(max_nesting_depth=limit)) == event
    except LimitExceededError as exc:
        outcome = exc.value
    assert outcome == (True if depth + 1 <= limit else limit + 1)


def test_bindings_pass_limits_to_the_format() -> None:
    event = CloudEvent(REQUIRED, cbor2.dumps([[[1]]]), datacontenttype="application/cbor")
    for transport in ("http", "kafka"):
        message = encode(event, transport, "structured", format="cbor")
        assert decode(message, transport) == event
        with pytest.raises(LimitExceededError, match="CBOR nesting depth"):
            decode(message, transport, limits=Limits(max_nesting_depth=2))


def test_http_structured_mode_uses_the_cbor_media_type() -> None:
    message = encode(CloudEvent(REQUIRED, b"x"), "http", "structured", format="cbor")
    assert message.headers == {"content-type": "application/cloudevents+cbor"}
    assert decode(message, "http").data == b"x"


def test_encoding_refuses_what_cbor_cannot_carry_with_a_cefmt_error() -> None:
    with pytest.raises(CloudEventError, match="lone surrogate"):
        encode(CloudEvent(REQUIRED, "a\ud800", datacontenttype="text/plain"), "cbor")


@settings(max_examples=300, deadline=None)
@given(events(), st.data())
def test_corrupted_events_never_escape_as_foreign_errors(event: CloudEvent, data: st.DataObject) -> None:
    raw = bytearray(encode(event, "cbor"))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    with contextlib.suppress(CloudEventError):
        decode(bytes(raw[:cut]), "cbor")


@settings(max_examples=200, deadline=None)
@given(events())
def test_round_trip_keeps_every_type_and_offset(event: CloudEvent) -> None:
    decoded = decode(encode(event, "cbor"), "cbor")
    assert decoded == event
    assert str(decoded.time) == str(event.time)
    assert all(str(decoded[name]) == str(value) for name, value in event.extensions.items())


def test_invalid_attribute_errors_name_the_attribute() -> None:
    with pytest.raises(InvalidAttributeError) as info:
        decode(_doc(count=2**40), "cbor")
    assert info.value.attribute == "count"
