"""The Kafka binding: both modes and spec versions, key mapping, record shapes, hostile records, and a
round trip through a real Kafka-protocol broker (Tansu) with confluent-kafka."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cefmt
from cefmt import (
    CloudEvent,
    CloudEventError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    Timestamp,
    decode,
    encode,
)
from cefmt.codec import Codec
from cefmt_plugins import kafka
from cefmt_plugins.kafka import KafkaMessage, as_message, partitionkey_key
from tests.strategies import events, header_view, json_view

_SETTINGS = settings(max_examples=150, deadline=None)


def _types_of(event: CloudEvent) -> dict[str, type]:
    return {n: Timestamp if isinstance(v, Timestamp) else type(v) for n, v in event.extensions.items()}


def _event(**more: Any) -> CloudEvent:
    attributes = {"id": "A234-1234-1234", "source": "/mycontext", "type": "com.example.someevent"}
    return CloudEvent({**attributes, **more.pop("attributes", {})}, more.pop("data", None), **more)


# -- round trips -------------------------------------------------------------------------------------------


@_SETTINGS
@given(events())
def test_binary_round_trip(event: CloudEvent) -> None:
    message = encode(event, "kafka", "binary")
    assert isinstance(message, KafkaMessage)
    assert all(type(name) is str and type(value) is bytes for name, value in message.headers)
    assert message.key is None
    assert (message.value is None) == (event.data is None)
    assert decode(message, "kafka") == header_view(event)
    assert decode(message, "kafka", extension_types=_types_of(event)) == event


@_SETTINGS
@given(events(), st.sampled_from(["json", "msgpack"]))
def test_structured_round_trip_in_any_format(event: CloudEvent, format: str) -> None:
    message = encode(event, "kafka", "structured", format=format)
    assert message.headers == [("content-type", f"application/cloudevents+{format}".encode())]
    expected = json_view(event) if format == "json" else event
    assert decode(message, "kafka") == expected


def test_binary_headers_follow_the_spec_example() -> None:
    event = _event(time="2018-04-05T03:56:24Z", datacontenttype="application/avro", data=b"\x01avro")
    message = encode(event, "kafka", "binary")
    assert dict(message.headers) == {
        "ce_specversion": b"1.0",
        "ce_type": b"com.example.someevent",
        "ce_source": b"/mycontext",
        "ce_id": b"A234-1234-1234",
        "ce_time": b"2018-04-05T03:56:24Z",
        "content-type": b"application/avro",
    }
    assert message.value == b"\x01avro"


def test_unicode_header_values_travel_as_utf8_not_percent_encoded() -> None:
    event = _event(subject="Grüße € 😀 100%", comexampleext="naïve")
    headers = dict(encode(event, "kafka", "binary").headers)
    assert headers["ce_subject"] == "Grüße € 😀 100%".encode()
    assert headers["ce_comexampleext"] == "naïve".encode()
    assert decode(encode(event, "kafka", "binary"), "kafka") == event


def test_spec_0_3_binary_uses_schemaurl_and_reads_base64_encoding() -> None:
    event = _event(attributes={"specversion": "0.3", "schemaurl": "/schema"}, data=b"\x00\xff")
    headers = dict(encode(event, "kafka", "binary").headers)
    assert headers["ce_schemaurl"] == b"/schema" and "ce_dataschema" not in headers
    encoded = KafkaMessage(None, [*headers.items(), ("ce_datacontentencoding", b"base64")], b"AP8=")
    assert decode(encoded, "kafka") == event


# -- key mapping (section 3.1) -----------------------------------------------------------------------------


def test_by_default_the_key_is_the_one_the_user_gives() -> None:
    event = _event(partitionkey="user-1")
    assert encode(event, "kafka", "binary").key is None  # partitionkey is not used unless asked for
    assert encode(event, "kafka", "binary", key=b"k\x00").key == b"k\x00"
    assert encode(event, "kafka", "structured", key="clé").key == "clé".encode()


def test_opt_in_key_mapper_takes_partitionkey_and_keeps_the_attribute() -> None:
    event = _event(partitionkey="user-1")
    for mode in ("binary", "structured"):
        message = encode(event, "kafka", mode, key_mapper=partitionkey_key)
        assert message.key == b"user-1"
        assert decode(message, "kafka")["partitionkey"] == "user-1"  # the mapper did not remove it
    assert encode(_event(), "kafka", "binary", key_mapper=partitionkey_key).key is None
    assert partitionkey_key(_event(partitionkey=7)) == b"7"
    assert encode(_event(), "kafka", "binary", key_mapper=lambda e: e.id).key == b"A234-1234-1234"


def test_key_and_key_mapper_together_or_a_bad_key_are_errors() -> None:
    with pytest.raises(CloudEventError, match="not both"):
        encode(_event(), "kafka", "binary", key=b"k", key_mapper=partitionkey_key)
    with pytest.raises(CloudEventError, match="record key"):
        encode(_event(), "kafka", "binary", key=12)


def test_decoding_never_invents_a_partitionkey_from_the_record_key() -> None:
    event = _event(data={"a": 1})
    for mode in ("binary", "structured"):
        message = encode(event, "kafka", mode, key=b"the-key")
        decoded = decode(message, "kafka")
        assert "partitionkey" not in decoded
        assert decoded == event
        assert message.key == b"the-key"


# -- no data: a tombstone in binary mode (section 3.2.2) ---------------------------------------------------


def test_binary_event_without_data_is_a_record_without_value() -> None:
    event = _event()
    message = encode(event, "kafka", "binary")
    assert message.value is None
    assert decode(message, "kafka") == event
    assert decode(KafkaMessage(None, message.headers, b""), "kafka").data is None


def test_structured_event_without_data_still_has_a_value() -> None:
    message = encode(_event(), "kafka", "structured")
    assert message.value is not None and message.value.startswith(b"{")


# -- detection and record shapes ---------------------------------------------------------------------------


def test_mode_is_detected_from_the_content_type() -> None:
    event = _event(data="hello", datacontenttype="text/plain")
    binary = encode(event, "kafka", "binary")
    structured = encode(event, "kafka", "structured")
    # "matched case-insensitively", and a charset parameter does not matter
    shouted = KafkaMessage(None, [("Content-Type", b"Application/CloudEvents+JSON; charset=UTF-8")], structured.value)
    for message in (binary, structured, shouted):
        assert decode(message, "kafka") == event
    assert decode(binary, "kafka", "binary") == event
    assert decode(structured, "kafka", "structured") == event


def test_structured_without_a_cloudevents_content_type_reads_the_format_option() -> None:
    event = _event(data=[1])
    raw_json = encode(event, "json")
    assert decode(KafkaMessage(None, [("content-type", b"application/json")], raw_json), "kafka", "structured") == event
    raw_msgpack = encode(event, "msgpack")
    message = KafkaMessage(None, [], raw_msgpack)
    assert decode(message, "kafka", "structured", format="msgpack") == event


KafkaPythonRecord = collections.namedtuple(  # the field list of kafka-python's ConsumerRecord
    "KafkaPythonRecord",
    "topic partition offset timestamp timestamp_type key value headers checksum "
    "serialized_key_size serialized_value_size serialized_header_size",
)


@dataclasses.dataclass
class AiokafkaRecord:  # the fields of aiokafka's ConsumerRecord that matter here
    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int
    key: bytes | None
    value: bytes | None
    checksum: int | None
    serialized_key_size: int
    serialized_value_size: int
    headers: tuple[tuple[str, bytes], ...]


class ConfluentLike:
    """The accessors of confluent-kafka's ``Message`` (the real one is used in the broker test)."""

    def __init__(self, message: KafkaMessage) -> None:
        self._message = message

    def key(self) -> bytes | None:
        return self._message.key

    def headers(self) -> list[tuple[str, bytes]] | None:
        return self._message.headers or None

    def value(self) -> bytes | None:
        return self._message.value


