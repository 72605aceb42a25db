"""Hostile input for every built-in decoder: each must fail with a cefmt error, quickly, or succeed."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cefmt import CloudEvent, CloudEventError, decode

EVENT = b'{"specversion":"1.0","id":"1","source":"/s","type":"t"'
DEEP = b"[" * 200_000
BINARY = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}

JSON_BODIES: list[Any] = [
    pytest.param(DEEP, id="200k-open-brackets"),
    pytest.param(b"{" * 200_000, id="200k-open-braces"),
    pytest.param(b'{"a":' * 100_000, id="100k-nested-members"),
    pytest.param(EVENT + b',"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}", id="deep-data"),
    pytest.param(b"\xff\xfe\x00", id="invalid-utf8"),
    pytest.param(EVENT + b',"subject":"\xed\xa0\x80"}', id="encoded-surrogate"),
    pytest.param(b"\xef\xbb\xbf" + EVENT + b"}", id="utf8-bom"),
    pytest.param(EVENT, id="truncated"),
    pytest.param(b"", id="empty"),
    pytest.param(b"null", id="null"),
    pytest.param(b"42", id="number"),
    pytest.param(b'"event"', id="string"),
    pytest.param(EVENT + b',"id":1}', id="numeric-id"),
    pytest.param(EVENT + b',"data_base64":42}', id="base64-not-a-string"),
    pytest.param(EVENT + b',"data_base64":"@@@"}', id="bad-base64"),
    pytest.param(EVENT + b',"data":NaN}', id="nan"),
    pytest.param(EVENT + b',"ext":' + b"9" * 5000 + b"}", id="5000-digit-integer"),
    pytest.param(EVENT + b',"ext":{"a":1}}', id="object-extension"),
    pytest.param(EVENT + b',"subject":"a\\u0000b"}', id="nul-in-string"),
    pytest.param(EVENT + b',"time":"2018-04-05T17:31:00Z' + b"0" * 10_000 + b'"}', id="long-time"),
    pytest.param(b"[" + EVENT + b"}," + b"7]", id="batch-with-a-number"),
    pytest.param(EVENT + b',"id":"2"}', id="duplicate-attribute"),
    pytest.param(EVENT + b',"data":{"a":1,"a":2}}', id="duplicate-data-member"),
    pytest.param(EVENT + b',"data":1e400}', id="number-beyond-float"),
    pytest.param(EVENT + b',"data":"\\ud800"}', id="lone-surrogate-escape"),
    pytest.param(EVENT + b',"data":[' + b"{}," * 200_000 + b"{}]}", id="200k-empty-objects"),
]


@pytest.mark.parametrize("body", JSON_BODIES)
@pytest.mark.parametrize(("transport", "mode"), [("json", "structured"), ("json", "batch"), ("json", None)])
def test_json_decoders(body: bytes, transport: str, mode: str | None) -> None:
    with pytest.raises(CloudEventError):
        decode(body, transport, mode)


@pytest.mark.parametrize("body", JSON_BODIES)
@pytest.mark.parametrize("content_type", ["application/cloudevents+json", "application/cloudevents-batch+json"])
def test_http_structured_and_batch(body: bytes, content_type: str) -> None:
    with pytest.raises(CloudEventError):
        decode(({"content-type": content_type}, body), "http")


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        pytest.param(BINARY | {"ce-id": "a\r\nInjected: 1"}, b"", id="crlf-in-value"),
        pytest.param(BINARY | {"ce-subject": "a%0D%0Ab"}, b"", id="encoded-crlf"),
        pytest.param(BINARY | {"ce-subject": "%C0%A0"}, b"", id="overlong-utf8"),
        pytest.param(BINARY | {"ce-subject": "%"}, b"", id="lone-percent"),
        pytest.param(BINARY | {"ce-subject": b"\xff"}, b"", id="bytes-not-utf8"),
        pytest.param(BINARY | {"ce-subject": 5}, b"", id="int-value"),
        pytest.param(BINARY | {"ce-time": "2018-04-05T17:31:00Z" + "0" * 100_000}, b"", id="long-time"),
        pytest.param(BINARY | {"content-type": "application/json"}, DEEP, id="deep-json-body"),
        pytest.param(BINARY | {"content-type": "application/json"}, b"\xff", id="invalid-utf8-json-body"),
        pytest.param(BINARY | {"content-type": "application/json"}, b'{"a":', id="truncated-json-body"),
        pytest.param(BINARY | {"ce-specversion": "1.0\r\n"}, b"", id="crlf-specversion"),
        pytest.param({"ce-id": "1"}, b"", id="no-specversion"),
        pytest.param(BINARY | {"ce-bad_name": "x"}, b"", id="bad-attribute-name"),
        pytest.param(BINARY | {"ce-": "x"}, b"", id="empty-attribute-name"),
        pytest.param(BINARY | {"ce-data": "x"}, b"", id="reserved-name"),
        pytest.param(BINARY | {"ce-specversion": "0.3", "ce-datacontentencoding": "base64"}, b"@@", id="v03-bad-base64"),
        pytest.param({"x": "y"}, None, id="no-cloudevents-headers"),
    ],
)  # fmt: skip
def test_http_binary(headers: dict[str, Any], body: bytes | None) -> None:
    with pytest.raises(CloudEventError):
        decode((headers, body), "http")


@pytest.mark.parametrize(
    "message",
    [42, None, (1, 2, 3), ([("a",)], b""), ({"ce-id": "1"}, 42), ([1, 2], b""), "text"],
)
def test_http_message_shapes(message: Any) -> None:
    with pytest.raises(CloudEventError):
        decode(message, "http")


def test_data_no_encoder_could_write_is_refused_when_the_event_is_made() -> None:
    nested: list[Any] = []
    cursor = nested
    for _ in range(100_000):
        cursor.append([])
        cursor = cursor[0]
    for value in (nested, {"x": float("nan")}, {"x": {1, 2}}, {1: "x"}, {"x": "\ud800"}):
        with pytest.raises(CloudEventError, match="data"):
            CloudEvent({"id": "1", "source": "/s", "type": "t"}, value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_escape_as_foreign_errors(raw: bytes) -> None:
    for transport in ("json",):
        with contextlib.suppress(CloudEventError):
            decode(raw, transport)
    with contextlib.suppress(CloudEventError):
        decode(({"content-type": "application/json"} | BINARY, raw), "http")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time", "ce-x",
                                        "content-type"]), st.text(max_size=30)))  # fmt: skip
def test_arbitrary_headers_never_escape_as_foreign_errors(headers: dict[str, str]) -> None:
    with contextlib.suppress(CloudEventError):
        decode((headers, b""), "http")
