"""cefmt.kafka as a drop-in for the SDK's cloudevents.kafka, and KafkaHeaders, the headers of every record.
(tests/interop/test_dropin.py runs the same calls through the SDK itself; tests/plugins/test_kafka_clients.py
hands the headers to real Kafka clients and a real broker.)"""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest

import cefmt
from cefmt import (
    CloudEvent,
    DataMarshallerError,
    DataUnmarshallerError,
    KeyMapperError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    UsageError,
    decode,
    encode,
)
from cefmt.kafka import (
    KafkaHeaders,
    KafkaMessage,
    from_binary,
    from_structured,
    partitionkey_key,
    to_binary,
    to_structured,
)

EVENT = CloudEvent({"type": "t", "source": "/s", "id": "1", "partitionkey": "user-9"}, {"a": 1})
BINARY = {"ce_specversion": b"1.0", "ce_id": b"1", "ce_source": b"/s", "ce_type": b"t"}


def test_the_names_of_the_sdk_module_are_here() -> None:
    assert {"to_binary", "from_binary", "to_structured", "from_structured", "KafkaMessage", "KeyMapper"} <= set(
        cefmt.kafka.__all__
    )
    assert cefmt.kafka.KafkaMessage is type(encode(EVENT, "kafka", "binary"))  # one record type, the plugin's


# -- KafkaHeaders -----------------------------------------------------------------------------------------------


def test_headers_built_from_a_dict_read_like_the_sdk_mapping() -> None:
    message = KafkaMessage(key=None, headers={"ce_id": b"1", "content-type": b"text/plain"}, value=b"x")
    headers = message.headers
    assert headers["ce_id"] == b"1" and headers.get("ce_type") is None and headers.get("ce_type", b"?") == b"?"
    assert "ce_id" in headers and "ce_type" not in headers
    assert list(headers.keys()) == ["ce_id", "content-type"]
    assert list(headers.values()) == [b"1", b"text/plain"]
    assert dict(headers.items()) == dict(headers) == {"ce_id": b"1", "content-type": b"text/plain"}
    assert headers == {"ce_id": b"1", "content-type": b"text/plain"}
    with pytest.raises(KeyError):
        headers["ce_type"]


def test_headers_are_the_list_of_pairs_kafka_clients_take() -> None:
    headers = to_binary(EVENT).headers
    assert isinstance(headers, list) and all(type(pair) is tuple and len(pair) == 2 for pair in headers)
    assert [name for name, _ in headers][:2] == ["ce_specversion", "ce_id"]
    assert headers[0] == ("ce_specversion", b"1.0") and headers[-1][0] == "ce_partitionkey"
    assert headers[:1] == [("ce_specversion", b"1.0")]
    assert ("ce_id", b"1") in headers
    name, value = headers[1]
    assert (name, value) == ("ce_id", b"1")


def test_a_repeated_name_reads_as_its_last_value_and_getall_gives_every_one() -> None:
    headers = KafkaHeaders([("traceparent", b"a"), ("ce_id", b"1"), ("traceparent", b"b")])
    assert headers["traceparent"] == b"b" and headers.get("traceparent") == b"b"
    assert headers.getall("traceparent") == [b"a", b"b"] and headers.getall("none") == []
    assert len(headers) == 3 and list(headers.keys()) == ["traceparent", "ce_id"]
    assert headers != {"traceparent": b"b", "ce_id": b"1"}  # as a mapping it would lose a value


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h.append(("x", b"")),
        lambda h: h.extend([("x", b"")]),
        lambda h: h.insert(0, ("x", b"")),
        lambda h: h.remove(h[0]),
        lambda h: h.pop(),
        lambda h: h.clear(),
        lambda h: h.sort(),
        lambda h: h.reverse(),
        lambda h: h.__setitem__(0, ("x", b"")),
        lambda h: h.__delitem__(0),
        lambda h: h.__iadd__([("x", b"")]),
        lambda h: h.__imul__(2),
    ],
)
def test_headers_are_read_only(change: Any) -> None:
    message = to_binary(EVENT)
    before = list(message.headers)
    with pytest.raises(TypeError, match="read-only"):
        change(message.headers)
    assert list(message.headers) == before


