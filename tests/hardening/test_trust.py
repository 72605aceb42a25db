"""Codecs lose nothing and answer every bad input with a cefmt error (issue #10, the codec half).

Each test here failed before its fix: an encoder leaking ``UnicodeEncodeError``, a duplicate JSON member
silently dropped, ``1e400`` read as infinity, a media type HTTP cannot send, a CloudEvents media type as
the data's type in binary mode, ``Timestamp`` methods losing nanoseconds, messages whose objects and
arrays multiply their memory, a JSON batch parsed whole before its length was checked.
"""

from __future__ import annotations

import struct
from datetime import timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cefmt
import cefmt._data
import cefmt.codec
from cefmt import (
    CloudEvent,
    CloudEventError,
    EncodeError,
    InvalidAttributeError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    Timestamp,
    UsageError,
    decode,
    encode,
)
from tests.hardening.cases import Case, case_id, cases, encode_case

EVENT = {"id": "1", "source": "/s", "type": "t"}


# -- lone surrogates: every encoder refuses them with a cefmt error -------------------------------------------


def _with_surrogate(case: Case) -> Any:
    # The record refuses such data (below); an event made past that check (as a broken third-party
    # decoder could) shows that every encoder still answers with a cefmt error, not UnicodeEncodeError.
    event = CloudEvent._from_owned(
        {"specversion": case[0], **EVENT, "datacontenttype": "application/json"}, {"text": "a\ud800b"}, trusted=True
    )
    return [event] if case[2] == "batch" else event


@pytest.mark.parametrize("case", cases(), ids=case_id)
def test_every_encoder_refuses_a_lone_surrogate_in_data(case: Case) -> None:
    with pytest.raises(EncodeError, match="lone surrogate") as info:
        encode_case(_with_surrogate(case), case)
    assert isinstance(info.value.__cause__, UnicodeEncodeError)


@pytest.mark.parametrize("data", ["a\udc80", {"k": ["\ud800"]}, {"\udfff": 1}])
def test_a_lone_surrogate_in_data_is_refused_when_the_event_is_made(data: Any) -> None:
    with pytest.raises(InvalidAttributeError, match="lone surrogate"):
        CloudEvent(EVENT, data)


@pytest.mark.parametrize(
    "body",
    [b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":"\\ud800"}', b'["\\uDFFF"]'],
)
def test_a_json_escape_of_a_lone_surrogate_is_refused_on_decode(body: bytes) -> None:
    with pytest.raises(MalformedMessageError, match="lone surrogate"):
        decode(body, "json")


def test_a_surrogate_pair_escape_decodes_to_one_character() -> None:
    body = b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":"\\ud83d\\ude00"}'
    assert decode(body, "json").data == "\U0001f600"


# -- JSON text that no JSON value can hold ---------------------------------------------------------------------


def test_a_duplicate_member_is_refused_in_an_event_as_a_duplicate_header_is() -> None:
    doc = b'{"specversion":"1.0","id":"1","source":"/s","type":"t","type":"u"}'
    with pytest.raises(MalformedMessageError, match="'type' appears more than once"):
        decode(doc, "json")
    with pytest.raises(MalformedMessageError, match="more than once"):
        headers = {**{f"ce-{k}": v for k, v in EVENT.items()}, "ce-specversion": "1.0", "CE-ID": "2"}
        decode((headers, b""), "http")


def test_a_duplicate_member_inside_data_is_refused_too() -> None:
    headers = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}
    with pytest.raises(MalformedMessageError, match="'n' appears more than once"):
        decode((headers | {"content-type": "application/json"}, b'{"n":1,"n":2}'), "http")


@pytest.mark.parametrize("number", [b"1e400", b"-1e309", b"1" + b"0" * 400 + b".0"])
def test_a_number_beyond_a_float_is_refused_not_read_as_infinity(number: bytes) -> None:
    doc = b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":' + number + b"}"
    with pytest.raises(MalformedMessageError, match="beyond the range of a 64-bit float"):
        decode(doc, "json")


