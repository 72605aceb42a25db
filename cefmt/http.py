"""The HTTP binding, with the functional API of the CloudEvents SDK and one-call receiving for web frameworks.

Code written for the SDK's ``cloudevents.http`` moves over by changing the import; the SDK's
``data_marshaller`` and ``data_unmarshaller`` keep their meaning::

    from cefmt.http import CloudEvent, to_binary, to_structured, from_http

    headers, body = to_binary(CloudEvent({"type": "t", "source": "/s"}, {"a": 1}))
    event = from_http(headers, body)

A receiver takes its framework's request object as it comes: ``await from_request(request)`` in
Starlette, FastAPI, aiohttp or Django async views (the body is read within limits), ``cefmt.decode_event
(request, "http")`` in Flask or Django sync views; :func:`error_response` turns a cefmt error into the
status and text to answer with. Everything else is sans-I/O: send ``headers`` and ``body`` with any
HTTP client.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from . import _sdk
from ._data import load_json
from ._errors import MalformedMessageError, UsageError
from ._event import CloudEvent
from ._headers import normalize_headers, quote_header, read_headers, unquote_header
from ._http import HTTPMessage, Received, _header_of, _mode_of, as_message, detect, read
from ._limits import Limits
from ._media import parse_media_type
from ._receive import (
    ErrorResponse,
    error_response,
    event_dependency,
    events_dependency,
    events_from_request,
    from_request,
)
from ._registry import default_registry
from ._sdk import Marshaller, Unmarshaller

__all__ = [
    "CloudEvent",
    "ErrorResponse",
    "HTTPMessage",
    "Marshaller",
    "Unmarshaller",
    "as_message",
    "error_response",
    "event_dependency",
    "events_dependency",
    "events_from_request",
    "from_dict",
    "from_http",
    "from_http_batch",
    "from_json",
    "from_request",
    "is_binary",
    "is_structured",
    "normalize_headers",
    "quote_header",
    "to_batch",
    "to_binary",
    "to_binary_http",
    "to_json",
    "to_structured",
    "to_structured_http",
    "unquote_header",
]

_JSON = "application/cloudevents+json"


# -- sending ----------------------------------------------------------------------------------------------


def to_binary(event: CloudEvent, data_marshaller: Marshaller | None = None) -> HTTPMessage:
    """Binary mode: ``headers, body = to_binary(event)``.

    ``data_marshaller``, as in the SDK, turns ``event.data`` into the body (its ``bytes``, or its ``str``
    as UTF-8); it is not called for an event without data. Without it, the body is the data by
    cefmt's body rule (JSON for JSON data, text as UTF-8, bytes as they are).

    >>> event = CloudEvent({"type": "t", "source": "/s", "id": "1"}, {"a": 1})
    >>> headers, body = to_binary(event)
    >>> headers["content-type"], body
    ('application/json', b'{"a":1}')
    >>> to_binary(event, lambda data: repr(data)).body
    b"{'a': 1}"
    """
    if data_marshaller is None or event.data is None:
        return default_registry.encode(event, "http", "binary")  # type: ignore[no-any-return]
    result = _sdk.marshal("data_marshaller", data_marshaller, event.data)
    body = _sdk.as_body(result, "data_marshaller", data_marshaller)
    headers, _ = default_registry.encode(event.evolve(data=None), "http", "binary")  # the attributes alone
    return HTTPMessage(headers, body)


def to_structured(event: CloudEvent, data_marshaller: Marshaller | None = None, *, format: str = "json") -> HTTPMessage:
    """Structured mode in any registered event format: ``headers, body = to_structured(event)``.

    ``data_marshaller``, as in the SDK, turns ``event.data`` into what the document holds as data:
    ``bytes`` go to ``data_base64``, anything else to ``data``.

    >>> to_structured(CloudEvent({"type": "t", "source": "/s"})).headers
    {'content-type': 'application/cloudevents+json'}
    >>> event = CloudEvent({"type": "t", "source": "/s", "id": "1"}, {"a": 1})
    >>> to_structured(event, lambda data: b"raw").body
    b'{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/json","data_base64":"cmF3"}'
    """
    if data_marshaller is not None:
        event = _sdk.with_marshalled_data(event, data_marshaller)
    return default_registry.encode(event, "http", "structured", format=format)  # type: ignore[no-any-return]


def to_batch(events: Iterable[CloudEvent], *, format: str = "json") -> HTTPMessage:
    """Batch mode: several events of one spec version in one body.

    >>> to_batch([CloudEvent({"type": "t", "source": "/s", "id": "1"})]).headers
    {'content-type': 'application/cloudevents-batch+json'}
    """
    return default_registry.encode(events, "http", "batch", format=format)  # type: ignore[no-any-return]


def to_json(event: CloudEvent, data_marshaller: Marshaller | None = None) -> bytes:
    """The event in the JSON event format (the body of :func:`to_structured`), as the SDK's ``to_json``.

    >>> to_json(CloudEvent({"type": "t", "source": "/s", "id": "1"}))
    b'{"specversion":"1.0","id":"1","source":"/s","type":"t"}'
    """
    return to_structured(event, data_marshaller).body


# -- receiving --------------------------------------------------------------------------------------------


def from_http(
    headers: Any,
    data: bytes | str | None,
    data_unmarshaller: Unmarshaller | None = None,
    *,
    limits: Limits | None = None,
    extension_types: Mapping[str, type] | None = None,
) -> CloudEvent:
    """One event from a received HTTP request or response, in binary or structured mode.

    ``headers`` may be a dict, any object with ``.items()`` (Flask's ``request.headers``, aiohttp's
    ``CIMultiDictProxy``) or a list of pairs. A batch message is refused here: use
    :func:`from_http_batch`. ``limits`` bounds the message (:data:`cefmt.DEFAULT_LIMITS` when ``None``);
    ``extension_types`` restores extension types that headers carry as text (``{"count": int}``).

    ``data_unmarshaller``, as in the SDK, reads the data instead of cefmt's body rule: in binary mode it
    gets the body as given here; in structured mode (JSON format) the ``data`` member as JSON text, or
    the bytes of ``data_base64``. It is not called for a message without data.

    >>> from_http({"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}, b"").id
    '1'
    >>> headers = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}
    >>> from_http(headers, b"42", lambda body: int(body) + 1).data
    43
    """
    message = read((headers, data), limits=limits)
    specversion, mode = detect(message)
    if mode == "batch":
        raise MalformedMessageError("this is a batch message; read it with from_http_batch()")
    if data_unmarshaller is None:
        return default_registry.decode(  # type: ignore[no-any-return]
            message, "http", mode, specversion=specversion, limits=limits, extension_types=extension_types
        )
    if not callable(data_unmarshaller):
        raise UsageError(f"data_unmarshaller must be callable, got {type(data_unmarshaller).__name__}")
    return _unmarshalled(message, mode, data, data_unmarshaller, limits=limits, extension_types=extension_types)


def _unmarshalled(
    message: Received,
    mode: str,
    data: bytes | str | None,
    data_unmarshaller: Unmarshaller,
    *,
    limits: Limits | None,
    extension_types: Mapping[str, type] | None,
) -> CloudEvent:
    if mode == "binary":
        raw = data if isinstance(data, str) else message.body
        return _sdk.event_from_binary(
            dict(message.attributes), raw, message.content_type, data_unmarshaller,
            where=_header_of, extension_types=extension_types, limits=limits,
        )  # fmt: skip
    if message.content_type is None or parse_media_type(message.content_type).essence != _JSON:
        raise UsageError(
            f"data_unmarshaller reads the JSON event format; this message is {message.content_type!r}: "
            "read it without data_unmarshaller"
        )
    document = load_json(message.body, "JSON event", limits=limits)
    return _sdk.event_from_document(
        document, data_unmarshaller, data_as_text=True, extension_types=extension_types, limits=limits
    )


def from_http_batch(
    headers: Any,
    data: bytes | str | None,
    *,
    limits: Limits | None = None,
    extension_types: Mapping[str, type] | None = None,
) -> list[CloudEvent]:
    """Every event of a batch-mode HTTP message (``limits`` and ``extension_types`` as for :func:`from_http`).

    >>> from_http_batch({"content-type": "application/cloudevents-batch+json"}, b"[]")
    []
    """
    message = read((headers, data), limits=limits)
    return default_registry.decode(  # type: ignore[no-any-return]
        message, "http", "batch", limits=limits, extension_types=extension_types
    )


def from_json(
    data: bytes | str,
    data_unmarshaller: Unmarshaller | None = None,
    *,
    limits: Limits | None = None,
    extension_types: Mapping[str, type] | None = None,
) -> CloudEvent:
    """One event from the JSON event format, as the SDK's ``from_json`` (``data_unmarshaller`` as in
    structured mode of :func:`from_http`).

    >>> from_json(b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":"hi"}').data
    'hi'
    """
    if data_unmarshaller is None:
        return default_registry.decode(  # type: ignore[no-any-return]
            data, "json", "structured", limits=limits, extension_types=extension_types
        )
    return from_http({"content-type": _JSON}, data, data_unmarshaller, limits=limits, extension_types=extension_types)


def from_dict(event: Mapping[str, Any]) -> CloudEvent:
    """An event from a ``dict`` of attributes with its data under ``"data"``, as the SDK's ``from_dict``.

    >>> from_dict({"type": "t", "source": "/s", "id": "1", "data": {"a": 1}}).data
    {'a': 1}
    """
    if not isinstance(event, Mapping):
        raise UsageError(f"from_dict takes a mapping of attributes, got {type(event).__name__}")
    attributes = {name: value for name, value in event.items() if name != "data"}
    return CloudEvent(attributes, event.get("data"))


# -- deprecated in the SDK, kept working here -------------------------------------------------------------

_F = TypeVar("_F", bound=Callable[..., Any])


def _deprecated(instead: str) -> Callable[[_F], _F]:
    def decorate(function: _F) -> _F:
        @functools.wraps(function)
        def warn_then_call(*args: Any, **kwargs: Any) -> Any:
            warnings.warn(
                f"cefmt.http.{function.__name__} is deprecated, as it is in the CloudEvents SDK; use {instead}",
                DeprecationWarning,
                stacklevel=2,
            )
            return function(*args, **kwargs)

        return warn_then_call  # type: ignore[return-value]

    return decorate


def _mode_of_headers(headers: Any) -> str | None:
    attributes, content_type = read_headers(headers)
    if content_type is not None and _mode_of(content_type) != "binary":
        return _mode_of(content_type)
    return "binary" if "specversion" in attributes else None


@_deprecated("cefmt.decode(message, 'http'), which tells the mode itself")
def is_binary(headers: Any) -> bool:
    """Whether ``headers`` announce a binary-mode message (a ``ce-specversion`` header, and a content type
    that is not a CloudEvents format). Deprecated, as in the SDK.

    >>> import warnings; warnings.simplefilter("ignore", DeprecationWarning)
    >>> is_binary({"ce-specversion": "1.0", "content-type": "text/plain"})
    True
    """
    return _mode_of_headers(headers) == "binary"


@_deprecated("cefmt.decode(message, 'http'), which tells the mode itself")
def is_structured(headers: Any) -> bool:
    """Whether ``headers`` announce a structured-mode message (``application/cloudevents+FORMAT``).
    Deprecated, as in the SDK.

    >>> import warnings; warnings.simplefilter("ignore", DeprecationWarning)
    >>> is_structured({"content-type": "application/cloudevents+json"})
    True
    """
    return _mode_of_headers(headers) == "structured"


@_deprecated("to_binary()")
def to_binary_http(event: CloudEvent, data_marshaller: Marshaller | None = None) -> HTTPMessage:
    """:func:`to_binary` under its old SDK name. Deprecated, as in the SDK."""
    return to_binary(event, data_marshaller)


@_deprecated("to_structured()")
def to_structured_http(event: CloudEvent, data_marshaller: Marshaller | None = None) -> HTTPMessage:
    """:func:`to_structured` under its old SDK name. Deprecated, as in the SDK."""
    return to_structured(event, data_marshaller)
