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
from ._headers import normalize_headers, quote_header, unquote_header
from ._http import HTTPMessage, as_message, detect, read
from ._limits import Limits
from ._registry import default_registry

__all__ = [
    "CloudEvent",
    "HTTPMessage",
    "as_message",
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
    return default_registry.encode(event, "http", "binary")  # type: ignore[no-any-return]


def to_structured(event: CloudEvent, *, format: str = "json") -> HTTPMessage:
    """Structured mode in any registered event format: ``headers, body = to_structured(event)``.

    >>> to_structured(CloudEvent({"type": "t", "source": "/s"})).headers
    {'content-type': 'application/cloudevents+json'}
    """
    return default_registry.encode(event, "http", "structured", format=format)  # type: ignore[no-any-return]


def to_batch(events: Iterable[CloudEvent], *, format: str = "json") -> HTTPMessage:
    """Batch mode: several events of one spec version in one body."""
    return default_registry.encode(events, "http", "batch", format=format)  # type: ignore[no-any-return]


def from_http(headers: Any, data: bytes | str | None, *, limits: Limits | None = None, **options: Any) -> CloudEvent:
    """One event from a received HTTP request or response, in binary or structured mode.

    ``headers`` may be a dict, any object with ``.items()`` (Flask's ``request.headers``) or a list of
    pairs. A batch message is refused here: use :func:`from_http_batch`. ``limits`` bounds the message
    (:data:`cefmt.DEFAULT_LIMITS` when ``None``); the headers are read once.

    >>> from_http({"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}, b"").id
    '1'
    """
    message = read((headers, data), limits=limits)
    specversion, mode = detect(message)
    if mode == "batch":
        raise MalformedMessageError("this is a batch message; read it with from_http_batch()")
    return default_registry.decode(  # type: ignore[no-any-return]
        message, "http", mode, specversion=specversion, limits=limits, **options
    )


def from_http_batch(
    headers: Any, data: bytes | str | None, *, limits: Limits | None = None, **options: Any
) -> list[CloudEvent]:
    """Every event of a batch-mode HTTP message (``limits`` as for :func:`from_http`)."""
    message = read((headers, data), limits=limits)
    return default_registry.decode(  # type: ignore[no-any-return]
        message, "http", "batch", limits=limits, **options
    )