def test_decode_accepts_every_client_shape() -> None:
    event = _event(data={"n": 1}, comexampleext="x")
    message = encode(event, "kafka", "binary", key=b"k")
    shapes: list[Any] = [
        message,
        {"key": message.key, "headers": message.headers, "value": message.value},
        {"headers": dict(message.headers), "value": message.value},
        KafkaPythonRecord("t", 0, 5, 0, 0, message.key, message.value, message.headers, None, 1, 7, 90),
        AiokafkaRecord("t", 0, 5, 0, 0, message.key, message.value, None, 1, 7, tuple(message.headers)),
        ConfluentLike(message),
    ]
    for shape in shapes:
        assert decode(shape, "kafka") == event, shape
    assert as_message(shapes[3]) == message


def test_a_dict_of_headers_alone_is_a_record_without_value() -> None:
    event = _event(comexampleext="x")
    headers = dict(encode(event, "kafka", "binary").headers)
    assert decode(headers, "kafka") == event
    assert decode({name: value.decode() for name, value in headers.items()}, "kafka") == event


def test_header_names_are_matched_case_insensitively_and_others_are_ignored() -> None:
    message = KafkaMessage(
        None,
        [
            ("CE_SPECVERSION", b"1.0"),
            ("Ce_Id", b"1"),
            ("ce_source", b"/s"),
            ("ce_type", b"t"),
            ("traceparent", b"\xff"),
        ],
        None,
    )
    assert decode(message, "kafka") == CloudEvent(id="1", source="/s", type="t")


