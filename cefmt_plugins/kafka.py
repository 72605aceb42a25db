"""The Kafka protocol binding: binary and structured modes, spec 1.0 and 0.3 (sans-I/O).

Encoders return a :class:`KafkaMessage` (key, headers, value) for the caller's Kafka client to
produce; decoders take the record a consumer handed over, from whichever client: a
:class:`KafkaMessage`, a confluent-kafka ``Message``, a kafka-python or aiokafka ``ConsumerRecord``,
a mapping ``{"key": ..., "headers": ..., "value": ...}``, or a bare mapping of headers. No Kafka client
is imported here.

Kafka Protocol Binding 1.0, section 3: "The receiver of the event can distinguish between the two
content modes by inspecting the ``content-type`` Header of the Kafka message. If the header is present
and its value is prefixed with the CloudEvents media type ``application/cloudevents`` ..., the receiver
uses structured mode, otherwise it defaults to binary mode." The batch mode does not exist in Kafka.

>>> from cefmt import CloudEvent, decode, encode
>>> event = CloudEvent(id="1", source="/s", type="t", data=b"\\x00")
>>> message = encode(event, "kafka", "binary", key=b"order-7")
>>> message.key, message.value, decode(message, "kafka") == event
(b'order-7', b'\\x00', True)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, ItemsView, Iterable, KeysView, Mapping, ValuesView
from typing import TYPE_CHECKING, Any, NoReturn, SupportsIndex, overload

import attrs

from cefmt import (
    DEFAULT_LIMITS,
    CloudEvent,
    Limits,
    MalformedMessageError,
    UsageError,
)
from cefmt.codec import (
    Capture,
    Codec,
    canonical_attributes,
    canonical_string,
    data_to_body,
    decode_in_format,
    encode_in_format,
    event_from_parts,
    format_of,
    from_capture,
    parse_media_type,
    plain_data,
    read_header_pairs,
    to_capture,
)

if TYPE_CHECKING:
    from cefmt.codec import Registry

__all__ = [
    "HeaderValue",
    "KafkaHeaders",
    "KafkaMessage",
    "KeyMapper",
    "Received",
    "as_message",
    "binary",
    "decode_binary",
    "decode_structured",
    "detect",
    "encode_binary",
    "encode_structured",
    "partitionkey_key",
    "read",
    "structured",
]

_PREFIX = "ce_"
_CONTENT_TYPE = "content-type"
_CLOUDEVENTS = "application/cloudevents"
_RECORD_FIELDS = frozenset({"key", "headers", "value"})

#: A function from an event to the record key: ``bytes``, ``str`` (sent as UTF-8) or ``None``.
KeyMapper = Callable[[CloudEvent], bytes | str | None]


def _bytes_or_none(value: Any, what: str) -> bytes | None:
    if value is None or type(value) is bytes:
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise MalformedMessageError(f"a Kafka record {what} must be bytes or None, got {type(value).__name__}")


def _key_converter(key: Any) -> bytes | None:
    if isinstance(key, (Mapping, list)):  # headers where the key belongs: the CloudEvents SDK's argument order
        raise MalformedMessageError(
            f"a Kafka record key must be bytes or None, got {type(key).__name__}: KafkaMessage takes (key, headers, "
            "value), the CloudEvents SDK's KafkaMessage takes (headers, key, value); pass them by name"
        )
    return _bytes_or_none(key, "key")


def _value_converter(value: Any) -> bytes | None:
    return _bytes_or_none(value, "value")


#: A header value as records carry it: cefmt writes ``bytes``; a record read from a client may also hold
#: ``str`` or ``None`` (a header without a value). The type of confluent-kafka's headers, so they pass as they are.
HeaderValue = bytes | str | None


class KafkaHeaders(list[tuple[str, HeaderValue]]):
    """A Kafka record's headers: ``(name, value)`` pairs, read-only, that also read like a mapping.

    It is a ``list`` of tuples, the shape Kafka clients take and give, so ``producer.produce(topic,
    headers=message.headers)`` (confluent-kafka), ``producer.send(topic, headers=message.headers)``
    (kafka-python) and aiokafka's ``send`` accept it as it is, and ``for name, value in headers`` walks
    the pairs. It also answers the questions of the SDK's ``dict`` of headers: ``headers["ce_id"]``,
    ``headers.get(...)``, ``"ce_id" in headers``, ``keys()``, ``values()``, ``items()``. Kafka allows a
    name to repeat: looking a name up gives its last value (as Kafka's own ``lastHeader`` does) and
    :meth:`getall` gives every one. Changing it raises ``TypeError``: build a new :class:`KafkaMessage`.

    >>> headers = KafkaHeaders([("ce_id", b"1"), ("ce_type", b"t")])
    >>> headers["ce_id"], "ce_type" in headers, headers[0], dict(headers)
    (b'1', True, ('ce_id', b'1'), {'ce_id': b'1', 'ce_type': b't'})
    >>> headers == {"ce_id": b"1", "ce_type": b"t"}, headers == [("ce_id", b"1"), ("ce_type", b"t")]
    (True, True)
    """

    __slots__ = ()

    @overload
    def __getitem__(self, key: SupportsIndex) -> tuple[str, HeaderValue]: ...
    @overload
    def __getitem__(self, key: slice) -> list[tuple[str, HeaderValue]]: ...
    @overload
    def __getitem__(self, key: str) -> HeaderValue: ...
    def __getitem__(self, key: SupportsIndex | slice | str) -> Any:
        if isinstance(key, str):
            for name, value in reversed(self):
                if name == key:
                    return value
            raise KeyError(key)
        return list.__getitem__(self, key)

    def get(self, name: str, default: Any = None) -> Any:
        """The last value of the header ``name``, or ``default`` when there is none."""
        for key, value in reversed(self):
            if key == name:
                return value
        return default

    def getall(self, name: str) -> list[HeaderValue]:
        """Every value of the header ``name``, in order (an empty list when there is none)."""
        return [value for key, value in self if key == name]

    def _as_dict(self) -> dict[str, HeaderValue]:
        # Not dict(self): dict() reads an object with keys() as a mapping, which would come back here.
        return {name: value for name, value in list.__iter__(self)}  # noqa: C416

    def keys(self) -> KeysView[str]:
        """The header names, each once, in order."""
        return self._as_dict().keys()

    def values(self) -> ValuesView[HeaderValue]:
        """The values, the last one for a repeated name, as :meth:`items` pairs them."""
        return self._as_dict().values()

    def items(self) -> ItemsView[str, HeaderValue]:
        """``(name, value)`` for each name once (its last value): the headers read as a mapping."""
        return self._as_dict().items()

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return any(name == item for name, _ in self)
        return list.__contains__(self, item)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            names = [name for name, _ in self]
            return len(set(names)) == len(names) and self._as_dict() == dict(other)
        return list.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (KafkaHeaders, (list(self),))

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("Kafka message headers are read-only; build a new KafkaMessage with the headers you want")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only
    append = extend = insert = remove = pop = clear = sort = reverse = _read_only


def _headers_converter(headers: Any) -> KafkaHeaders:
    if type(headers) is KafkaHeaders:
        return headers
    if headers is None:
        return KafkaHeaders()
    if isinstance(headers, (str, bytes, bytearray, memoryview)):
        raise MalformedMessageError(f"Kafka headers must be (name, value) pairs, got {type(headers).__name__}")
    try:
        return KafkaHeaders(headers.items() if isinstance(headers, Mapping) else headers)
    except TypeError as exc:  # not iterable
        raise MalformedMessageError(
            f"Kafka headers must be a mapping or (name, value) pairs, got {type(headers).__name__}"
        ) from exc


@attrs.frozen
class KafkaMessage:
    """A Kafka record's CloudEvents part: the key, the headers and the value.

    ``headers`` is a :class:`KafkaHeaders`: ``(name, value)`` pairs with ``bytes`` values, the list Kafka
    clients produce and consume, which also reads like the SDK's mapping (``headers["ce_id"]``); a
    ``dict`` or any iterable of pairs is accepted and turned into one. ``value`` is ``None`` for a
    record without a value: in binary mode, an event without data (a tombstone on a compacted topic).
    ``key`` and ``value`` must be bytes or ``None`` (``str`` is taken as UTF-8, ``bytearray`` and
    ``memoryview`` are copied) and ``headers`` a mapping, an iterable or ``None``; anything else raises
    :class:`cefmt.MalformedMessageError`. The pairs themselves are checked when the record is decoded.

    >>> KafkaMessage(b"k", {"ce_id": b"1"}, None).headers
    [('ce_id', b'1')]
    >>> KafkaMessage(None, 5, None)
    Traceback (most recent call last):
    ...
    cefmt...MalformedMessageError: Kafka headers must be a mapping or (name, value) pairs, got int
    """

    key: bytes | None = attrs.field(converter=_key_converter)
    headers: KafkaHeaders = attrs.field(converter=_headers_converter)
    value: bytes | None = attrs.field(converter=_value_converter)


# -- keys (Kafka Protocol Binding 1.0, section 3.1) -------------------------------------------------------


def partitionkey_key(event: CloudEvent) -> bytes | None:
    """The opt-in key mapper of section 3.1: the ``partitionkey`` attribute, as-is, as the record key.

    "Every implementation SHOULD provide an opt-in 'Key Mapper' implementation that maps the
    Partitioning ``partitionkey`` attribute value to the 'key' of the Kafka message as-is, if present."
    The attribute still travels with the event ("A mapping function MUST NOT modify the CloudEvent").

    >>> from cefmt import CloudEvent
    >>> partitionkey_key(CloudEvent(id="1", source="/s", type="t", partitionkey="user-9"))
    b'user-9'
    """
    value = event.extensions.get("partitionkey")
    if value is None:
        return None
    return value if type(value) is bytes else canonical_string(value).encode("utf-8")


def _record_key(event: CloudEvent, key: bytes | str | None, key_mapper: KeyMapper | None) -> bytes | None:
    # "Every implementation MUST, by default, map the user provided record key to the Kafka record key."
    if key_mapper is not None:
        if key is not None:
            raise UsageError("give the record key either as key= or through key_mapper=, not both")
        key = key_mapper(event)
    if key is None or type(key) is bytes:
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytearray, memoryview)):
        return bytes(key)
    raise UsageError(f"a Kafka record key must be bytes, str or None, got {type(key).__name__}")


# -- reading whatever a consumer hands over ----------------------------------------------------------------


def _field(record: Any, name: str) -> Any:
    value = getattr(record, name)
    return value() if callable(value) else value  # confluent-kafka: methods; kafka-python, aiokafka: fields


def _parts(message: Any) -> tuple[Any, Any, Any]:
    """``(key, headers, value)`` of any accepted record shape, as they are: nothing converted or copied."""
    if type(message) is KafkaMessage:
        return message.key, message.headers, message.value
    if type(message) is dict or isinstance(message, Mapping):
        if message and "headers" in message and _RECORD_FIELDS.issuperset(message):
            return message.get("key"), message["headers"], message.get("value")
        return None, message, None
    if all(hasattr(message, name) for name in _RECORD_FIELDS):
        try:
            return _field(message, "key"), _field(message, "headers"), _field(message, "value")
        except TypeError as exc:
            raise MalformedMessageError(f"cannot read the Kafka record {type(message).__name__}: {exc}") from exc
    raise MalformedMessageError(
        "a Kafka message is a KafkaMessage, a client's record (key, headers, value) or a mapping, "
        f"got {type(message).__name__}"
    )


def as_message(message: Any) -> KafkaMessage:
    """Turn what a Kafka consumer received into a :class:`KafkaMessage`.

    Accepts a :class:`KafkaMessage`; an object with ``key``, ``headers`` and ``value`` as methods
    (confluent-kafka ``Message``) or as fields (kafka-python and aiokafka ``ConsumerRecord``, the
    CloudEvents SDK's ``KafkaMessage``); a mapping with the keys ``key``, ``headers``, ``value``; or a
    mapping of headers alone (a record without key or value). Decoders do not copy the record this way:
    they :func:`read` it, within limits.

    >>> as_message({"ce_id": b"1"})
    KafkaMessage(key=None, headers=[('ce_id', b'1')], value=None)
    """
    if type(message) is KafkaMessage:
        return message
    return KafkaMessage(*_parts(message))


class Received:
    """What decoding needs from a Kafka record, read once: attributes, content type and value.

    ``attributes`` holds every ``ce_`` header's value under its attribute name, and the
    ``content-type`` header's as ``datacontenttype``; ``content_type`` is that header alone; ``value``
    the record value (``None`` when it has none). :func:`read` makes one; the registry hands the same
    one to :func:`detect` and to the decoder, so a record is read once.
    """

    __slots__ = ("attributes", "content_type", "value")

    def __init__(self, attributes: dict[str, str], content_type: str | None, value: bytes | None) -> None:
        self.attributes = attributes
        self.content_type = content_type
        self.value = value


def _sized_value(value: Any, limits: Limits) -> bytes | None:
    # The size is checked before a bytearray or memoryview is copied or a str encoded.
    if value is None:
        return None
    if type(value) is bytes or isinstance(value, (bytes, bytearray, memoryview, str)):
        if len(value) > limits.max_message_bytes:
            limits.check_message_size(value, "size of value")
        return value if type(value) is bytes else _bytes_or_none(value, "value")
    raise MalformedMessageError(f"a Kafka record value must be bytes or None, got {type(value).__name__}")


def read(message: Any, *, limits: Limits | None = None) -> Received:
    """Read a Kafka record once: ``ce_*`` headers as attributes, the content type, the value.

    Header names are matched in any letter case; a repeated ``ce_*`` or ``content-type`` header is an
    error (two values for one attribute are ambiguous). Other headers belong to the application: they
    are counted, not decoded. ``limits`` (:data:`cefmt.DEFAULT_LIMITS` when ``None``) bounds the header
    count (before any header is read when the headers have a length), the length of each value read
    (before it is decoded) and the size of the value (before it is copied).

    >>> received = read({"CE_ID": b"1", "content-type": b"text/plain", "traceparent": b"00-ab"})
    >>> received.attributes, received.content_type
    ({'id': '1', 'datacontenttype': 'text/plain'}, 'text/plain')
    """
    if type(message) is Received:
        return message
    if limits is None:
        limits = DEFAULT_LIMITS
    key, headers, value = _parts(message)
    if key is not None and not isinstance(key, (bytes, bytearray, memoryview, str)):
        raise MalformedMessageError(f"a Kafka record key must be bytes or None, got {type(key).__name__}")
    value = _sized_value(value, limits)
    pairs: Iterable[Any]
    if headers is None:
        pairs = ()
    elif type(headers) is KafkaHeaders or type(headers) is list or type(headers) is tuple:
        pairs = headers
    elif isinstance(headers, (str, bytes, bytearray, memoryview)):
        raise MalformedMessageError(f"Kafka headers must be (name, value) pairs, got {type(headers).__name__}")
    else:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
    attributes, content_type = read_header_pairs(pairs, _PREFIX, limits=limits, binding="Kafka")
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    return Received(attributes, content_type, value)


@functools.lru_cache(maxsize=256)  # a stream's records carry a handful of content types
def _is_cloudevents(content_type: str) -> bool:
    """Whether a content-type value names a CloudEvents format."""
    return parse_media_type(content_type).essence.startswith(_CLOUDEVENTS)


def detect(message: Any) -> tuple[str | None, str]:
    """The mode of a Kafka record by section 3, and its spec version when headers carry it (binary).

    The record is read within :data:`cefmt.DEFAULT_LIMITS` (see :func:`read`).

    >>> detect({"content-type": b"application/cloudevents+json"})
    (None, 'structured')
    """
    received = read(message)
    content_type = received.content_type
    if content_type is not None and _is_cloudevents(content_type):
        return (None, "structured")
    specversion = received.attributes.get("specversion")
    if specversion is None:
        raise MalformedMessageError(
            "not a CloudEvents Kafka record: no ce_specversion header, and the content type "
            f"{content_type!r} is not a CloudEvents format"
        )
    return (specversion, "binary")


# -- binary mode --------------------------------------------------------------------------------------------


def _body(event: CloudEvent) -> bytes | None:
    # Section 3.2.2: "the Kafka representation of a CloudEvent with no data is a Kafka message with no
    # value". The body rule shared with every binding (cefmt.codec.data_to_body) does the rest, and
    # refuses a content type that cannot travel in binary mode, data or not.
    body = data_to_body(event)
    return None if plain_data(event) is None else body  # plain_data: no reader's view made just to look


def encode_binary(
    event: CloudEvent, *, key: bytes | str | None = None, key_mapper: KeyMapper | None = None
) -> KafkaMessage:
    """Binary mode: attributes in ``ce_`` headers (UTF-8), ``datacontenttype`` as ``content-type``, data as value.

    The record key is ``key`` when given, else what ``key_mapper`` returns (see
    :func:`partitionkey_key`), else none.

    >>> from cefmt import CloudEvent
    >>> encode_binary(CloudEvent(id="1", source="/s", type="t")).headers[:2]
    [('ce_specversion', b'1.0'), ('ce_id', b'1')]
    """
    headers = KafkaHeaders(
        [
            (_CONTENT_TYPE if name == "datacontenttype" else _PREFIX + name, value.encode("utf-8"))
            for name, value in canonical_attributes(event).items()
        ]
    )
    return KafkaMessage(_record_key(event, key, key_mapper), headers, _body(event))


def _header_of(attribute: str) -> str:
    return f"header '{_CONTENT_TYPE if attribute == 'datacontenttype' else _PREFIX + attribute}'"


def decode_binary(
    message: Any, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> CloudEvent:
    """Binary mode back to an event. The record key stays on the message: it never becomes an attribute.

    Header values arrive as strings; ``extension_types`` (``{"extinteger": int}``) restores extension
    types, as for HTTP. The value is read by the body rule of :mod:`cefmt.codec`; no value is no data.
    ``limits`` (:data:`cefmt.DEFAULT_LIMITS` when ``None``) bounds the header count, the length of the
    header values read and the value's size, each checked before it is read.

    >>> record = {"ce_specversion": b"1.0", "ce_id": b"1", "ce_source": b"/s", "ce_type": b"t"}
    >>> decode_binary(record).id
    '1'
    """
    received = read(message, limits=limits)
    attributes = dict(received.attributes)  # the received record stays as it was read
    attributes.pop("datacontenttype", None)
    return event_from_parts(
        attributes,
        received.value,
        received.content_type,
        where=_header_of,
        body_where="value",
        extension_types=extension_types,
        limits=limits,
    )


# -- structured mode ----------------------------------------------------------------------------------------


def encode_structured(
    event: CloudEvent,
    *,
    registry: Registry,
    format: str = "json",
    key: bytes | str | None = None,
    key_mapper: KeyMapper | None = None,
) -> KafkaMessage:
    """Structured mode: the whole event as the value, in any event format of ``registry`` (``format=``).

    >>> from cefmt import CloudEvent, encode
    >>> encode(CloudEvent(id="1", source="/s", type="t"), "kafka", "structured").headers
    [('content-type', b'application/cloudevents+json')]
    """
    content_type, body = encode_in_format(registry, event, format)
    headers = KafkaHeaders([(_CONTENT_TYPE, content_type.encode("utf-8"))])
    return KafkaMessage(_record_key(event, key, key_mapper), headers, body)


def decode_structured(
    message: Any, *, registry: Registry, format: str | None = None, limits: Limits | None = None, **options: Any
) -> CloudEvent:
    """Structured mode back to an event; ``content-type: application/cloudevents+FORMAT`` names the format.

    A record whose ``content-type`` names no CloudEvents format (some producers send none, or the data's
    type) is read with ``format`` (JSON unless given). ``options`` go to the format's decoder.
    ``limits`` bounds the headers and the value's size here, and goes on to the format's decoder when
    that decoder accepts it (a third-party format may not: the value's size is checked here anyway).

    >>> from cefmt import CloudEvent, decode, encode
    >>> decode(encode(CloudEvent(id="1", source="/s", type="t"), "kafka", "structured"), "kafka").id
    '1'
    """
    received = read(message, limits=limits)
    content_type = received.content_type
    name = format_of(content_type)
    if name is None:
        if content_type is not None and parse_media_type(content_type).essence.startswith(_CLOUDEVENTS):
            raise MalformedMessageError(
                f"content type {content_type!r}: the Kafka binding has no batch mode and no format without a name"
            )
        name = format or "json"
    if received.value is None:
        raise MalformedMessageError("a structured-mode Kafka record must have a value")
    return decode_in_format(registry, name, received.value, limits=limits, **options)  # type: ignore[no-any-return]


# -- captured records in streams ----------------------------------------------------------------------------


@attrs.frozen
class _Line:
    # One Kafka record as a stream line: key, headers (name and Base64 value) and value. Plain-text
    # "key" and "value" are read too, for captures typed by hand; null or missing is no key, no value.
    headers: list[tuple[str, bytes | None]] = attrs.field(factory=list)
    key_base64: bytes | None = None
    value_base64: bytes | None = None
    key: str | None = None
    value: str | None = None


def capture_to_json(message: Any) -> dict[str, Any]:
    """A Kafka record as one stream line's JSON object.

    >>> capture_to_json(KafkaMessage(None, [("ce_id", b"1")], b"hi"))
    {'key_base64': None, 'headers': [['ce_id', 'MQ==']], 'value_base64': 'aGk='}
    """
    record = as_message(message)
    pairs = [(name, value.encode("utf-8") if isinstance(value, str) else value) for name, value in record.headers]
    line = to_capture(_Line(pairs, record.key, record.value))
    return {"key_base64": line["key_base64"], "headers": [list(pair) for pair in line["headers"]],
            "value_base64": line["value_base64"]}  # fmt: skip


def capture_from_json(doc: dict[str, Any]) -> KafkaMessage:
    """A stream line's JSON object back to the Kafka record it holds.

    >>> capture_from_json({"headers": [["ce_id", "MQ=="]], "value": "hi"})
    KafkaMessage(key=None, headers=[('ce_id', b'1')], value=b'hi')
    """
    line = from_capture(doc, _Line, "Kafka record")
    key = line.key_base64 if line.key_base64 is not None else line.key
    value = line.value_base64 if line.value_base64 is not None else line.value
    return KafkaMessage(key, line.headers, value)


CAPTURE = Capture(capture_to_json, capture_from_json)

binary = Codec(encode=encode_binary, decode=decode_binary, detect=detect, prepare=read, capture=CAPTURE)
structured = Codec(encode=encode_structured, decode=decode_structured, detect=detect, prepare=read, capture=CAPTURE)
