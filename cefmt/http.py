"""HTTP binding, with the functional API of the CloudEvents SDK.

Code written for the SDK moves over by changing the import::

    from cefmt.http import CloudEvent, to_binary, to_structured, from_http

    headers, body = to_binary(CloudEvent({"type": "t", "source": "/s"}, {"a": 1}))
    event = from_http(headers, body)

Everything here is sans-I/O: send ``headers`` and ``body`` with any HTTP client.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._errors import MalformedMessageError
from ._event import CloudEvent
from ._http import (
    HTTPMessage,
    as_message,
    decode_batch,
    detect,
    encode_batch,
    encode_binary,
    encode_structured,
    normalize_headers,
    quote_header,
    unquote_header,
)
from ._registry import default_registry

__all__ = [
    "CloudEvent",
    "HTTPMessage",
    "from_http",
    "from_http_batch",
    "normalize_headers",
    "quote_header",
    "to_batch",
    "to_binary",
    "to_structured",
    "unquote_header",
]


def to_binary(event: CloudEvent) -> HTTPMessage:
    """Binary mode: ``headers, body = to_binary(event)``.

    >>> headers, body = to_binary(CloudEvent({"type": "t", "source": "/s", "id": "1"}, {"a": 1}))
    >>> headers["content-type"], body
    ('application/json', b'{"a":1}')
    """
    return encode_binary(event)


def to_structured(event: CloudEvent, *, format: str = "json") -> HTTPMessage:
    """Structured mode in any registered event format: ``headers, body = to_structured(event)``.

    >>> to_structured(CloudEvent({"type": "t", "source": "/s"})).headers
    {'content-type': 'application/cloudevents+json'}
    """
    return encode_structured(event, format=format)


def to_batch(events: Iterable[CloudEvent], *, format: str = "json") -> HTTPMessage:
    """Batch mode: several events of one spec version in one body."""
    return encode_batch(events, format=format)


def from_http(headers: Any, data: bytes | str | None, **options: Any) -> CloudEvent:
    """One event from a received HTTP request or response, in binary or structured mode.

    ``headers`` may be a dict, any object with ``.items()`` (Flask's ``request.headers``) or a list of
    pairs. A batch message is refused here: use :func:`from_http_batch`.

    >>> from_http({"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}, b"").id
    '1'
    """
    message = as_message((headers, data))
    specversion, mode = detect(message)
    if mode == "batch":
        raise MalformedMessageError("this is a batch message; read it with from_http_batch()")
    return default_registry.decode(message, "http", mode, specversion=specversion, **options)  # type: ignore[no-any-return]


def from_http_batch(headers: Any, data: bytes | str | None, **options: Any) -> list[CloudEvent]:
    """Every event of a batch-mode HTTP message."""
    return decode_batch(as_message((headers, data)), **options)
