"""The SDK-style calls that ``test_dropin.py`` makes through the official SDK and through cefmt, alike.

Standard library only: the test imports it, and ``dropin_driver.py`` imports it inside each SDK's venv,
so both sides call the same marshallers on the same events. A case names an operation of the SDK's
functional API (``cloudevents.http`` / ``cloudevents.kafka`` in 1.x, ``cloudevents.v1.*`` in 2.x), the
event or message, and the functions passed as keywords.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

ATTRIBUTES = {
    "specversion": "1.0",
    "id": "order-7",
    "source": "https://example.com/shop",
    "type": "com.example.order.created",
    "time": "2024-02-29T23:59:59.123456Z",  # given, so that neither SDK line invents one (docs/interop.md D6)
}


def _raise(_: Any) -> Any:
    raise ValueError("no thanks")


MARSHALLERS: dict[str, Callable[[Any], Any]] = {
    "json_dumps": json.dumps,
    "upper": lambda data: data.upper(),
    "tagged_bytes": lambda data: b"tagged:" + json.dumps(data, sort_keys=True).encode(),
    "tagged_text": lambda data: "tagged:" + json.dumps(data, sort_keys=True),
    "sorted_members": lambda document: json.dumps(sorted(document)),
    "fails": _raise,
}

UNMARSHALLERS: dict[str, Callable[[Any], Any]] = {
    "json_loads": json.loads,
    # What the function was given, as JSON can carry it: the type's name and the value (bytes as text).
    "seen": lambda raw: [type(raw).__name__, raw.decode("latin-1") if isinstance(raw, (bytes, bytearray)) else raw],
    "envelope": json.loads,
    "fails": _raise,
}


def b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode("ascii")


def unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def _event(data: Any, **more: Any) -> dict[str, Any]:
    return {"attributes": {**ATTRIBUTES, "datacontenttype": "application/json", **more}, "data": data}


_HTTP_BINARY = {
    "headers": {
        "ce-specversion": "1.0", "ce-id": "order-7", "ce-source": "https://example.com/shop",
        "ce-type": "com.example.order.created", "ce-time": "2024-02-29T23:59:59.123456Z",
        "content-type": "application/json",
    },
    "body": b64(b'{"qty": 2, "sku": "A-1"}'),
}  # fmt: skip
_HTTP_EMPTY = {"headers": {**_HTTP_BINARY["headers"]}, "body": b64(b"")}  # type: ignore[dict-item]
_DOCUMENT = {**ATTRIBUTES, "datacontenttype": "application/json", "data": {"qty": 2, "sku": "A-1"}}
_HTTP_STRUCTURED = {
    "headers": {"content-type": "application/cloudevents+json"},
    "body": b64(json.dumps(_DOCUMENT).encode()),
}
_HTTP_STRUCTURED_BASE64 = {
    "headers": {"content-type": "application/cloudevents+json"},
    "body": b64(json.dumps({**ATTRIBUTES, "data_base64": b64(b"\x00\x01raw")}).encode()),
}
_KAFKA_BINARY = {
    "headers": [
        ["ce_specversion", b64(b"1.0")], ["ce_id", b64(b"order-7")], ["ce_source", b64(b"https://example.com/shop")],
        ["ce_type", b64(b"com.example.order.created")], ["ce_time", b64(b"2024-02-29T23:59:59.123456Z")],
        ["content-type", b64(b"application/json")],
    ],
    "key": None,
    "value": b64(b'{"qty": 2, "sku": "A-1"}'),
}  # fmt: skip
_KAFKA_STRUCTURED = {
    "headers": [["content-type", b64(b"application/cloudevents+json")]],
    "key": None,
    "value": b64(json.dumps(_DOCUMENT).encode()),
}

_ORDER = {"sku": "A-1", "qty": 2}

#: name -> case. ``op`` is ``http.to_binary`` ... ``kafka.from_structured``; ``event`` or ``message`` is
#: the input; ``kwargs`` maps a keyword to a function name of MARSHALLERS / UNMARSHALLERS.
CASES: dict[str, dict[str, Any]] = {
    # HTTP, out
    "http binary, JSON data through json.dumps": {
        "op": "http.to_binary", "event": _event(_ORDER), "kwargs": {"data_marshaller": "json_dumps"}},
    "http binary, JSON data without a content type": {
        "op": "http.to_binary", "event": {"attributes": ATTRIBUTES, "data": _ORDER},
        "kwargs": {"data_marshaller": "json_dumps"}},
    "http binary, text data through str.upper": {
        "op": "http.to_binary", "event": _event("pay now", datacontenttype="text/plain"),
        "kwargs": {"data_marshaller": "upper"}},
    "http binary, a marshaller giving bytes": {
        "op": "http.to_binary", "event": _event(_ORDER), "kwargs": {"data_marshaller": "tagged_bytes"}},
    "http binary, a marshaller that raises": {
        "op": "http.to_binary", "event": _event(_ORDER), "kwargs": {"data_marshaller": "fails"}},
    "http structured, JSON data through json.dumps": {
        "op": "http.to_structured", "event": _event(_ORDER), "kwargs": {"data_marshaller": "json_dumps"}},
    "http structured, a marshaller giving bytes": {
        "op": "http.to_structured", "event": _event(_ORDER), "kwargs": {"data_marshaller": "tagged_bytes"}},
    "http structured, a marshaller that raises": {
        "op": "http.to_structured", "event": _event(_ORDER), "kwargs": {"data_marshaller": "fails"}},
    "http to_json, a marshaller giving text": {
        "op": "http.to_json", "event": _event(_ORDER), "kwargs": {"data_marshaller": "tagged_text"}},
    # HTTP, in
    "http binary in, the unmarshaller sees the body": {
        "op": "http.from_http", "message": _HTTP_BINARY, "kwargs": {"data_unmarshaller": "seen"}},
    "http binary in, json.loads": {
        "op": "http.from_http", "message": _HTTP_BINARY, "kwargs": {"data_unmarshaller": "json_loads"}},
    "http binary in, an unmarshaller that raises": {
        "op": "http.from_http", "message": _HTTP_BINARY, "kwargs": {"data_unmarshaller": "fails"}},
    "http structured in, the unmarshaller sees the data member as JSON text": {
        "op": "http.from_http", "message": _HTTP_STRUCTURED, "kwargs": {"data_unmarshaller": "seen"}},
    "http structured in, the unmarshaller sees data_base64 as bytes": {
        "op": "http.from_http", "message": _HTTP_STRUCTURED_BASE64, "kwargs": {"data_unmarshaller": "seen"}},
    "http from_json, the unmarshaller sees the data member as JSON text": {
        "op": "http.from_json", "message": _HTTP_STRUCTURED, "kwargs": {"data_unmarshaller": "seen"}},
    "http from_json, no unmarshaller": {"op": "http.from_json", "message": _HTTP_STRUCTURED, "kwargs": {}},
    "http from_dict": {"op": "http.from_dict", "event": _event(_ORDER), "kwargs": {}},
    # Kafka, out
    "kafka binary, no marshaller": {"op": "kafka.to_binary", "event": _event(_ORDER), "kwargs": {}},
    "kafka binary, the partitionkey is the record key": {
        "op": "kafka.to_binary", "event": _event(_ORDER, partitionkey="user-9"), "kwargs": {}},
    "kafka binary, a marshaller giving bytes": {
        "op": "kafka.to_binary", "event": _event(_ORDER), "kwargs": {"data_marshaller": "tagged_bytes"}},
    "kafka binary, a marshaller that raises": {
        "op": "kafka.to_binary", "event": _event(_ORDER), "kwargs": {"data_marshaller": "fails"}},
    "kafka binary, a key mapper that raises": {
        "op": "kafka.to_binary", "event": _event(_ORDER), "kwargs": {"key_mapper": "fails"}},
    "kafka structured, a data marshaller giving text": {
        "op": "kafka.to_structured", "event": _event(_ORDER), "kwargs": {"data_marshaller": "tagged_text"}},
    "kafka structured, a data marshaller giving bytes": {
        "op": "kafka.to_structured", "event": _event(_ORDER), "kwargs": {"data_marshaller": "tagged_bytes"}},
    "kafka structured, an envelope marshaller": {
        "op": "kafka.to_structured", "event": _event(_ORDER), "kwargs": {"envelope_marshaller": "sorted_members"}},
    # Kafka, in
    "kafka binary in, the unmarshaller sees the value": {
        "op": "kafka.from_binary", "message": _KAFKA_BINARY, "kwargs": {"data_unmarshaller": "seen"}},
    "kafka binary in, an unmarshaller that raises": {
        "op": "kafka.from_binary", "message": _KAFKA_BINARY, "kwargs": {"data_unmarshaller": "fails"}},
    "kafka structured in, the unmarshaller sees the data member as parsed": {
        "op": "kafka.from_structured", "message": _KAFKA_STRUCTURED, "kwargs": {"data_unmarshaller": "seen"}},
    "kafka structured in, an envelope unmarshaller": {
        "op": "kafka.from_structured", "message": _KAFKA_STRUCTURED,
        "kwargs": {"envelope_unmarshaller": "envelope"}},
    "kafka structured in, an envelope unmarshaller that raises": {
        "op": "kafka.from_structured", "message": _KAFKA_STRUCTURED, "kwargs": {"envelope_unmarshaller": "fails"}},
}  # fmt: skip


def _body(raw: bytes | None) -> Any:
    """A body for comparing: a JSON object parsed (two serializers may space or order it differently),
    anything else as Base64."""
    if raw is not None and raw[:1] == b"{":
        return {"json": json.loads(raw)}
    return b64(raw)


def functions(kwargs: dict[str, str]) -> dict[str, Callable[[Any], Any]]:
    """The keyword arguments of a case, names turned into the functions they name."""
    table = {"data_marshaller": MARSHALLERS, "envelope_marshaller": MARSHALLERS, "key_mapper": MARSHALLERS,
             "data_unmarshaller": UNMARSHALLERS, "envelope_unmarshaller": UNMARSHALLERS}  # fmt: skip
    return {keyword: table[keyword][name] for keyword, name in kwargs.items()}


def run(case: dict[str, Any], http: Any, kafka: Any, *, make_event: Callable[..., Any],
        make_record: Callable[..., Any], text: Callable[[Any], str], error_names: tuple[str, ...]) -> dict[str, Any]:  # fmt: skip
    """Run one case with one side's modules; a result both sides report alike.

    An error is reported by its class name when it is one of ``error_names`` (the marshaller errors),
    so that a cefmt ``DataMarshallerError`` and the SDK's compare equal. ``text`` writes an attribute
    value as text (the SDK holds strings; cefmt typed values).
    """
    op, kwargs = case["op"], functions(case["kwargs"])
    try:
        if op.startswith(("http.to_", "kafka.to_")):
            event = make_event(case["event"]["attributes"], case["event"]["data"])
            module = http if op.startswith("http.") else kafka
            result = getattr(module, op.split(".")[1])(event, **kwargs)
            if op == "http.to_json":
                return {"body": _body(bytes(result))}
            if op.startswith("http."):
                headers, body = result
                return {"headers": {k.lower(): v for k, v in dict(headers).items()}, "body": _body(body)}
            return {"headers": {k: v.decode() for k, v in dict(result.headers).items()},
                    "key": b64(result.key.encode() if isinstance(result.key, str) else result.key),
                    "value": _body(result.value)}  # fmt: skip
        if op == "http.from_dict":
            event = http.from_dict({**case["event"]["attributes"], "data": case["event"]["data"]})
        elif op == "http.from_json":
            event = http.from_json(unb64(case["message"]["body"]), **kwargs)
        elif op == "http.from_http":
            event = http.from_http(case["message"]["headers"], unb64(case["message"]["body"]), **kwargs)
        else:
            message = case["message"]
            record = make_record(headers={name: unb64(value) for name, value in message["headers"]},
                                 key=unb64(message["key"]), value=unb64(message["value"]))  # fmt: skip
            event = getattr(kafka, op.split(".")[1])(record, **kwargs)
    except Exception as exc:  # noqa: BLE001 - an error is a result to compare
        name = type(exc).__name__
        return {"error": name if name in error_names else f"{name}: {exc}"}
    attributes = {name: text(value) for name, value in event.get_attributes().items()}
    data = event.get_data()
    return {"attributes": attributes, "data": b64(data) if isinstance(data, bytes) else data}
