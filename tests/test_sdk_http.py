"""cefmt.http as a drop-in for the SDK's cloudevents.http: the marshaller keywords, the names it exports,
the deprecated helpers. (tests/interop/test_dropin.py runs the same calls through the SDK itself.)"""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

import pytest

import cefmt.http
from cefmt import (
    CloudEvent,
    DataMarshallerError,
    DataUnmarshallerError,
    EncodeError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    UsageError,
    decode,
)
from cefmt.http import (
    from_dict,
    from_http,
    from_json,
    is_binary,
    is_structured,
    to_binary,
    to_binary_http,
    to_json,
    to_structured,
    to_structured_http,
)

EVENT = CloudEvent({"type": "t", "source": "/s", "id": "1"}, {"a": 1})
HEADERS = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}


def test_every_name_the_sdk_exports_is_here() -> None:
    sdk_names = {"to_binary", "to_structured", "from_json", "from_http", "from_dict", "CloudEvent", "is_binary",
                 "is_structured", "to_binary_http", "to_structured_http", "to_json"}  # fmt: skip
    assert sdk_names <= set(cefmt.http.__all__)
    assert all(callable(getattr(cefmt.http, name)) for name in sdk_names)


# -- sending --------------------------------------------------------------------------------------------------


def test_binary_marshaller_result_is_the_body_and_headers_are_unchanged() -> None:
    plain = to_binary(EVENT)
    marshalled = to_binary(EVENT, data_marshaller=lambda data: json.dumps(data, indent=1))
    assert marshalled.body == b'{\n "a": 1\n}'
    assert marshalled.headers == plain.headers
    assert to_binary(EVENT, lambda data: bytearray(b"\x00\xff")).body == b"\x00\xff"  # positional, as in the SDK
    assert to_binary(EVENT, lambda data: "€").body == "€".encode()
    assert to_binary(EVENT, lambda data: None).body == b""


def test_binary_marshaller_is_not_called_for_an_event_without_data() -> None:
    calls: list[Any] = []
    event = CloudEvent({"type": "t", "source": "/s", "id": "1"})
    assert to_binary(event, calls.append) == to_binary(event)
    assert to_structured(event, calls.append) == to_structured(event)
    assert calls == []


@pytest.mark.parametrize("result", [{"a": 1}, 7, ["x"], object()])
def test_binary_marshaller_must_give_bytes_or_text(result: Any) -> None:
    with pytest.raises(DataMarshallerError, match=f"returned {type(result).__name__}; a body is bytes or str"):
        to_binary(EVENT, lambda data: result)


def test_a_failing_marshaller_is_a_cefmt_error_chained_to_its_cause() -> None:
    def refuse(data: Any) -> bytes:
        raise KeyError("missing")

    with pytest.raises(DataMarshallerError) as raised:
        to_binary(EVENT, refuse)
    assert isinstance(raised.value, EncodeError) and isinstance(raised.value, ValueError)
    assert isinstance(raised.value.__cause__, KeyError)
    assert raised.value.function.endswith("refuse")
    assert str(raised.value).endswith("failed: KeyError: 'missing'")
    with pytest.raises(DataMarshallerError, match="no UTF-8 form"):
        to_binary(EVENT, lambda data: "\udc80")


def test_structured_marshaller_result_is_the_data_member_and_bytes_go_to_data_base64() -> None:
    text = json.loads(to_structured(EVENT, json.dumps).body)
    assert text["data"] == '{"a": 1}' and "data_base64" not in text
    raw = json.loads(to_structured(EVENT, lambda data: b"\x00\x01").body)
    assert base64.b64decode(raw["data_base64"]) == b"\x00\x01" and "data" not in raw
    value = json.loads(to_structured(EVENT, lambda data: {"wrapped": data}).body)
    assert value["data"] == {"wrapped": {"a": 1}}
    assert to_json(EVENT, json.dumps) == to_structured(EVENT, json.dumps).body


def test_structured_marshaller_in_spec_0_3_marks_base64_data() -> None:
    event = CloudEvent({"type": "t", "source": "/s", "id": "1", "specversion": "0.3"}, "x")
    document = json.loads(to_structured(event, str.encode).body)
    assert document["datacontentencoding"] == "base64" and document["data"] == "eA=="
    assert decode(to_structured(event, str.encode), "http").data == b"x"


def test_structured_marshaller_result_the_event_cannot_hold_is_a_marshaller_error() -> None:
    event = CloudEvent({"type": "t", "source": "/s", "id": "1"}, "text", datacontenttype="text/plain")
    with pytest.raises(DataMarshallerError, match="returned dict, which the event cannot hold") as raised:
        to_structured(event, lambda data: {"a": data})
    assert raised.value.__cause__ is not None


def test_structured_marshaller_works_with_any_format() -> None:
    message = to_structured(EVENT, lambda data: [data], format="msgpack")
    assert message.headers["content-type"] == "application/cloudevents+msgpack"
    assert decode(message, "http").data == [{"a": 1}]


def test_without_marshallers_the_calls_are_the_registry_s() -> None:
    assert to_binary(EVENT) == cefmt.encode(EVENT, "http", "binary")
    assert to_structured(EVENT) == cefmt.encode(EVENT, "http", "structured")
    assert to_json(EVENT) == cefmt.encode(EVENT, "json")