# -- hostile records ---------------------------------------------------------------------------------------

_VALID = [("ce_specversion", b"1.0"), ("ce_id", b"1"), ("ce_source", b"/s"), ("ce_type", b"t")]


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (KafkaMessage(None, [*_VALID, ("ce_subject", b"\xff\xfe")], None), "UTF-8"),
        (KafkaMessage(None, [*_VALID, ("ce_id", b"2")], None), "more than once"),
        (KafkaMessage(None, [*_VALID, ("CE_ID", b"2")], None), "more than once"),
        (KafkaMessage(None, [*_VALID, ("ce_subject", None)], None), "null"),  # type: ignore[list-item]
        (KafkaMessage(None, [*_VALID, ("ce_subject", 5)], None), "UTF-8 bytes"),  # type: ignore[list-item]
        (KafkaMessage(None, [*_VALID, (5, b"x")], None), "header name"),  # type: ignore[list-item]
        (KafkaMessage(None, [*_VALID, ("ce_subject", b"a\nb")], None), "subject"),
        (KafkaMessage(None, [*_VALID, ("content-type", b"application/json")], b"{"), "JSON"),
        (KafkaMessage(None, [("x", b"y")], b"data"), "not a CloudEvents Kafka record"),
        (KafkaMessage(None, [("content-type", b"application/cloudevents+json")], None), "must have a value"),
        (KafkaMessage(None, [("content-type", b"application/cloudevents+json")], b"[1]"), "JSON object"),
        (KafkaMessage(None, [("content-type", b"application/cloudevents-batch+json")], b"[]"), "no batch mode"),
        (KafkaMessage(None, [("content-type", b"application/cloudevents+nosuch")], b"{}"), "nosuch"),
        (KafkaMessage(None, [("ce_specversion", b"0.1")], None), "specversion"),
        (KafkaMessage(None, [*_VALID[:3]], None), "type"),
        (KafkaMessage(None, ["not a pair"], None), "pairs"),  # type: ignore[list-item]
        (42, "KafkaMessage"),
        ({"key": 5, "headers": [], "value": None}, "key"),
    ],
)
def test_hostile_records_raise_cefmt_errors(message: Any, match: str) -> None:
    with pytest.raises(CloudEventError, match=match):
        decode(message, "kafka")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["ce_specversion", "ce_id", "ce_source", "ce_type", "content-type", "ce_x"]),
                       st.binary(max_size=12)), max_size=8),
    st.none() | st.binary(max_size=40),
)  # fmt: skip
def test_arbitrary_records_fail_only_with_cefmt_errors(headers: list[tuple[str, bytes]], value: bytes | None) -> None:
    with contextlib.suppress(CloudEventError):
        decode(KafkaMessage(None, headers, value), "kafka")