# -- media types ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain; x=\u20ac", 'text/plain; x="\u00e9"', "text/plain; charset", "text/plain ", "text/plain; a=b "],
)
def test_a_datacontenttype_http_cannot_carry_is_refused(content_type: str) -> None:
    with pytest.raises(InvalidAttributeError, match="RFC 9110"):
        CloudEvent(EVENT, b"x", datacontenttype=content_type)


_TOKEN = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&'*+-.^_`|~", min_size=1, max_size=8)
_QUOTED = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8).map(
    lambda text: '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
)


@st.composite
def media_types(draw: st.DrawFn) -> str:
    text = f"{draw(_TOKEN)}/{draw(_TOKEN)}"
    for name, value in draw(st.lists(st.tuples(_TOKEN, _TOKEN | _QUOTED), max_size=3)):
        before, after = (
            draw(st.sampled_from(["", " ", "  "])),
            draw(st.sampled_from(["", " "])),
        )  # no tab: a String has none
        text += f"{before};{after}{name}={value}"
    return text


@given(media_types())
def test_every_media_type_the_grammar_allows_round_trips_through_http(content_type: str) -> None:
    if content_type.lower().startswith(("application/cloudevents+", "application/cloudevents-batch+")):
        return
    # Bytes under a JSON type (``0/+json`` is one) travel as the JSON they must hold: give such a type JSON.
    data = b"[1]" if cefmt.codec.parse_media_type(content_type).is_json else b"\x00\x01"
    event = CloudEvent(EVENT, data, datacontenttype=content_type)
    message = encode(event, "http", "binary")
    message.headers["content-type"].encode("ascii")  # what any HTTP client can send
    assert decode(message, "http").datacontenttype == content_type


@pytest.mark.parametrize(
    "content_type",
    [
        "application/cloudevents+json",
        "Application/CloudEvents-Batch+JSON; charset=utf-8",
        "application/cloudevents+msgpack",
    ],
)
@pytest.mark.parametrize("transport", ["http", "kafka"])
@pytest.mark.parametrize("data", [None, b"{}"])
def test_a_cloudevents_media_type_cannot_be_the_data_type_in_binary_mode(
    content_type: str, transport: str, data: bytes | None
) -> None:
    # Such a message would decode as the inner event (or fail as an empty structured one).
    event = CloudEvent(EVENT, data, datacontenttype=content_type)
    with pytest.raises(EncodeError, match="structured mode"):
        encode(event, transport, "binary")
    nested = CloudEvent(EVENT, {"specversion": "1.0"}, datacontenttype="application/cloudevents+json")
    assert decode(encode(nested, transport, "structured"), transport) == nested


def test_a_binary_message_claiming_a_cloudevents_type_is_refused_when_read_as_binary() -> None:
    headers = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}
    with pytest.raises(MalformedMessageError, match="CloudEvents format"):
        decode((headers | {"content-type": "application/cloudevents+json"}, b"{}"), "http", "binary")


# -- Timestamp methods keep nanoseconds ---------------------------------------------------------------------


STAMP = Timestamp.parse("2018-04-05T17:31:00.123456789+02:00")


def test_replace_keeps_nanoseconds_and_takes_new_ones() -> None:
    assert str(STAMP.replace(year=2020)) == "2020-04-05T17:31:00.123456789+02:00"
    assert str(STAMP.replace(microsecond=0)) == "2018-04-05T17:31:00.000000789+02:00"
    assert STAMP.replace(nanosecond=1).nanosecond == 1
    assert repr(STAMP.replace(day=6)) == "Timestamp('2018-04-06T17:31:00.123456789+02:00')"


def test_astimezone_keeps_the_instant_to_the_nanosecond() -> None:
    utc = STAMP.astimezone(timezone.utc)
    assert str(utc) == "2018-04-05T15:31:00.123456789Z"
    assert utc == STAMP
    assert STAMP.astimezone().nanosecond == 789
    assert (STAMP + timedelta(seconds=1)).nanosecond == 789


