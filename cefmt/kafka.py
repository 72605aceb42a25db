"""The Kafka binding with the functional API of the CloudEvents SDK's ``cloudevents.kafka``.

Code written for the SDK moves over by changing the import::

    from cefmt.kafka import KafkaMessage, from_binary, to_binary

    message = to_binary(event)
    producer.produce("orders", key=message.key, value=message.value, headers=message.headers)

This module is the SDK-shaped face of the Kafka plugin (:mod:`cefmt_plugins.kafka`), which stays the
codec: calls without marshallers go straight to ``cefmt.encode(event, "kafka", ...)`` and
``cefmt.decode(record, "kafka", ...)`` through the registry. The SDK's keywords keep their meaning:

* ``data_marshaller``: binary mode, ``event.data`` to the record value (``bytes``, or ``str`` as UTF-8);
  structured mode, ``event.data`` to what the document holds (``bytes`` go to ``data_base64``);
* ``envelope_marshaller``: the whole document (the JSON format's members, as a ``dict``) to the value;
* ``data_unmarshaller``: the value (binary), or the ``data`` member as parsed (structured), to the data;
* ``envelope_unmarshaller``: the value to the document's members (a mapping);
* ``key_mapper``: the event to the record key; by default, as in the SDK, the ``partitionkey``
  attribute (Kafka binding 1.0, section 3.1), which stays in the headers too.

A record is decoded from any client's shape: a :class:`KafkaMessage`, the SDK's own ``KafkaMessage``, a
confluent-kafka ``Message``, a kafka-python or aiokafka ``ConsumerRecord``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cefmt_plugins.kafka import KafkaHeaders, KafkaMessage, KeyMapper, partitionkey_key, read

from . import _sdk
from ._binding import format_of
from ._data import load_json
from ._errors import CloudEventError, DataMarshallerError, KeyMapperError, MalformedMessageError, UsageError
from ._event import CloudEvent
from ._json_format import to_document
from ._limits import Limits
from ._registry import default_registry
from ._sdk import Marshaller, Unmarshaller

__all__ = [
    "KafkaHeaders",
    "KafkaMessage",
    "KeyMapper",
    "Marshaller",
    "Unmarshaller",
    "from_binary",
    "from_structured",
    "partitionkey_key",
    "to_binary",
    "to_structured",
]

_JSON = b"application/cloudevents+json"


def _record_key(event: CloudEvent, key: bytes | str | None, key_mapper: KeyMapper | None) -> bytes | None:
    if key is not None:
        # Kafka binding 3.1: "Every implementation MUST, by default, map the user provided record key to the
        # Kafka record key."
        if key_mapper is not None:
            raise UsageError("give the record key either as key= or through key_mapper=, not both")
        if isinstance(key, str):
            return key.encode("utf-8")
        if isinstance(key, (bytes, bytearray, memoryview)):
            return bytes(key)
        raise UsageError(f"a Kafka record key must be bytes, str or None, got {type(key).__name__}")
    mapper = partitionkey_key if key_mapper is None else key_mapper
    try:
        key = mapper(event)
    except Exception as exc:  # a user's function may raise anything: it is reported, chained
        raise KeyMapperError(mapper, f"{type(exc).__name__}: {exc}") from exc
    if key is None or type(key) is bytes:
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytearray, memoryview)):
        return bytes(key)
    raise KeyMapperError(mapper, f"returned {type(key).__name__}; a record key is bytes, str or None")


def _event_type(event_type: type[CloudEvent] | None) -> None:
    # The SDK lets a caller pick its event class; cefmt has one record, so only that one is accepted.
    if event_type is not None and event_type is not CloudEvent:
        raise UsageError(f"event_type must be cefmt.CloudEvent or None (cefmt has one record), got {event_type!r}")


# -- binary mode --------------------------------------------------------------------------------------------


def to_binary(
    event: CloudEvent,
    data_marshaller: Marshaller | None = None,
    key_mapper: KeyMapper | None = None,
    *,
    key: bytes | str | None = None,
) -> KafkaMessage:
    """Binary mode: attributes in ``ce_`` headers, the data as the record value.

    The record key is ``key`` when given, else what ``key_mapper`` returns, else (as in the SDK) the
    event's ``partitionkey`` attribute, which stays in the headers too.

    >>> from cefmt import CloudEvent
    >>> event = CloudEvent({"type": "t", "source": "/s", "id": "1", "partitionkey": "user-9"}, {"a": 1})
    >>> message = to_binary(event)
    >>> message.key, message.headers["ce_id"], message.value
    (b'user-9', b'1', b'{"a":1}')
    >>> to_binary(event, lambda data: b"raw", lambda event: "k").value
    b'raw'
    """
    key = _record_key(event, key, key_mapper)
    if data_marshaller is None or event.data is None:
        return default_registry.encode(event, "kafka", "binary", key=key)  # type: ignore[no-any-return]
    value = _sdk.as_body(_sdk.marshal("data_marshaller", data_marshaller, event.data), "data_marshaller",
                         data_marshaller)  # fmt: skip
    message: KafkaMessage = default_registry.encode(event.evolve(data=None), "kafka", "binary", key=key)
    return KafkaMessage(message.key, message.headers, value)


def from_binary(
    message: Any,
    event_type: type[CloudEvent] | None = None,
    data_unmarshaller: Unmarshaller | None = None,
    *,
    limits: Limits | None = None,
    extension_types: Mapping[str, type] | None = None,
) -> CloudEvent:
    """An event from a binary-mode record. The record key stays on the record (it never becomes an
    attribute); ``data_unmarshaller`` gets the value as it is, and is not called for a record without one.

    >>> record = KafkaMessage(None, {"ce_specversion": b"1.0", "ce_id": b"1", "ce_source": b"/s",
    ...                              "ce_type": b"t"}, b"7")
    >>> from_binary(record).data, from_binary(record, data_unmarshaller=int).data
    (b'7', 7)
    """
    _event_type(event_type)
    if data_unmarshaller is None:
        return default_registry.decode(  # type: ignore[no-any-return]
            message, "kafka", "binary", limits=limits, extension_types=extension_types
        )
    received = read(message, limits=limits)
    attributes = dict(received.attributes)
    attributes.pop("datacontenttype", None)  # the content type travels on its own, as in every binding
    return _sdk.event_from_binary(
        attributes,
        received.value or b"",
        received.content_type,
        data_unmarshaller,
        where=lambda name: f"header '{'content-type' if name == 'datacontenttype' else 'ce_' + name}'",
        body_where="value",
        extension_types=extension_types,
        limits=limits,
    )


# -- structured mode ----------------------------------------------------------------------------------------


def to_structured(
    event: CloudEvent,
    data_marshaller: Marshaller | None = None,
    envelope_marshaller: Marshaller | None = None,
    key_mapper: KeyMapper | None = None,
    *,
    key: bytes | str | None = None,
) -> KafkaMessage:
    """Structured mode: the whole event as the record value, ``content-type: application/cloudevents+json``.

    The record key as for :func:`to_binary`.

    >>> from cefmt import CloudEvent
    >>> event = CloudEvent({"type": "t", "source": "/s", "id": "1"}, {"a": 1})
    >>> to_structured(event).value
    b'{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/json","data":{"a":1}}'
    >>> import json
    >>> to_structured(event, envelope_marshaller=lambda doc: json.dumps(sorted(doc))).value
    b'["data", "datacontenttype", "id", "source", "specversion", "type"]'
    """
    key = _record_key(event, key, key_mapper)
    if data_marshaller is not None:
        event = _sdk.with_marshalled_data(event, data_marshaller)
    if envelope_marshaller is None:
        return default_registry.encode(event, "kafka", "structured", key=key)  # type: ignore[no-any-return]
    try:
        document = to_document(event)
    except CloudEventError as exc:
        raise DataMarshallerError("envelope_marshaller", envelope_marshaller, str(exc)) from exc
    value = _sdk.as_body(_sdk.marshal("envelope_marshaller", envelope_marshaller, document), "envelope_marshaller",
                         envelope_marshaller)  # fmt: skip
    return KafkaMessage(key, KafkaHeaders([("content-type", _JSON)]), value)


def from_structured(
    message: Any,
    event_type: type[CloudEvent] | None = None,
    data_unmarshaller: Unmarshaller | None = None,
    envelope_unmarshaller: Unmarshaller | None = None,
    *,
    limits: Limits | None = None,
    extension_types: Mapping[str, type] | None = None,
) -> CloudEvent:
    """An event from a structured-mode record (the JSON format unless the content type names another).

    ``envelope_unmarshaller`` turns the value into the document's members (a mapping); without it the
    value is parsed as JSON. ``data_unmarshaller`` gets the ``data`` member as parsed, or the bytes of
    ``data_base64``.

    >>> from cefmt import CloudEvent
    >>> record = to_structured(CloudEvent({"type": "t", "source": "/s", "id": "1"}, [1, 2]))
    >>> from_structured(record).data, from_structured(record, data_unmarshaller=sum).data
    ([1, 2], 3)
    """
    _event_type(event_type)
    if data_unmarshaller is None and envelope_unmarshaller is None:
        return default_registry.decode(  # type: ignore[no-any-return]
            message, "kafka", "structured", limits=limits, extension_types=extension_types
        )
    received = read(message, limits=limits)
    if received.value is None:
        raise MalformedMessageError("a structured-mode Kafka record must have a value")
    if envelope_unmarshaller is not None:
        document = _sdk.unmarshal("envelope_unmarshaller", envelope_unmarshaller, received.value)
    else:
        name = format_of(received.content_type)
        if name not in (None, "json"):
            raise UsageError(
                f"without an envelope_unmarshaller, data_unmarshaller reads the JSON event format; this record "
                f"is {received.content_type!r}: read it without data_unmarshaller"
            )
        document = load_json(received.value, "JSON event", limits=limits)
    return _sdk.event_from_document(
        document, data_unmarshaller, data_as_text=False, extension_types=extension_types, limits=limits
    )
