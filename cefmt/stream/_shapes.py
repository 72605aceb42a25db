"""Transport messages as JSON Lines: one documented JSON object per captured message.

HTTP::

    {"headers": {"ce-id": "1", "content-type": "text/plain"}, "body_base64": "aGk="}

Kafka::

    {"key_base64": "b3JkZXItNw==", "headers": [["ce_id", "MQ=="]], "value_base64": "aGk="}

Bodies, keys, values and Kafka header values are Base64 (RFC 4648), so any bytes survive. When reading, a
plain-text ``"body"`` (HTTP) or ``"key"``/``"value"`` (Kafka) is accepted instead, for captures typed
by hand; ``null`` or a missing member means no key or no value. Other members are ignored.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from cefmt import MalformedMessageError
from cefmt.codec import decode_base64, dump_json, load_json

__all__ = ["SHAPES", "Shape"]

#: (message object -> JSON document, JSON line -> message object a decoder accepts)
Shape = tuple[Callable[[Any], dict[str, Any]], Callable[[bytes], Any]]


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _document(raw: bytes, what: str) -> dict[str, Any]:
    doc = load_json(raw, f"{what} line")
    if type(doc) is not dict:
        raise MalformedMessageError(f"{what} line must be a JSON object")
    return doc


def _bytes_member(doc: dict[str, Any], name: str, what: str) -> bytes | None:
    encoded = doc.get(f"{name}_base64")
    if encoded is not None:
        return decode_base64(encoded, f"{what} member '{name}_base64'")
    plain = doc.get(name)
    if plain is None:
        return None
    if type(plain) is not str:
        raise MalformedMessageError(f"{what} member '{name}' must be a string, got {type(plain).__name__}")
    return plain.encode("utf-8")


# -- HTTP -------------------------------------------------------------------------------------------------------


def http_to_json(message: Any) -> dict[str, Any]:
    """An HTTP message (``headers, body``) as its JSON document.

    >>> http_to_json(({"ce-id": "1"}, b"hi"))
    {'headers': {'ce-id': '1'}, 'body_base64': 'aGk='}
    """
    headers, body = message
    return {"headers": dict(headers), "body_base64": _b64(body)}


def http_from_json(raw: bytes) -> tuple[dict[str, Any], bytes]:
    """A JSON line back to a ``(headers, body)`` pair for the HTTP decoder.

    >>> http_from_json(b'{"headers": {"ce-id": "1"}, "body": "hi"}')
    ({'ce-id': '1'}, b'hi')
    """
    doc = _document(raw, "HTTP message")
    headers = doc.get("headers")
    if type(headers) is not dict:
        raise MalformedMessageError("HTTP message member 'headers' must be an object of header names to values")
    return headers, _bytes_member(doc, "body", "HTTP message") or b""


# -- Kafka ------------------------------------------------------------------------------------------------------


def kafka_to_json(message: Any) -> dict[str, Any]:
    """A Kafka record (``key``, ``headers``, ``value``) as its JSON document.

    >>> class R: key, headers, value = None, [("ce_id", b"1")], b"hi"
    >>> kafka_to_json(R())
    {'key_base64': None, 'headers': [['ce_id', 'MQ==']], 'value_base64': 'aGk='}
    """
    key, value = message.key, message.value
    return {
        "key_base64": None if key is None else _b64(key),
        "headers": [[name, _b64(data)] for name, data in message.headers],
        "value_base64": None if value is None else _b64(value),
    }


def kafka_from_json(raw: bytes) -> dict[str, Any]:
    """A JSON line back to the ``{"key", "headers", "value"}`` mapping the Kafka decoder reads.

    >>> kafka_from_json(b'{"headers": [["ce_id", "MQ=="]], "value": "hi"}')
    {'key': None, 'headers': [('ce_id', b'1')], 'value': b'hi'}
    """
    doc = _document(raw, "Kafka record")
    pairs = doc.get("headers", [])
    if type(pairs) is not list:
        raise MalformedMessageError("Kafka record member 'headers' must be an array of [name, base64 value] pairs")
    headers: list[tuple[str, bytes]] = []
    for index, pair in enumerate(pairs):
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
            raise MalformedMessageError(f"Kafka record header {index} must be a [name, base64 value] pair")
        headers.append((pair[0], decode_base64(pair[1], f"Kafka record header {pair[0]!r}")))
    return {
        "key": _bytes_member(doc, "key", "Kafka record"),
        "headers": headers,
        "value": _bytes_member(doc, "value", "Kafka record"),
    }


#: The transports whose messages can be read and written as JSON Lines, by transport name.
SHAPES: dict[str, Shape] = {
    "http": (http_to_json, http_from_json),
    "kafka": (kafka_to_json, kafka_from_json),
}


def dump_line(doc: dict[str, Any]) -> bytes:
    """A JSON document as one line of UTF-8 (with its newline)."""
    return dump_json(doc, "message") + b"\n"
