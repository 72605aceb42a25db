"""The CloudEvents SDK's marshaller keywords, with the SDK's meaning, for :mod:`cefmt.http` and :mod:`cefmt.kafka`.

The SDK (``cloudevents`` 1.x, and ``cloudevents.v1`` in 2.x) lets a caller turn data into its wire form
with a ``data_marshaller`` and back with a ``data_unmarshaller``. cefmt gives them the same places:

* binary mode, out: the marshaller gets ``event.data`` and its result (``bytes`` or ``str``, sent as
  UTF-8) is the body;
* structured mode, out: its result is the event's data in the document, ``bytes`` going to
  ``data_base64`` (spec 0.3: Base64 in ``data``);
* binary mode, in: the unmarshaller gets the body as the caller handed it over;
* structured mode, in: it gets the ``data`` member (HTTP: as JSON text; Kafka: as parsed), or the
  decoded bytes of ``data_base64``.

Whatever comes back is held to the record's rules like any data. A user's function that raises is
reported as :class:`~cefmt.DataMarshallerError` or :class:`~cefmt.DataUnmarshallerError`, chained to
its exception. None of this is on the path of a call without marshallers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ._binding import event_from_parts
from ._errors import CloudEventError, DataMarshallerError, DataUnmarshallerError, MalformedMessageError
from ._event import CloudEvent
from ._json_format import from_document
from ._limits import Limits
from ._spec import SPECS
from ._types import decode_base64

__all__ = [
    "Marshaller",
    "Unmarshaller",
    "as_body",
    "event_from_binary",
    "event_from_document",
    "marshal",
    "unmarshal",
    "with_marshalled_data",
]

#: A function from event data to its wire form (``bytes`` or ``str``; a JSON value in structured mode).
Marshaller = Callable[[Any], Any]

#: A function from data in its wire form to the value the event holds.
Unmarshaller = Callable[[Any], Any]


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def marshal(role: str, function: Marshaller, value: Any) -> Any:
    """``function(value)``; anything it raises becomes a :class:`~cefmt.DataMarshallerError`.

    >>> marshal("data_marshaller", str.upper, "a")
    'A'
    """
    try:
        return function(value)
    except Exception as exc:  # a user's function may raise anything: it is reported, chained
        raise DataMarshallerError(role, function, _reason(exc)) from exc


def unmarshal(role: str, function: Unmarshaller, raw: Any) -> Any:
    """``function(raw)``; anything it raises becomes a :class:`~cefmt.DataUnmarshallerError`.

    >>> unmarshal("data_unmarshaller", json.loads, b"[1]")
    [1]
    """
    try:
        return function(raw)
    except Exception as exc:  # as in marshal
        raise DataUnmarshallerError(role, function, _reason(exc)) from exc


def as_body(result: Any, role: str, function: Marshaller) -> bytes:
    """A marshaller's result as a binary-mode body: ``bytes`` as they are, ``str`` as UTF-8, ``None`` empty.

    >>> as_body("é", "data_marshaller", str)
    b'\\xc3\\xa9'
    """
    if type(result) is bytes:
        return result
    if isinstance(result, (bytes, bytearray, memoryview)):
        return bytes(result)
    if isinstance(result, str):
        try:
            return result.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise DataMarshallerError(role, function, f"returned text that has no UTF-8 form ({exc.reason})") from exc
    if result is None:
        return b""
    raise DataMarshallerError(role, function, f"returned {type(result).__name__}; a body is bytes or str")


def _with_data(event: CloudEvent, data: Any, error: type[DataMarshallerError | DataUnmarshallerError], role: str,
               function: Callable[[Any], Any]) -> CloudEvent:  # fmt: skip
    try:
        return event.evolve(data=data)
    except CloudEventError as exc:
        raise error(role, function, f"returned {type(data).__name__}, which the event cannot hold: {exc}") from exc


def with_marshalled_data(event: CloudEvent, data_marshaller: Marshaller) -> CloudEvent:
    """The event with the marshaller's result as its data, for a structured-mode document: ``bytes``
    go to ``data_base64`` there, anything else to ``data``. An event without data is returned as it is
    (there is nothing to marshal).

    >>> event = CloudEvent({"type": "t", "source": "/s", "id": "1"}, {"a": 1})
    >>> with_marshalled_data(event, json.dumps).data
    '{"a": 1}'
    """
    if event.data is None:
        return event
    result = marshal("data_marshaller", data_marshaller, event.data)
    if isinstance(result, (bytearray, memoryview)):
        result = bytes(result)
    return _with_data(event, result, DataMarshallerError, "data_marshaller", data_marshaller)


def _base64_marked(attributes: dict[str, Any]) -> bool:
    """Whether a 0.3 message marks its data as Base64 (``datacontentencoding``); the mark is removed."""
    spec = SPECS.get(attributes.get("specversion"))  # type: ignore[arg-type]
    if spec is None or spec.data_encoding is None or spec.data_encoding not in attributes:
        return False
    encoding = attributes.pop(spec.data_encoding)
    if encoding != "base64":
        raise MalformedMessageError(f"{spec.data_encoding} {encoding!r} is not supported")
    return True


def event_from_binary(
    attributes: dict[str, Any],
    raw: bytes | str,
    content_type: str | None,
    data_unmarshaller: Unmarshaller,
    *,
    where: Callable[[str], str],
    body_where: str = "body",
    extension_types: Mapping[str, type] | None = None,
    limits: Limits | None = None,
) -> CloudEvent:
    """A binary-mode message whose body the caller's ``data_unmarshaller`` reads: ``raw`` is the body
    as the caller handed it over (spec 0.3 Base64 bodies are decoded first). An empty body is no data,
    and the unmarshaller is not called. ``attributes`` is consumed.

    >>> event = event_from_binary({"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}, b"7",
    ...                           None, int, where=repr)
    >>> event.data, event.datacontenttype
    (7, 'application/json')
    """
    if raw and _base64_marked(attributes):
        raw = decode_base64(raw if isinstance(raw, str) else raw.decode("ascii", "replace"), f"{body_where} (base64)")
    event = event_from_parts(
        attributes, None, content_type, where=where, body_where=body_where, extension_types=extension_types,
        limits=limits,
    )  # fmt: skip
    if not raw:
        return event
    data = unmarshal("data_unmarshaller", data_unmarshaller, raw)
    return _with_data(event, data, DataUnmarshallerError, "data_unmarshaller", data_unmarshaller)


def event_from_document(
    document: Any,
    data_unmarshaller: Unmarshaller | None,
    *,
    data_as_text: bool,
    extension_types: Mapping[str, type] | None = None,
    limits: Limits | None = None,
) -> CloudEvent:
    """A structured-mode document (the JSON format's members, parsed) whose data the caller's
    ``data_unmarshaller`` reads: the ``data`` member as JSON text (``data_as_text``, as the SDK's HTTP
    functions give it) or as parsed (as its Kafka functions do), or the bytes of ``data_base64``.
    Without an unmarshaller the document is read as the JSON format reads it.

    >>> event_from_document({"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "data": [1]},
    ...                     len, data_as_text=True).data
    3
    """
    if not isinstance(document, Mapping):
        raise MalformedMessageError(f"an event document is a mapping of members, got {type(document).__name__}")
    members = dict(document)
    if data_unmarshaller is None:
        return from_document(members, extension_types=extension_types, limits=limits)
    data = members.pop("data", None)
    encoded = members.pop("data_base64", None)
    raw: Any = None
    if encoded is not None:
        if data is not None:
            raise MalformedMessageError("event has both data and data_base64; at most one is allowed")
        if not isinstance(encoded, str):
            raise MalformedMessageError(f"member 'data_base64' must be a string, got {type(encoded).__name__}")
        spec = SPECS.get(members.get("specversion"))  # type: ignore[arg-type]
        if spec is not None and spec.base64_member != "data_base64":
            raise MalformedMessageError(f"data_base64 is not a CloudEvents {spec.version} member")
        raw = decode_base64(encoded, "member 'data_base64'")
    elif data is not None:
        if _base64_marked(members):
            if not isinstance(data, str):
                raise MalformedMessageError(f"member 'data' must be Base64 text, got {type(data).__name__}")
            raw = decode_base64(data, "member 'data' (datacontentencoding base64)")
        else:
            raw = json.dumps(data) if data_as_text else data
    event = from_document(members, extension_types=extension_types, limits=limits)
    if raw is None:
        return event
    value = unmarshal("data_unmarshaller", data_unmarshaller, raw)
    return _with_data(event, value, DataUnmarshallerError, "data_unmarshaller", data_unmarshaller)