@pytest.mark.parametrize(
    "build",
    [
        Timestamp.now,
        Timestamp.utcnow,
        lambda: Timestamp(2020, 1, 1),
        lambda: STAMP.replace(tzinfo=None),
        lambda: Timestamp.fromisoformat("2020-01-01T00:00:00"),
    ],
)
def test_a_timestamp_without_an_offset_is_refused_saying_why(build: Any) -> None:
    with pytest.raises(UsageError, match="names its UTC offset"):
        build()


def test_constructors_with_an_offset_work() -> None:
    assert Timestamp.now(timezone.utc).tzinfo is timezone.utc
    assert str(Timestamp.fromisoformat("2020-01-01T00:00:00+01:00")) == "2020-01-01T00:00:00+01:00"


# -- memory: objects and arrays are counted before they multiply a message ----------------------------------


def _msgpack_event_with(data_header: bytes, items: bytes) -> bytes:
    head = b"\x85\xabspecversion\xa31.0\xa2id\xa11\xa6source\xa1s\xa4type\xa1t\xa4data"
    return head + data_header + items


@pytest.mark.parametrize("item", [b"\x80", b"\x90", b"\x81\xa0\x80"])
def test_msgpack_containers_are_counted_before_they_multiply_memory(item: bytes) -> None:
    count = 5_000
    raw = _msgpack_event_with(b"\xdd" + struct.pack(">I", count), item * count)
    with pytest.raises(LimitExceededError, match="container count") as info:
        decode(raw, "msgpack", limits=Limits(max_container_count=1_000))
    assert info.value.maximum == 1_000
    assert len(decode(raw, "msgpack", limits=Limits(max_container_count=100_000)).data) == count


def test_json_containers_are_counted_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    scanned: list[int] = []
    original = cefmt._data._SCAN
    monkeypatch.setattr(cefmt._data, "_SCAN", lambda text, start: scanned.append(start) or original(text, start))
    raw = b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":[' + b"{}," * 2_000 + b'"[[{"]}'
    with pytest.raises(LimitExceededError, match="container count 2002 exceeds the limit of 1000"):
        decode(raw, "json", limits=Limits(max_container_count=1_000))
    assert scanned == []
    # Brackets inside strings are not containers.
    assert decode(raw, "json", limits=Limits(max_container_count=2_002)).data[-1] == "[[{"


def test_a_json_batch_is_counted_before_it_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    scanned: list[int] = []
    original = cefmt._data._SCAN
    monkeypatch.setattr(cefmt._data, "_SCAN", lambda text, start: scanned.append(start) or original(text, start))
    event = b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":[{"b":"{{"}]}}'
    raw = b"[" + b",".join([event] * 12) + b"]"
    with pytest.raises(LimitExceededError, match="batch length 12 exceeds the limit of 10"):
        decode(raw, "json", "batch", limits=Limits(max_batch_length=10))
    assert scanned == []
    assert len(decode(raw, "json", "batch", limits=Limits(max_batch_length=12))) == 12


def test_the_container_limit_is_a_positive_int() -> None:
    with pytest.raises(InvalidAttributeError, match="max_container_count"):
        Limits(max_container_count=0)


# -- errors ---------------------------------------------------------------------------------------------------


def test_at_returns_a_copy_and_leaves_the_error_as_it_was() -> None:
    error = InvalidAttributeError("time", "is bad", "x")
    located = error.at("batch item 2")
    assert str(located) == "batch item 2: attribute 'time': is bad (got 'x')"
    assert str(error) == "attribute 'time': is bad (got 'x')"
    assert (located.attribute, located.rule, type(located)) == ("time", "is bad", InvalidAttributeError)


def test_one_event_to_a_batch_mode_is_a_usage_error_every_time() -> None:
    event = CloudEvent(EVENT)
    for _ in range(2):  # the second call finds the codec loaded: same answer
        with pytest.raises(UsageError, match="wrap one event in a list"):
            encode(event, "json", "batch")
    with pytest.raises(TypeError):
        encode("not an event", "json")
    with pytest.raises(CloudEventError):
        encode([event, "not an event"], "json", "batch")