def test_headers_pickle_and_copy_as_themselves() -> None:
    headers = to_binary(EVENT).headers
    for again in (pickle.loads(pickle.dumps(headers)), copy.copy(headers), copy.deepcopy(headers)):
        assert type(again) is KafkaHeaders and again == headers
    message = to_binary(EVENT)
    assert pickle.loads(pickle.dumps(message)) == message


def test_the_sdk_argument_order_is_refused_with_a_hint() -> None:
    with pytest.raises(MalformedMessageError, match="pass them by name"):
        KafkaMessage({"ce_id": b"1"}, None, b"x")  # type: ignore[arg-type]
    assert KafkaMessage(headers={"ce_id": b"1"}, key=None, value=b"x").headers["ce_id"] == b"1"


# -- binary mode --------------------------------------------------------------------------------------------


def test_to_binary_maps_the_partitionkey_to_the_key_as_the_sdk_does_and_keeps_the_attribute() -> None:
    message = to_binary(EVENT)
    assert message.key == b"user-9" and message.headers["ce_partitionkey"] == b"user-9"
    assert message == encode(EVENT, "kafka", "binary", key_mapper=partitionkey_key)
    assert to_binary(EVENT.evolve(partitionkey=None)).key is None
    assert decode(message, "kafka") == EVENT


def test_a_key_given_by_the_user_is_the_key() -> None:
    assert to_binary(EVENT, key=b"mine").key == b"mine" and to_structured(EVENT, key="clé").key == "clé".encode()
    with pytest.raises(UsageError, match="not both"):
        to_binary(EVENT, key_mapper=partitionkey_key, key=b"k")
    with pytest.raises(UsageError, match="record key must be bytes, str or None, got int"):
        to_binary(EVENT, key=7)  # type: ignore[arg-type]


def test_key_mapper_gives_the_key_and_its_failures_are_key_mapper_errors() -> None:
    assert to_binary(EVENT, key_mapper=lambda event: event.id).key == b"1"
    assert to_binary(EVENT, None, lambda event: None).key is None
    with pytest.raises(KeyMapperError, match="returned int") as raised:
        to_binary(EVENT, key_mapper=lambda event: 5)
    assert raised.value.__cause__ is None
    with pytest.raises(KeyMapperError, match="ZeroDivisionError") as failed:
        to_structured(EVENT, key_mapper=lambda event: 1 / 0)
    assert isinstance(failed.value.__cause__, ZeroDivisionError)


def test_binary_marshaller_result_is_the_value() -> None:
    message = to_binary(EVENT, json.dumps)
    assert message.value == b'{"a": 1}' and message.headers == to_binary(EVENT).headers
    assert to_binary(EVENT, lambda data: "é").value == "é".encode()
    calls: list[Any] = []
    empty = EVENT.evolve(data=None)
    assert to_binary(empty, calls.append).value is None and calls == []  # a tombstone, as without one
    with pytest.raises(DataMarshallerError, match="returned FrozenDict"):  # the event's data, frozen
        to_binary(EVENT, lambda data: data)


def test_from_binary_reads_any_record_and_never_makes_the_key_an_attribute() -> None:
    record = {"key": b"user-9", "headers": [*BINARY.items(), ("content-type", b"application/json")], "value": b"[1]"}
    event = from_binary(record)
    assert event.data == [1] and "partitionkey" not in event
    assert from_binary(KafkaMessage(key=None, headers=BINARY, value=None)).data is None
    with pytest.raises(UsageError, match="event_type"):
        from_binary(record, dict)  # type: ignore[arg-type]
    assert from_binary(record, CloudEvent) == event


