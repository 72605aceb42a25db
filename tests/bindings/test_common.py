"""What the binding plugins share (``cefmt_plugins.common``): percent-encoding, AMQP timestamps, typed
values in captures, header shapes, sizes checked before copies."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cefmt import EncodeError, LimitExceededError, Limits, MalformedMessageError, Timestamp
from cefmt.codec import percent_decode, percent_encode
from cefmt_plugins.common import (
    counted_items,
    header_dict,
    millis_to_timestamp,
    sized_body,
    structured_format,
    timestamp_to_millis,
    typed_from_json,
    typed_to_json,
)
from tests.strategies import timestamps


@given(st.text())
def test_percent_encoding_gives_printable_ascii_and_decodes_back(text: str) -> None:
    text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")  # valid Unicode only
    encoded = percent_encode(text)
    assert all(0x21 <= ord(c) <= 0x7E and c not in ' "' for c in encoded)
    assert percent_decode(encoded, "h") == text


def test_percent_encoding_follows_the_spec_example() -> None:
    assert percent_encode("Euro \u20ac \U0001f600") == "Euro%20%E2%82%AC%20%F0%9F%98%80"
    assert percent_decode("%41%e2%82%ac", "h") == "A€"  # unnecessary encoding and lower-case hex are accepted


@pytest.mark.parametrize(
    ("value", "match"),
    [("%4", "two hex"), ("%zz", "two hex"), ("%C0%A0", "not valid UTF-8"), ('"a', "unterminated"),
     ('"a\\"', "ends in a backslash"), ('"a"b"', "unescaped quote")],
)  # fmt: skip
def test_bad_header_values_are_refused_naming_the_header(value: str, match: str) -> None:
    with pytest.raises(MalformedMessageError, match=f"header 'ce-x'.*{match}"):
        percent_decode(value, "header 'ce-x'")


@given(timestamps())
def test_amqp_timestamps_hold_exactly_the_utc_times_in_whole_milliseconds(stamp: Timestamp) -> None:
    millis = timestamp_to_millis(stamp)
    exact = stamp.utcoffset().total_seconds() == 0 and stamp.microsecond % 1000 == 0 and stamp.nanosecond == 0  # type: ignore[union-attr]
    assert (millis is not None) == exact
    if millis is not None:
        back = millis_to_timestamp(millis, "p")
        assert back == stamp and str(back) == str(stamp)


def test_a_timestamp_out_of_range_is_refused() -> None:
    with pytest.raises(MalformedMessageError, match="out of range"):
        millis_to_timestamp(2**62, "property 'x'")


@given(st.none() | st.booleans() | st.integers() | st.text() | st.binary() | timestamps())
def test_typed_values_round_trip_through_json(value: Any) -> None:
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    back = typed_from_json(typed_to_json(value, "p"), "p")
    assert back == value and type(back) is (Timestamp if isinstance(value, Timestamp) else type(value))


def test_a_value_without_a_json_form_is_an_encode_error() -> None:
    with pytest.raises(EncodeError, match="list"):
        typed_to_json([1], "property 'x'")
    from datetime import datetime

    with pytest.raises(EncodeError, match="UTC offset"):
        typed_to_json(datetime(2020, 1, 1), "property 'x'")


def test_headers_as_pairs_must_not_repeat_a_name() -> None:
    assert header_dict([("a", "1"), ("b", "2")], "headers") == {"a": "1", "b": "2"}
    with pytest.raises(MalformedMessageError, match="'a' appears more than once"):
        header_dict([("a", "1"), ("a", "2")], "headers")
    with pytest.raises(MalformedMessageError, match="pairs"):
        header_dict([("a", "1", "x")], "headers")


def test_headers_are_counted_before_they_are_read() -> None:
    read: list[int] = []

    def pairs() -> Any:
        for index in range(10**6):
            read.append(index)
            yield (f"h{index}", "v")

    with pytest.raises(LimitExceededError, match="header count 11"):
        list(counted_items(pairs(), Limits(max_header_count=10), "headers"))
    assert len(read) == 11


def test_a_body_is_measured_before_it_is_copied() -> None:
    class Huge:
        def __len__(self) -> int:
            return 2**40

    with pytest.raises(LimitExceededError, match="size of body"):
        sized_body(memoryview(bytearray(101)), Limits(max_message_bytes=100), "body")
    with pytest.raises(MalformedMessageError, match="must be bytes"):
        sized_body(Huge(), Limits(), "body")


def test_the_structured_format_is_named_by_the_content_type_or_defaults() -> None:
    assert structured_format("application/cloudevents+msgpack; x=y", "json", "B") == "msgpack"
    assert structured_format("application/json", None, "B") == "json"
    assert structured_format(None, "msgpack", "B") == "msgpack"
    with pytest.raises(MalformedMessageError, match="B binding has no batch mode"):
        structured_format("application/cloudevents-batch+json", None, "B")