# -- limits ------------------------------------------------------------------------------------------------


def _counted(pairs: list[tuple[str, bytes]], read: list[int], extra: int = 1_000_000) -> Iterator[tuple[str, bytes]]:
    """``pairs``, then ``extra`` application headers, recording how many were handed out."""
    for pair in pairs:
        read.append(1)
        yield pair
    for index in range(extra):
        read.append(1)
        yield (f"x-{index}", b"v")


@pytest.mark.parametrize("mode", ["detect", "binary", "structured"])
def test_header_count_is_checked_while_headers_without_a_length_are_read(mode: str) -> None:
    read: list[int] = []
    headers = _counted(_VALID, read)
    record = {"key": None, "headers": headers, "value": None}
    with pytest.raises(LimitExceededError, match="header count 257 exceeds the limit of 256"):
        if mode == "detect":
            kafka.detect(record)  # detect alone is bounded by the default limits
        elif mode == "binary":
            kafka.decode_binary(record)
        else:
            kafka.decode_structured(record, registry=cefmt.default_registry, limits=Limits(max_header_count=256))
    assert len(read) == 257


def test_header_count_of_a_sized_list_is_checked_before_any_header_is_read() -> None:
    class Untouchable(list):  # type: ignore[type-arg]
        def __iter__(self) -> Any:
            raise AssertionError("the headers were read before they were counted")

    pairs = [*_VALID, *[(f"x-{i}", b"v") for i in range(300)]]
    for mode in (None, "binary", "structured"):
        with pytest.raises(LimitExceededError, match="header count 304"):
            decode({"key": None, "headers": Untouchable(pairs), "value": None}, "kafka", mode)
    assert decode(KafkaMessage(None, pairs, None), "kafka", limits=Limits(max_header_count=304)).id == "1"


def test_a_one_shot_iterator_of_headers_is_read_once_for_detection_and_decoding() -> None:
    record = {"key": None, "headers": iter(_VALID), "value": b"x"}
    assert decode(record, "kafka") == CloudEvent(id="1", source="/s", type="t", data=b"x")


def test_header_value_length_is_checked_before_decoding() -> None:
    # Not UTF-8: a LimitExceededError proves the value was measured before it was decoded.
    long_subject = KafkaMessage(None, [*_VALID, ("ce_subject", b"\xff" * 9000)], None)
    with pytest.raises(LimitExceededError, match="length of header 'ce_subject' 9000 exceeds the limit of 8192"):
        decode(long_subject, "kafka")
    with pytest.raises(LimitExceededError, match="'content-type' 101"):
        decode(KafkaMessage(None, [*_VALID, ("Content-Type", b"x" * 101)], None), "kafka",
               limits=Limits(max_header_value_length=100))  # fmt: skip
    # The application's own headers are not cefmt's to read or to refuse.
    assert decode(KafkaMessage(None, [*_VALID, ("authorization", b"\xff" * 20_000)], None), "kafka").id == "1"