# -- receiving ------------------------------------------------------------------------------------------------


def test_binary_unmarshaller_sees_the_body_as_given() -> None:
    seen: list[Any] = []

    def keep(raw: Any) -> str:
        seen.append(raw)
        return "kept"

    headers = {**HEADERS, "content-type": "application/json"}
    assert from_http(headers, b'{"a": 1}', keep).data == "kept"
    assert from_http(headers, '{"a": 1}', data_unmarshaller=keep).data == "kept"
    assert seen == [b'{"a": 1}', '{"a": 1}']


def test_binary_unmarshaller_none_is_the_default_body_rule() -> None:
    headers, body = to_binary(EVENT)
    assert from_http(headers, body, None) == from_http(headers, body) == EVENT
    assert from_http(headers, body, data_unmarshaller=None) == EVENT


def test_unmarshaller_is_not_called_without_data() -> None:
    def fail(raw: Any) -> Any:
        raise AssertionError("called")

    assert from_http(HEADERS, b"", fail).data is None
    assert from_http(HEADERS, None, fail).data is None
    headers, body = to_structured(CloudEvent({"type": "t", "source": "/s", "id": "1"}))
    assert from_http(headers, body, fail).data is None


def test_binary_unmarshaller_in_spec_0_3_gets_the_decoded_base64_body() -> None:
    headers = {**HEADERS, "ce-specversion": "0.3", "ce-datacontentencoding": "base64"}
    assert from_http(headers, b"AAE=", bytes.hex).data == "0001"


def test_structured_unmarshaller_sees_the_data_member_as_json_text_or_base64_bytes() -> None:
    seen: list[Any] = []

    def keep(raw: Any) -> list[Any]:
        seen.append(raw)
        return ["kept"]

    headers, body = to_structured(CloudEvent({"type": "t", "source": "/s", "id": "1"}, {"b": [1, "é"]}))
    assert from_http(headers, body, keep).data == ["kept"]
    assert from_json(body, keep).data == ["kept"]
    headers, body = to_structured(CloudEvent({"type": "t", "source": "/s", "id": "1"}, b"\x00"))
    from_http(headers, body, keep)
    assert seen == [json.dumps({"b": [1, "é"]}), json.dumps({"b": [1, "é"]}), b"\x00"]


def test_structured_unmarshaller_reads_only_the_json_format() -> None:
    headers, body = to_structured(EVENT, format="msgpack")
    with pytest.raises(UsageError, match="reads the JSON event format"):
        from_http(headers, body, json.loads)


def test_a_failing_unmarshaller_is_a_malformed_message_chained_to_its_cause() -> None:
    headers, body = to_binary(EVENT)
    with pytest.raises(DataUnmarshallerError) as raised:
        from_http(headers, body, lambda raw: 1 / 0)
    assert isinstance(raised.value, MalformedMessageError)
    assert isinstance(raised.value.__cause__, ZeroDivisionError)
    with pytest.raises(DataUnmarshallerError, match="returned set, which the event cannot hold"):
        from_http(headers, body, lambda raw: {1, 2})


def test_unmarshaller_path_keeps_limits_and_extension_types() -> None:
    headers = {**HEADERS, "ce-count": "3"}
    event = from_http(headers, b"x", bytes.decode, extension_types={"count": int})
    assert event["count"] == 3 and event.data == "x"
    with pytest.raises(LimitExceededError):
        from_http(headers, b"x" * 100, bytes.decode, limits=Limits(max_message_bytes=10))
    with pytest.raises(UsageError, match="must be callable"):
        from_http(headers, b"x", "json")  # type: ignore[arg-type]


def test_from_json_and_from_dict() -> None:
    assert from_json(to_json(EVENT)) == EVENT
    assert from_json(to_json(EVENT).decode()) == EVENT
    document = {"type": "t", "source": "/s", "id": "1", "data": {"a": 1}, "ext": "x"}
    assert from_dict(document) == EVENT.evolve(ext="x")
    assert from_dict({"type": "t", "source": "/s", "id": "1"}).data is None
    with pytest.raises(UsageError):
        from_dict("not a mapping")  # type: ignore[arg-type]


# -- deprecated, as in the SDK --------------------------------------------------------------------------------


def test_deprecated_helpers_work_and_warn() -> None:
    binary_headers, _ = to_binary(EVENT)
    structured_headers, _ = to_structured(EVENT)
    with pytest.warns(DeprecationWarning, match="is_binary is deprecated"):
        assert is_binary(binary_headers) is True
    with pytest.warns(DeprecationWarning):
        assert is_binary(structured_headers) is False
    with pytest.warns(DeprecationWarning, match="is_structured is deprecated"):
        assert is_structured(structured_headers) is True
    with pytest.warns(DeprecationWarning):
        assert is_structured(binary_headers) is False
    with pytest.warns(DeprecationWarning):
        assert is_binary({"content-type": "text/plain"}) is False  # not a CloudEvents message at all
    with pytest.warns(DeprecationWarning, match="use to_binary"):
        assert to_binary_http(EVENT, json.dumps) == to_binary(EVENT, json.dumps)
    with pytest.warns(DeprecationWarning, match="use to_structured"):
        assert to_structured_http(EVENT) == to_structured(EVENT)


def test_deprecation_points_at_the_caller() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        is_binary(HEADERS)
    assert caught[0].filename == __file__