def test_binary_unmarshaller_sees_the_value_and_keeps_the_content_type() -> None:
    record = KafkaMessage(key=None, headers={**BINARY, "content-type": b"text/csv"}, value=b"a,b")
    event = from_binary(record, data_unmarshaller=lambda raw: raw.decode().replace(",", ";"))
    assert event.data == "a;b" and event.datacontenttype == "text/csv"
    assert from_binary(record, None, bytes.upper).data == b"A,B"
    with pytest.raises(DataUnmarshallerError, match="int"):
        from_binary(record, data_unmarshaller=int)
    # What the record cannot hold (a JSON value under a content type that is not JSON) is the function's fault.
    with pytest.raises(DataUnmarshallerError, match="returned list, which the event cannot hold"):
        from_binary(record, data_unmarshaller=lambda raw: raw.decode().split(","))
    tombstone = KafkaMessage(key=None, headers=BINARY, value=None)
    assert from_binary(tombstone, data_unmarshaller=int).data is None


def test_binary_unmarshaller_keeps_extension_types_limits_and_0_3_base64() -> None:
    record = KafkaMessage(key=None, headers={**BINARY, "ce_n": b"3"}, value=b"x" * 64)
    assert from_binary(record, data_unmarshaller=len, extension_types={"n": int})["n"] == 3
    with pytest.raises(LimitExceededError):
        from_binary(record, data_unmarshaller=len, limits=Limits(max_message_bytes=10))
    old = KafkaMessage(
        key=None, headers={**BINARY, "ce_specversion": b"0.3", "ce_datacontentencoding": b"base64"}, value=b"AAE="
    )
    assert from_binary(old, data_unmarshaller=bytes.hex).data == "0001"


# -- structured mode ----------------------------------------------------------------------------------------


def test_to_structured_without_marshallers_is_the_registry_s() -> None:
    message = to_structured(EVENT)
    assert message == encode(EVENT, "kafka", "structured", key=b"user-9")
    assert from_structured(message) == EVENT


def test_structured_data_marshaller_and_envelope_marshaller() -> None:
    document = json.loads(to_structured(EVENT, json.dumps).value or b"")
    assert document["data"] == '{"a": 1}'
    assert "data_base64" in json.loads(to_structured(EVENT, lambda data: b"\x00").value or b"")
    seen: list[Any] = []

    def envelope(members: dict[str, Any]) -> str:
        seen.append(members)
        return json.dumps(members, sort_keys=True)

    message = to_structured(EVENT, envelope_marshaller=envelope)
    assert seen == [json.loads(encode(EVENT, "json"))]
    assert message.headers == {"content-type": b"application/cloudevents+json"}
    assert from_structured(message) == EVENT
    with pytest.raises(DataMarshallerError, match="returned list"):
        to_structured(EVENT, envelope_marshaller=list)


def test_structured_unmarshallers() -> None:
    message = to_structured(EVENT)
    assert from_structured(message, data_unmarshaller=lambda data: [data]).data == [{"a": 1}]  # as parsed
    assert from_structured(message, envelope_unmarshaller=json.loads) == EVENT
    with pytest.raises(DataUnmarshallerError, match="envelope_unmarshaller"):
        from_structured(message, envelope_unmarshaller=lambda raw: 1 / 0)
    with pytest.raises(MalformedMessageError, match="mapping of members"):
        from_structured(message, envelope_unmarshaller=lambda raw: [raw])
    raw = to_structured(CloudEvent({"type": "t", "source": "/s", "id": "1"}, b"\x00\x01"))
    assert from_structured(raw, data_unmarshaller=bytes.hex).data == "0001"
    msgpack = encode(EVENT, "kafka", "structured", format="msgpack")
    with pytest.raises(UsageError, match="JSON event format"):
        from_structured(msgpack, data_unmarshaller=str)
    with pytest.raises(MalformedMessageError, match="must have a value"):
        from_structured(KafkaMessage(key=None, headers=message.headers, value=None), data_unmarshaller=str)