def test_value_size_is_checked_before_it_is_copied_or_parsed() -> None:
    limits = Limits(max_message_bytes=100)
    json_headers = [*_VALID, ("content-type", b"application/json")]
    with pytest.raises(LimitExceededError, match="size of value 101 exceeds the limit of 100"):
        decode(KafkaMessage(None, json_headers, b"{" * 101), "kafka", limits=limits)  # invalid JSON: not parsed
    huge = memoryview(bytearray(cefmt.DEFAULT_LIMITS.max_message_bytes + 1))
    with pytest.raises(LimitExceededError, match="size of value"):
        decode({"key": None, "headers": _VALID, "value": huge}, "kafka")
    structured = [("content-type", b"application/cloudevents+json")]
    with pytest.raises(LimitExceededError, match="size of value"):
        decode(KafkaMessage(None, structured, b"\xff" * 101), "kafka", limits=limits)
    assert decode(KafkaMessage(None, json_headers, b"[" * 3 + b"]" * 3), "kafka", limits=limits).data == [[[]]]


def test_structured_mode_passes_limits_on_to_the_format() -> None:
    deep = _event(data=[[[[1]]]])
    message = encode(deep, "kafka", "structured")
    assert decode(message, "kafka").data == [[[[1]]]]
    with pytest.raises(LimitExceededError, match="JSON nesting depth 5 exceeds the limit of 4"):
        decode(message, "kafka", limits=Limits(max_nesting_depth=4))
    many = encode(_event(**{f"x{i}": "v" for i in range(10)}), "kafka", "structured", format="msgpack")
    with pytest.raises(LimitExceededError, match="attribute count 14 exceeds the limit of 13"):
        decode(many, "kafka", limits=Limits(max_attribute_count=13))
    assert len(decode(many, "kafka", limits=Limits(max_attribute_count=14)).extensions) == 10


def test_a_format_whose_decoder_takes_no_limits_still_gets_a_bounded_value() -> None:
    received: list[bytes] = []

    def decode_plain(raw: bytes) -> CloudEvent:  # a third-party format that predates limits
        received.append(raw)
        return CloudEvent(id="1", source="/s", type="t", data=raw)

    cefmt.register("1.0", "plainfmt", "structured", Codec(encode=lambda e: b"", decode=decode_plain))
    try:
        record = KafkaMessage(None, [("content-type", b"application/cloudevents+plainfmt")], b"abc")
        assert decode(record, "kafka", limits=Limits(max_message_bytes=3)).data == b"abc"
        with pytest.raises(LimitExceededError, match="size of value 3"):
            decode(record, "kafka", limits=Limits(max_message_bytes=2))
        assert received == [b"abc"]
    finally:
        cefmt.unregister("1.0", "plainfmt", "structured")


@settings(max_examples=100, deadline=None)
@given(events(), st.integers(1, 20), st.integers(0, 10))
def test_header_count_limit_holds_for_any_event(event: CloudEvent, limit: int, extra: int) -> None:
    message = encode(event, "kafka", "binary")
    message = KafkaMessage(None, [*message.headers, *[(f"app-{i}", b"") for i in range(extra)]], message.value)
    limits = Limits(max_header_count=limit)
    if len(message.headers) > limit:
        with pytest.raises(LimitExceededError, match=f"header count {len(message.headers)}"):
            decode(message, "kafka", limits=limits)
    else:
        assert decode(message, "kafka", limits=limits) == header_view(event)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: KafkaMessage(None, 5, None), "headers must be a mapping or \\(name, value\\) pairs, got int"),
        (lambda: KafkaMessage(None, "ce_id", None), "pairs, got str"),
        (lambda: KafkaMessage(None, b"ce_id", None), "pairs, got bytes"),
        (lambda: KafkaMessage(None, [], 5), "value must be bytes or None, got int"),
        (lambda: KafkaMessage(None, [], [b"x"]), "value must be bytes or None, got list"),
        (lambda: KafkaMessage(5.0, [], None), "key must be bytes or None, got float"),
    ],
)
def test_a_record_of_the_wrong_shape_is_a_cefmt_error(build: Any, match: str) -> None:
    with pytest.raises(MalformedMessageError, match=match):
        build()


