"""The Protobuf event format (``application/cloudevents+protobuf``) and its batch form
(``application/cloudevents-batch+protobuf``), spec 1.0 and 0.3, per the spec's ``cloudevents.proto``.

The message classes are not written by hand and not committed: when this module is imported (the
first time a ``protobuf`` key is used) ``protoc`` from ``grpcio-tools`` compiles the copy of
``cloudevents.proto`` beside it into descriptors, loaded into a descriptor pool of the plugin's own, so
they never clash with another copy of the same ``.proto`` an application imports (the SDK's, say).

The mapping (Protobuf format sections 2 and 3): ``id``, ``source``, ``spec_version`` and ``type`` are
fields; every other attribute is an entry of ``attributes`` with a typed value: ``ce_boolean``,
``ce_integer``, ``ce_string``, ``ce_bytes``, ``ce_uri`` (``dataschema``), ``ce_uri_ref`` (0.3's
``schemaurl``) and ``ce_timestamp`` (seconds and nanoseconds: the instant is kept to the nanosecond,
the UTC offset is not, so Timestamps arrive in UTC). Data: ``bytes`` in ``binary_data``, text in
``text_data``, a JSON value (or JSON string) as its JSON text in ``text_data`` under its JSON
``datacontenttype``. A protobuf message as data travels in ``proto_data`` (a ``google.protobuf.Any``):
:func:`with_message` puts one in an event (serialized, ``datacontenttype: application/protobuf``,
``dataschema`` the type URL, as section 3 asks) and :func:`message_of` gets it back as its class.

Decoding is bounded by ``limits=``: the size before parsing, then a walk over the top-level fields
counts a batch's events and each event's attributes before the protobuf runtime parses anything.

>>> from cefmt import CloudEvent, decode, encode
>>> event = CloudEvent(id="1", source="/s", type="t", data="hi", datacontenttype="text/plain", n=3)
>>> decode(encode(event, "protobuf"), "protobuf") == event
True
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Any, TypeVar

try:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from google.protobuf.message import DecodeError, Message
    from google.protobuf.message import EncodeError as ProtobufEncodeError
    from grpc_tools import protoc  # type: ignore[import-untyped]
except ImportError as exc:  # the extra is not installed: say which one
    raise ImportError(
        f"the Protobuf format needs protobuf and grpcio-tools: pip install 'cefmt[protobuf]' ({exc})"
    ) from exc

from cefmt import (
    DEFAULT_LIMITS,
    CloudEvent,
    Data,
    EncodeError,
    InvalidAttributeError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    Timestamp,
    UsageError,
)
from cefmt.codec import (
    SPECS,
    Codec,
    batch_specversion,
    dump_json,
    event_from_members,
    load_json,
    parse_media_type,
    plain_data,
    typed_attributes,
)

__all__ = [
    "BATCH_MEDIA_TYPE",
    "MEDIA_TYPE",
    "PROTOBUF_MEDIA_TYPES",
    "batch",
    "decode_batch",
    "decode_event",
    "detect",
    "encode_batch",
    "encode_event",
    "message_classes",
    "message_of",
    "structured",
    "with_message",
]

MEDIA_TYPE = "application/cloudevents+protobuf"
BATCH_MEDIA_TYPE = "application/cloudevents-batch+protobuf"
#: ``datacontenttype`` values under which ``bytes`` data with a ``dataschema`` is a protobuf message.
PROTOBUF_MEDIA_TYPES = frozenset({"application/protobuf", "application/x-protobuf"})
_DEFAULT_TYPE_URL_PREFIX = "https://type.googleapis.com/"
_PROTO_FILE = "cloudevents.proto"


# -- the message classes, compiled from the .proto at import ------------------------------------------------


def _compile() -> descriptor_pool.DescriptorPool:
    """Compile ``cloudevents.proto`` (and the well-known types it imports) with protoc into a new pool."""
    well_known = resources.files("grpc_tools") / "_proto"
    with (
        resources.as_file(resources.files(__name__) / _PROTO_FILE) as proto,
        resources.as_file(well_known) as include,
        tempfile.TemporaryDirectory(prefix="cefmt-protobuf-") as folder,
    ):
        out = os.path.join(folder, "cloudevents.pb")
        status = protoc.main([
            "protoc", f"-I{include}", f"-I{proto.parent}", f"--descriptor_set_out={out}", "--include_imports",
            str(proto),
        ])  # fmt: skip
        if status != 0:
            raise RuntimeError(f"protoc could not compile {proto} (exit status {status})")
        with open(out, "rb") as compiled:
            files = descriptor_pb2.FileDescriptorSet.FromString(compiled.read())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    return pool


_POOL = _compile()
_CloudEvent: Any = message_factory.GetMessageClass(_POOL.FindMessageTypeByName("io.cloudevents.v1.CloudEvent"))
_CloudEventBatch: Any = message_factory.GetMessageClass(
    _POOL.FindMessageTypeByName("io.cloudevents.v1.CloudEventBatch")
)


def message_classes() -> tuple[type[Message], type[Message]]:
    """The generated ``io.cloudevents.v1.CloudEvent`` and ``CloudEventBatch`` message classes.

    >>> event_class, batch_class = message_classes()
    >>> event_class.DESCRIPTOR.full_name
    'io.cloudevents.v1.CloudEvent'
    """
    return _CloudEvent, _CloudEventBatch


# -- Timestamps -------------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1)
# google.protobuf.Timestamp: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z
_MIN_SECONDS, _MAX_SECONDS = -62135596800, 253402300799


def _set_timestamp(target: Any, value: datetime, name: str) -> None:
    offset = value.utcoffset() or timedelta(0)
    naive = datetime(value.year, value.month, value.day, value.hour, value.minute, value.second)
    delta = (naive - _EPOCH) - offset
    seconds = delta.days * 86400 + delta.seconds
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS:
        raise EncodeError(
            f"attribute {name!r}: {value.isoformat()} is, in UTC, outside google.protobuf.Timestamp's range "
            "(years 1 to 9999)",
            codec="protobuf",
        )
    target.seconds = seconds
    target.nanos = value.microsecond * 1000 + (value.nanosecond if isinstance(value, Timestamp) else 0)


def _timestamp(source: Any, name: str) -> Timestamp:
    seconds, nanos = source.seconds, source.nanos
    if not (_MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos <= 999_999_999):
        raise InvalidAttributeError(name, f"is a ce_timestamp out of range ({seconds} s, {nanos} ns)")
    wall = _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
    return Timestamp(wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second, wall.microsecond,
                     timezone.utc, nanosecond=nanos % 1000)  # fmt: skip


# -- encoding -----------------------------------------------------------------------------------------------

_REQUIRED = ("specversion", "id", "source", "type")


def _is_json(content_type: str | None) -> bool:
    return content_type is not None and parse_media_type(content_type).is_json


def _is_protobuf(content_type: str | None) -> bool:
    return content_type is not None and parse_media_type(content_type).essence in PROTOBUF_MEDIA_TYPES


def _fill(target: Any, event: CloudEvent) -> None:
    """Write ``event`` into an empty ``CloudEvent`` message."""
    target.id, target.source, target.spec_version, target.type = event.id, event.source, event.specversion, event.type
    schema = SPECS[event.specversion].wire_name("dataschema")
    uri_kind = "ce_uri" if SPECS[event.specversion].types[schema] == "URI" else "ce_uri_ref"
    attributes = target.attributes
    for name, value in typed_attributes(event).items():
        if name in _REQUIRED:
            continue
        slot = attributes[name]
        kind = type(value)
        if kind is str:
            if name == schema and name not in event.extensions:
                setattr(slot, uri_kind, value)
            else:
                slot.ce_string = value
        elif kind is bool:
            slot.ce_boolean = value
        elif kind is int:
            slot.ce_integer = value
        elif kind is bytes:
            slot.ce_bytes = value
        else:  # a Timestamp
            _set_timestamp(slot.ce_timestamp, value, name)  # type: ignore[arg-type]
    data = plain_data(event)
    if data is None:
        return
    content_type = event.datacontenttype
    if type(data) is bytes:
        if event.dataschema is not None and _is_protobuf(content_type):
            target.proto_data.type_url = event.dataschema  # section 3: dataschema is the type URL
            target.proto_data.value = data
        else:
            target.binary_data = data
    elif type(data) is str and not _is_json(content_type):
        target.text_data = data
    else:
        target.text_data = dump_json(data).decode("utf-8")


def _serialize(message: Any) -> bytes:
    try:
        serialized: bytes = message.SerializeToString(deterministic=True)
    except ProtobufEncodeError as exc:
        raise EncodeError(f"the event cannot be written as protobuf: {exc}", codec="protobuf") from exc
    return serialized


def _filled(event: CloudEvent, target: Any) -> None:
    try:
        _fill(target, event)
    except EncodeError:
        raise
    except UnicodeEncodeError as exc:
        raise EncodeError(
            f"data holds a string with a lone surrogate ({exc.object[exc.start : exc.end]!r}), which is not valid "
            "Unicode and has no UTF-8 form",
            codec="protobuf",
        ) from exc
    except (ValueError, TypeError) as exc:
        if isinstance(exc.__cause__, UnicodeEncodeError) or "surrogate" in str(exc):
            raise EncodeError(f"a string with a lone surrogate has no UTF-8 form: {exc}", codec="protobuf") from (
                exc.__cause__ if isinstance(exc.__cause__, UnicodeEncodeError) else exc
            )
        raise EncodeError(f"the event cannot be written as protobuf: {exc}", codec="protobuf") from exc


def encode_event(event: CloudEvent) -> bytes:
    """One event as a serialized ``io.cloudevents.v1.CloudEvent``.

    >>> encode_event(CloudEvent(id="1", source="/s", type="t"))
    b'\\n\\x011\\x12\\x02/s\\x1a\\x031.0"\\x01t'
    """
    message = _CloudEvent()
    _filled(event, message)
    return _serialize(message)


def encode_batch(events: Iterable[CloudEvent]) -> bytes:
    """Events of one spec version as a serialized ``io.cloudevents.v1.CloudEventBatch`` (it may be empty).

    >>> encode_batch([])
    b''
    """
    events = list(events)
    batch_specversion(events)
    message = _CloudEventBatch()
    for event in events:
        _filled(event, message.events.add())
    return _serialize(message)


# -- the walk over top-level fields --------------------------------------------------------------------------


class _Malformed(Exception):
    pass


def _varint(raw: bytes, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    for index in range(pos, min(pos + 10, end)):
        byte = raw[index]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, index + 1
        shift += 7
    raise _Malformed(f"the varint at byte {pos} is cut off or too long")


def _count_field(raw: bytes, start: int, end: int, number: int, *, limit: int, what: str) -> list[tuple[int, int]]:
    """The spans of every length-delimited field ``number`` of the message in ``raw[start:end]``,
    refusing more than ``limit`` of them (as ``what``) before going on."""
    spans: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        key = raw[pos]  # one-byte keys and lengths (nearly all of them) are read inline
        key, pos = (key, pos + 1) if key < 0x80 else _varint(raw, pos, end)
        wire = key & 7
        if wire == 0:
            _, pos = _varint(raw, pos, end)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length = raw[pos] if pos < end else 0x80
            length, pos = (length, pos + 1) if length < 0x80 else _varint(raw, pos, end)
            if key >> 3 == number:
                spans.append((pos, pos + length))
                if len(spans) > limit:
                    raise LimitExceededError(what, len(spans), limit)
            pos += length
        else:
            raise _Malformed(f"wire type {wire} at byte {pos} is not used by proto3 messages")
        if pos > end:
            raise _Malformed("a field runs past the end of its message")
    return spans


def _check_event(raw: bytes, start: int, end: int, limits: Limits) -> int:
    """Refuse an event with more attributes than the limit allows; the count of its attribute entries."""
    return len(_count_field(raw, start, end, 5, limit=limits.max_attribute_count - 4, what="attribute count"))


# -- decoding -----------------------------------------------------------------------------------------------

_KINDS = {
    "ce_boolean": "Boolean", "ce_integer": "Integer", "ce_string": "String", "ce_bytes": "Binary",
    "ce_uri": "URI", "ce_uri_ref": "URI-reference", "ce_timestamp": "Timestamp",
}  # fmt: skip


def _attribute(name: str, value: Any, expected: str | None) -> Any:
    kind = value.WhichOneof("attr")
    if kind is None:
        raise MalformedMessageError(f"attribute {name[:80]!r} has no value (no ce_* field is set)")
    # A core attribute must carry its own type (or its text, in ce_string, which the record then checks).
    if expected is not None and _KINDS[kind] != expected and kind != "ce_string":
        raise InvalidAttributeError(name, f"is a {kind}, but CloudEvents gives it type {expected}")
    if kind == "ce_timestamp":
        return _timestamp(value.ce_timestamp, name)
    return getattr(value, kind)


def _type_url_schema(type_url: str) -> str:
    # google/protobuf/any.proto: "If no scheme is provided, `https` is assumed."
    return type_url if ":" in type_url.partition("/")[0] else f"https://{type_url}"


def _to_event(message: Any, where: str, extension_types: Mapping[str, type] | None, limits: Limits) -> CloudEvent:
    members: dict[str, Any] = {
        "specversion": message.spec_version or None, "id": message.id or None,
        "source": message.source or None, "type": message.type or None,
    }  # fmt: skip
    spec = SPECS.get(message.spec_version)
    for name, value in message.attributes.items():
        if name in _REQUIRED:
            raise MalformedMessageError(f"{where}: attribute {name!r} belongs in its own field, not in attributes")
        expected = spec.types.get(name) if spec is not None else None
        try:
            members[name] = _attribute(name, value, expected)
        except InvalidAttributeError as exc:
            raise (exc if where == "event" else exc.at(where)) from None
    kind = message.WhichOneof("data")
    data: Data = None
    if kind == "binary_data":
        data = message.binary_data
    elif kind == "text_data":
        text: str = message.text_data
        data = text
        content_type = members.get("datacontenttype")
        if type(content_type) is str and _is_json(content_type):
            data = load_json(text, f"{where} field 'text_data'", limits=limits)
    elif kind == "proto_data":
        data = message.proto_data.value
        members.setdefault("datacontenttype", "application/protobuf")
        schema_name = spec.wire_name("dataschema") if spec is not None else "dataschema"
        type_url = message.proto_data.type_url
        if type_url:
            found = members.setdefault(schema_name, _type_url_schema(type_url))
            if found not in (type_url, _type_url_schema(type_url)):
                raise MalformedMessageError(
                    f"{where}: proto_data has type URL {type_url!r} but {schema_name} is {found!r}; cefmt carries the "
                    "type URL in dataschema (protobuf format section 3) and cannot keep both"
                )
    return event_from_members(members, data, where=where, extension_types=extension_types)


def _parse(message: Any, raw: bytes, what: str) -> None:
    try:
        message.ParseFromString(raw)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise MalformedMessageError(f"{what} is not a valid protobuf message: {exc}") from exc


def _bytes(raw: Any, limits: Limits | None, what: str) -> tuple[bytes, Limits]:
    if limits is None:
        limits = DEFAULT_LIMITS
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise MalformedMessageError(f"a protobuf {what} must be bytes, got {type(raw).__name__}")
    if len(raw) > limits.max_message_bytes:
        limits.check_message_size(raw, f"size of protobuf {what}")
    return bytes(raw), limits


def decode_event(
    raw: bytes, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> CloudEvent:
    """A serialized ``CloudEvent`` message to an event.

    ``limits`` bounds the size and the attribute count before the message is parsed.

    >>> decode_event(encode_event(CloudEvent(id="1", source="/s", type="t", flag=True)))["flag"]
    True
    """
    raw, limits = _bytes(raw, limits, "event")
    try:
        _check_event(raw, 0, len(raw), limits)
    except _Malformed as exc:
        raise MalformedMessageError(f"protobuf event is not a valid protobuf message: {exc}") from None
    message = _CloudEvent()
    _parse(message, raw, "protobuf event")
    return _to_event(message, "event", extension_types, limits)


def decode_batch(
    raw: bytes, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> list[CloudEvent]:
    """A serialized ``CloudEventBatch`` to a list of events; a bad item is reported with its position.

    ``limits`` bounds the size, the batch length, each event's attributes and the attribute values of
    the whole batch (``max_container_count``), before the message is parsed.

    >>> decode_batch(b"")
    []
    """
    raw, limits = _bytes(raw, limits, "batch")
    try:
        spans = _count_field(raw, 0, len(raw), 1, limit=limits.max_batch_length, what="batch length")
        values = 0
        for index, (start, end) in enumerate(spans):
            try:
                values += _check_event(raw, start, end, limits)
            except LimitExceededError as exc:
                raise exc.at(f"batch item {index}") from None
        if values + len(spans) > limits.max_container_count:
            limits.check_container_count(values + len(spans))
    except _Malformed as exc:
        raise MalformedMessageError(f"protobuf batch is not a valid protobuf message: {exc}") from None
    message = _CloudEventBatch()
    _parse(message, raw, "protobuf batch")
    events = [
        _to_event(item, f"batch item {index}", extension_types, limits) for index, item in enumerate(message.events)
    ]
    batch_specversion(events, MalformedMessageError)
    return events


def detect(raw: Any) -> tuple[str | None, str]:
    """Structured or batch, from the first field: both messages start with field 1, but an event's is
    its ``id`` (a CloudEvents String: never a control character) and a batch's an event message (whose
    first byte is a field key, below 0x20 for ``id`` and ``source``). An empty message is an empty batch.

    >>> detect(encode_event(CloudEvent(id="1", source="/s", type="t")))
    (None, 'structured')
    >>> detect(encode_batch([CloudEvent(id="1", source="/s", type="t")])), detect(b"")
    ((None, 'batch'), (None, 'batch'))
    """
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        return (None, "structured")
    if not raw:
        return (None, "batch")
    if raw[0] == 0x0A:
        try:
            length, pos = _varint(bytes(raw[:12]), 1, min(len(raw), 12))
        except _Malformed:
            return (None, "structured")
        if length and pos < len(raw) and raw[pos] < 0x20:
            return (None, "batch")
    return (None, "structured")


# -- protobuf messages as data ----------------------------------------------------------------------------

_M = TypeVar("_M", bound=Message)


def with_message(event: CloudEvent, message: Message, *, type_url_prefix: str = _DEFAULT_TYPE_URL_PREFIX) -> CloudEvent:
    """``event`` carrying ``message`` as its data: serialized, ``datacontenttype: application/protobuf`` and
    ``dataschema`` the type URL (Protobuf format section 3), so the protobuf format writes it as
    ``proto_data``. Any other format carries the serialized bytes with the same two attributes.

    >>> from google.protobuf.duration_pb2 import Duration
    >>> event = with_message(CloudEvent(id="1", source="/s", type="t"), Duration(seconds=5))
    >>> event.dataschema, event.datacontenttype
    ('https://type.googleapis.com/google.protobuf.Duration', 'application/protobuf')
    >>> message_of(decode_event(encode_event(event)), Duration).seconds
    5
    """
    if not isinstance(message, Message):
        raise UsageError(f"with_message takes a protobuf message, got {type(message).__name__}")
    type_url = type_url_prefix.rstrip("/") + "/" + message.DESCRIPTOR.full_name
    return event.evolve(
        data=message.SerializeToString(deterministic=True), datacontenttype="application/protobuf", dataschema=type_url
    )


def message_of(event: CloudEvent, message_type: type[_M]) -> _M:
    """The event's data parsed as ``message_type``, after checking that its ``dataschema`` (the type URL)
    names that type; a :class:`cefmt.MalformedMessageError` otherwise."""
    type_url = event.dataschema
    expected = message_type.DESCRIPTOR.full_name
    if type_url is None or type_url.rpartition("/")[2] != expected:
        raise MalformedMessageError(f"the event's dataschema {type_url!r} does not name the message type {expected}")
    if type(event.data) is not bytes:
        raise MalformedMessageError(f"the event's data is {type(event.data).__name__}, not a serialized message")
    message: _M = message_type()
    _parse(message, event.data, f"data of type {expected}")
    return message


structured = Codec(encode=encode_event, decode=decode_event, detect=detect, media_type=MEDIA_TYPE)
batch = Codec(encode=encode_batch, decode=decode_batch, detect=detect, media_type=BATCH_MEDIA_TYPE)