def test_record_fields_are_normalized_to_bytes() -> None:
    message = KafkaMessage(bytearray(b"k"), None, memoryview(b"v"))
    assert (message.key, message.headers, message.value) == (b"k", [], b"v")
    assert type(message.key) is bytes and type(message.value) is bytes


@pytest.mark.parametrize(
    ("record", "match"),
    [
        ({"key": None, "headers": 5, "value": None}, "pairs"),
        ({"key": None, "headers": "ce_id", "value": None}, "pairs, got str"),
        ({"key": None, "headers": _VALID, "value": 5}, "value must be bytes or None, got int"),
        ({"key": None, "headers": [*_VALID, (b"\xff", b"x")], "value": None}, "header name is not valid UTF-8"),
        ({"key": None, "headers": [*_VALID, ("ce_x", b"a", b"b")], "value": None}, "pairs"),
    ],
)
def test_decoding_a_record_of_the_wrong_shape_is_a_cefmt_error(record: Any, match: str) -> None:
    with pytest.raises(MalformedMessageError, match=match):
        decode(record, "kafka")
    with pytest.raises(MalformedMessageError, match=match):
        kafka.decode_binary(record)


# -- a real broker -----------------------------------------------------------------------------------------


def _fresh_topic(bootstrap: str) -> str:
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"cefmt-{uuid.uuid4().hex[:12]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the futures are done
    for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        future.result(15)
    return topic


def _consume(bootstrap: str, topic: str, count: int) -> list[Any]:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": topic, "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])  # no group join: that costs ~20 s
    received: list[Any] = []
    deadline = time.monotonic() + 30
    try:
        while len(received) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            received.append(message)
    finally:
        consumer.close()
    assert len(received) == count, f"consumed {len(received)} of {count} records"
    return received


def test_round_trip_through_a_real_broker(kafka_bootstrap: str) -> None:
    from confluent_kafka import Producer

    cases: list[tuple[CloudEvent, str, dict[str, Any]]] = [
        (_event(data={"unicode": "Grüße 😀", "n": [1, 2.5]}, subject="Straße"), "binary", {"key": b"k1"}),
        (_event(data=b"\x00\x01\xfe\xff", time="2024-02-29T23:59:59.123456789+05:30"), "binary", {}),
        (_event(data="plain text ☃", datacontenttype="text/plain; charset=utf-8"), "binary", {}),
        (_event(partitionkey="tenant-7", comexampleext="ext ✓"), "binary", {"key_mapper": partitionkey_key}),
        (_event(data={"a": 1}, attributes={"specversion": "0.3", "schemaurl": "/s"}), "binary", {}),
        (_event(data={"a": [True, None]}, flag=True, count=3), "structured", {"key": "clé"}),
        (_event(data=b"\x00bin", blob=b"\x01\x02", when=Timestamp.parse("2020-01-01T00:00:00.5-03:00")),
         "structured", {"format": "msgpack"}),
        (_event(attributes={"specversion": "0.3"}, data=b"\xff"), "structured", {}),
    ]  # fmt: skip
    topic = _fresh_topic(kafka_bootstrap)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    sent = []
    for event, mode, options in cases:
        message = encode(event, "kafka", mode, **options)
        sent.append(message)
        producer.produce(topic, value=message.value, key=message.key, headers=message.headers, partition=0)
    assert producer.flush(15) == 0
    received = _consume(kafka_bootstrap, topic, len(cases))
    for (event, mode, options), message, record in zip(cases, sent, received, strict=True):
        assert record.key() == message.key
        assert record.value() == message.value  # None stays None: the data-less binary event is a tombstone
        decoded = decode(record, "kafka")  # the confluent-kafka Message itself
        types = _types_of(event) if mode == "binary" else None
        expected = event if mode == "binary" or options.get("format") == "msgpack" else json_view(event)
        assert decode(record, "kafka", extension_types=types) if types else decoded == expected
