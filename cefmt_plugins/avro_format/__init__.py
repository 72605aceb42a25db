"""The Avro event format (``application/cloudevents+avro``, spec 1.0 and 0.3) and the Avro compact
format (``application/cloudevents+avro-compact``, working draft, spec 1.0 only), with ``fastavro``.

Both write one Avro datum in the binary encoding of the spec's schema (the ``.avsc`` files beside
this module, copied unchanged), with no container-file header: the form a Kafka topic or an HTTP body
carries. As options, the datum can be framed for a schema registry:

* ``encode(event, "avro", schema_id=42)``: the Confluent wire format, a zero byte and the 4-byte
  big-endian schema id before the datum; register :data:`SCHEMA` (or :data:`COMPACT_SCHEMA`) under
  that id in your registry;
* ``encode(event, "avro", single_object=True)``: Avro's single-object encoding, ``C3 01`` and the
  schema's 8-byte CRC-64-AVRO fingerprint (little-endian) before the datum.

Decoding recognises both headers (neither can start a datum of these schemas: a Confluent zero byte
would be an empty attribute map or an empty ``id``, and a single-object header is checked against the
fingerprint); ``schema_id=`` on decode requires the Confluent header with that id.

The Avro format (``cloudevents.avsc``) keeps every attribute in one map whose values are ``null``,
``boolean``, ``int``, ``string`` or ``bytes``: Boolean, Integer, String and Binary keep their types,
URI and URI-reference are strings, Timestamp is RFC 3339 text (section 2.1; so a Timestamp extension
comes back as text, restored by ``extension_types=``). ``data``: ``bytes`` as ``bytes``, text as
``string``; a JSON value (or JSON string) as its JSON text in ``string`` under its JSON
``datacontenttype``. The schema's JSON branches (``boolean``, ``double``, maps and arrays of
``AvroCloudEventData``) are read from other producers.

The compact format has a field per core attribute, a typed extension map whose Timestamp is
``timestamp-micros``, and ``data`` as ``bytes`` only, read back by ``datacontenttype`` the way a
binding's binary-mode body is. ``timestamp-micros`` has no room for nanoseconds or a UTC offset: an
event whose Timestamp has nanoseconds is refused (:class:`cefmt.EncodeError`) rather than rounded,
and offsets arrive as UTC (the same instant).

fastavro reads nested data with recursion in C that has no bound, so the nesting, the containers and
the attribute count of a message are checked by walking its bytes before fastavro reads it.

>>> from cefmt import CloudEvent, decode, encode
>>> event = CloudEvent(id="1", source="/s", type="t", data={"a": 1}, count=3)
>>> decode(encode(event, "avro"), "avro") == event
True
>>> decode(encode(event, "avro-compact", schema_id=7), "avro-compact", schema_id=7) == event
True
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Mapping
from datetime import datetime, timezone
from importlib import resources
from typing import Any

try:
    import fastavro
    import fastavro.schema
except ImportError as exc:  # the extra is not installed: say which one
    raise ImportError(f"the Avro formats need fastavro: pip install 'cefmt[avro]' ({exc})") from exc

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
)
from cefmt.codec import (
    Codec,
    body_to_data,
    canonical_string,
    data_to_body,
    dump_json,
    event_from_members,
    load_json,
    parse_media_type,
    plain_data,
    typed_attributes,
)

__all__ = [
    "COMPACT_MEDIA_TYPE",
    "COMPACT_SCHEMA",
    "MEDIA_TYPE",
    "SCHEMA",
    "compact",
    "decode_compact",
    "decode_event",
    "detect",
    "encode_compact",
    "encode_event",
    "structured",
]

MEDIA_TYPE = "application/cloudevents+avro"
COMPACT_MEDIA_TYPE = "application/cloudevents+avro-compact"


def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((resources.files(__name__) / name).read_text(encoding="utf-8"))
    return loaded


#: The Avro format's schema (``cloudevents.avsc``), as JSON: what to register in a schema registry.
SCHEMA = _schema("cloudevents.avsc")
#: The Avro compact format's schema (``cloudevents-compact.avsc``), as JSON.
COMPACT_SCHEMA = _schema("cloudevents-compact.avsc")

_PARSED = fastavro.parse_schema(SCHEMA)
_COMPACT_PARSED = fastavro.parse_schema(COMPACT_SCHEMA)

_CONFLUENT_MAGIC = 0
_SINGLE_OBJECT_MARKER = b"\xc3\x01"  # Avro specification, "Single object encoding"


def _fingerprint(parsed: Any) -> bytes:
    canonical = fastavro.schema.to_parsing_canonical_form(parsed)
    return bytes.fromhex(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"))


_FINGERPRINTS = {id(_PARSED): _fingerprint(_PARSED), id(_COMPACT_PARSED): _fingerprint(_COMPACT_PARSED)}

# fastavro recurses in C, with no bound, into nested data (200 000 levels crash the interpreter), and
# the walk below recurses in Python: deeper than this is refused whatever the limits say.
_HARD_DEPTH = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# -- framing ----------------------------------------------------------------------------------------------


def _frame(datum: bytes, parsed: Any, schema_id: int | None, single_object: bool) -> bytes:
    if schema_id is not None:
        if single_object:
            raise EncodeError("give schema_id= (Confluent framing) or single_object=True, not both", codec="avro")
        if type(schema_id) is not int or not 0 <= schema_id < 1 << 32:
            raise EncodeError(f"schema_id must be an int in 0..2**32-1, got {schema_id!r}", codec="avro")
        return bytes((_CONFLUENT_MAGIC,)) + schema_id.to_bytes(4, "big") + datum
    if single_object:
        return _SINGLE_OBJECT_MARKER + _FINGERPRINTS[id(parsed)][::-1] + datum
    return datum


def _unframe(raw: bytes, parsed: Any, schema_id: int | None, what: str) -> bytes:
    """The datum inside a message, after checking a Confluent or single-object header when there is one."""
    if raw[:1] == b"\x00":
        if len(raw) < 5:
            raise MalformedMessageError(f"{what} starts with the Confluent magic byte but has no 4-byte schema id")
        found = int.from_bytes(raw[1:5], "big")
        if schema_id is not None and found != schema_id:
            raise MalformedMessageError(f"{what} names schema id {found} in its Confluent header, expected {schema_id}")
        return raw[5:]
    if schema_id is not None:
        raise MalformedMessageError(f"{what} has no Confluent header (a zero byte and schema id {schema_id})")
    if raw[:2] == _SINGLE_OBJECT_MARKER and raw[2:10] == _FINGERPRINTS[id(parsed)][::-1]:
        return raw[10:]
    return raw


# -- the walk over a datum's bytes -------------------------------------------------------------------------


class _Malformed(Exception):
    pass


def _long(raw: bytes, pos: int) -> tuple[int, int]:
    """An Avro ``int``/``long``: a zig-zag varint of at most ten bytes."""
    value = shift = 0
    for index in range(pos, min(pos + 10, len(raw))):
        byte = raw[index]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (value >> 1) ^ -(value & 1), index + 1
        shift += 7
    raise _Malformed(f"the varint at byte {pos} is cut off or longer than ten bytes")


def _skip_bytes(raw: bytes, pos: int) -> int:
    byte = raw[pos] if pos < len(raw) else 0x80
    length, pos = ((byte >> 1) ^ -(byte & 1), pos + 1) if byte < 0x80 else _long(raw, pos)
    if length < 0 or pos + length > len(raw):
        raise _Malformed(f"a string or bytes of length {length} runs past the end of the datum")
    return pos + length


class _Walk:
    """Counts what a datum of the Avro format's schema holds, without building it: the attribute
    map's entries, the maps, arrays and records of ``data``, and their nesting (the event record is
    level 1, as a JSON event object is)."""

    __slots__ = ("containers", "max_containers", "max_depth", "raw")

    def __init__(self, raw: bytes, limits: Limits) -> None:
        self.raw = raw
        self.max_depth = min(limits.max_nesting_depth, _HARD_DEPTH)
        self.max_containers = limits.max_container_count
        self.containers = 0

    def container(self, depth: int) -> None:
        if depth > self.max_depth:
            raise LimitExceededError("Avro nesting depth", depth, self.max_depth)
        self.containers += 1
        if self.containers > self.max_containers:
            raise LimitExceededError("container count", self.containers, self.max_containers)

    def blocks(self, pos: int) -> tuple[int, int]:
        """The next block of a map or array: its item count (0 at the end) and where its items start."""
        count, pos = _long(self.raw, pos)
        if count < 0:  # a negative count is followed by the block's size in bytes
            count = -count
            _, pos = _long(self.raw, pos)
        if count > len(self.raw) - pos:
            raise _Malformed(f"a block claims {count} items, more than the datum holds")
        return count, pos

    def event(self, max_attributes: int) -> int:
        """The whole datum: the attribute map, then ``data``; returns where it ends."""
        raw, pos, attributes = self.raw, 0, 0
        try:
            while True:
                count, pos = self.blocks(pos)
                if not count:
                    break
                attributes += count
                if attributes > max_attributes:
                    raise LimitExceededError("attribute count", attributes, max_attributes)
                for _ in range(count):
                    # The key, a union branch of ["null", "boolean", "int", "string", "bytes"] and its value,
                    # with one-byte varints (nearly every length and branch) read inline.
                    byte = raw[pos]
                    length, pos = ((byte >> 1) ^ -(byte & 1), pos + 1) if byte < 0x80 else _long(raw, pos)
                    if length < 0:
                        raise _Malformed(f"a key of length {length} at byte {pos}")
                    pos += length
                    branch = raw[pos]
                    pos += 1
                    if branch in (6, 8):
                        byte = raw[pos]
                        length, pos = ((byte >> 1) ^ -(byte & 1), pos + 1) if byte < 0x80 else _long(raw, pos)
                        if length < 0:
                            raise _Malformed(f"a value of length {length} at byte {pos}")
                        pos += length
                    elif branch == 4:
                        pos = _long(raw, pos)[1]
                    elif branch == 2:
                        pos += 1
                    elif branch != 0:
                        raise _Malformed(
                            f"union branch {(branch >> 1) ^ -(branch & 1)} at byte {pos - 1} does not exist"
                        )
                    if pos > len(raw):
                        raise _Malformed("an attribute runs past the end of the datum")
        except IndexError:
            raise _Malformed("the datum ends inside its attribute map") from None
        branch, pos = _long(raw, pos)
        # data: bytes, null, boolean, map of [null, boolean, record, double, string], array of record, double, string
        if branch == 3:
            return self.map(pos, 2, ("null", "boolean", "record", "double", "string"))
        if branch == 4:
            return self.array(pos, 2)
        return self.scalar(branch, ("bytes", "null", "boolean", "", "", "double", "string"), pos)

    def scalar(self, branch: int, kinds: tuple[str, ...], pos: int) -> int:
        kind = kinds[branch] if 0 <= branch < len(kinds) else ""
        if kind in ("string", "bytes"):
            return _skip_bytes(self.raw, pos)
        if kind == "int":
            return _long(self.raw, pos)[1]
        if kind == "boolean":
            return pos + 1
        if kind == "double":
            return pos + 8
        if kind == "null":
            return pos
        raise _Malformed(f"union branch {branch} at byte {pos} does not exist")

    def map(self, pos: int, depth: int, kinds: tuple[str, ...]) -> int:
        self.container(depth)
        while True:
            count, pos = self.blocks(pos)
            if not count:
                return pos
            for _ in range(count):
                pos = _skip_bytes(self.raw, pos)
                pos = self.value(pos, depth, kinds)

    def array(self, pos: int, depth: int) -> int:
        self.container(depth)
        while True:
            count, pos = self.blocks(pos)
            if not count:
                return pos
            for _ in range(count):
                pos = self.record(pos, depth + 1)

    def record(self, pos: int, depth: int) -> int:
        # AvroCloudEventData: one field, "value", a map of [null, boolean, map of record, array of record,
        # double, string]. The record and its map are one level, as the JSON object they stand for, but
        # two containers: fastavro builds a dict for each.
        self.containers += 1
        return self.map(pos, depth, ("null", "boolean", "map", "array", "double", "string"))

    def value(self, pos: int, depth: int, kinds: tuple[str, ...]) -> int:
        branch, pos = _long(self.raw, pos)
        kind = kinds[branch] if 0 <= branch < len(kinds) else ""
        if kind == "record":
            return self.record(pos, depth + 1)
        if kind == "map":  # a map of records: an object of objects
            self.container(depth + 1)
            while True:
                count, pos = self.blocks(pos)
                if not count:
                    return pos
                for _ in range(count):
                    pos = _skip_bytes(self.raw, pos)
                    pos = self.record(pos, depth + 2)
        if kind == "array":
            return self.array(pos, depth + 1)
        return self.scalar(branch, kinds, pos)


def _walk_compact(raw: bytes, limits: Limits) -> None:
    """Count the compact datum's attributes before fastavro builds the extension map."""
    pos = 0
    for _ in range(3):  # id, source, type
        pos = _skip_bytes(raw, pos)
    attributes = 4  # and specversion, which the compact format implies
    for kind in ("string", "string", "string", "long"):  # datacontenttype, dataschema, subject, time
        branch, pos = _long(raw, pos)
        if branch == 1:
            attributes += 1
            pos = _skip_bytes(raw, pos) if kind == "string" else _long(raw, pos)[1]
        elif branch != 0:
            raise _Malformed(f"union branch {branch} at byte {pos} does not exist")
    while True:
        count, pos = _long(raw, pos)
        if count < 0:
            count = -count
            _, pos = _long(raw, pos)
        if not count:
            return
        attributes += count
        if attributes > limits.max_attribute_count:
            raise LimitExceededError("attribute count", attributes, limits.max_attribute_count)
        for _ in range(count):
            pos = _skip_bytes(raw, pos)
            branch, pos = _long(raw, pos)
            if branch in (3, 4):
                pos = _skip_bytes(raw, pos)
            elif branch in (1, 2):
                pos = _long(raw, pos)[1]
            elif branch == 0:
                pos += 1
            else:
                raise _Malformed(f"union branch {branch} at byte {pos} does not exist")


# -- reading and writing with fastavro ---------------------------------------------------------------------


def _write(parsed: Any, record: dict[str, Any], name: str) -> bytes:
    out = io.BytesIO()
    try:
        fastavro.schemaless_writer(out, parsed, record, strict=True)
    except UnicodeEncodeError as exc:
        raise EncodeError(
            f"data holds a string with a lone surrogate ({exc.object[exc.start : exc.end]!r}), which is not valid "
            "Unicode and has no UTF-8 form",
            codec=name,
        ) from exc
    except (ValueError, TypeError, OverflowError, AttributeError) as exc:
        raise EncodeError(f"the event cannot be written with the {name} schema: {exc}", codec=name) from exc
    return out.getvalue()


def _read(parsed: Any, datum: bytes, what: str) -> dict[str, Any]:
    source = io.BytesIO(datum)
    try:
        record: Any = fastavro.schemaless_reader(source, parsed, None)
    except UnicodeDecodeError as exc:
        raise MalformedMessageError(f"{what} holds a string that is not valid UTF-8: {exc.reason}") from exc
    except (EOFError, ValueError, TypeError, OverflowError, IndexError, KeyError, struct.error) as exc:
        raise MalformedMessageError(f"{what} is not a datum of its schema: {type(exc).__name__}: {exc}") from exc
    if source.tell() != len(datum):
        raise MalformedMessageError(f"{what} has {len(datum) - source.tell()} bytes after its datum")
    if type(record) is not dict:  # the schemas' top level is a record: this is for the type checker
        raise MalformedMessageError(f"{what} is not a record")
    return record


def _message(raw: Any, limits: Limits | None, what: str) -> tuple[bytes, Limits]:
    if limits is None:
        limits = DEFAULT_LIMITS
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise MalformedMessageError(f"an {what} must be bytes, got {type(raw).__name__}")
    if len(raw) > limits.max_message_bytes:
        limits.check_message_size(raw, f"size of {what}")
    if not raw:
        raise MalformedMessageError(f"an empty message is not an {what}")
    return bytes(raw), limits


def _is_json(content_type: str | None) -> bool:
    return content_type is not None and parse_media_type(content_type).is_json


# -- the Avro format ----------------------------------------------------------------------------------------


def to_record(event: CloudEvent) -> dict[str, Any]:
    """The event as the record :func:`encode_event` writes with the ``cloudevents.avsc`` schema."""
    attributes: dict[str, Any] = typed_attributes(event)
    for name, value in attributes.items():
        if isinstance(value, Timestamp):  # section 2.1: Timestamp is an RFC 3339 string
            attributes[name] = canonical_string(value)
    data = plain_data(event)
    if data is not None and type(data) is not bytes and (type(data) is not str or _is_json(event.datacontenttype)):
        data = dump_json(data).decode("utf-8")
    return {"attribute": attributes, "data": data}


def encode_event(event: CloudEvent, *, schema_id: int | None = None, single_object: bool = False) -> bytes:
    """One event in the Avro format; ``schema_id`` adds the Confluent header, ``single_object`` Avro's.

    >>> encode_event(CloudEvent(id="1", source="/s", type="t"))[:14]
    b'\\x08\\x16specversion\\x06'
    """
    return _frame(_write(_PARSED, to_record(event), "avro"), _PARSED, schema_id, single_object)


def _json_value(value: Any) -> Any:
    """A value of the schema's JSON branches as a JSON value: ``AvroCloudEventData`` records are objects
    (their ``value`` map), maps of them objects of objects. The walk before bounded the depth."""
    if isinstance(value, dict):
        if value.keys() == {"value"} and isinstance(value["value"], dict):
            value = value["value"]
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if type(value) is float and value - value != 0.0:
        raise InvalidAttributeError("data", "holds a NaN or infinite number, which JSON values cannot", value)
    return value


def decode_event(
    raw: bytes,
    *,
    extension_types: Mapping[str, type] | None = None,
    limits: Limits | None = None,
    schema_id: int | None = None,
) -> CloudEvent:
    """Avro-format bytes (with or without a Confluent or single-object header) to an event.

    ``limits`` bounds the size, the attribute count and the nesting and containers of ``data`` before
    fastavro reads anything; ``schema_id`` requires a Confluent header naming that id.

    >>> decode_event(encode_event(CloudEvent(id="1", source="/s", type="t", n=3)))["n"]
    3
    """
    raw, limits = _message(raw, limits, "Avro event")
    datum = _unframe(raw, _PARSED, schema_id, "Avro event")
    try:
        end = _Walk(datum, limits).event(limits.max_attribute_count)
    except _Malformed as exc:
        raise MalformedMessageError(f"Avro event is not a datum of its schema: {exc}") from None
    except RecursionError:  # only when called with little stack left: the walk is bounded at _HARD_DEPTH
        raise MalformedMessageError("Avro event is nested too deeply to read here") from None
    if end != len(datum):
        raise MalformedMessageError(f"Avro event has {len(datum) - end} bytes after its datum")
    record = _read(_PARSED, datum, "Avro event")
    members = dict(record["attribute"])
    data = record["data"]
    content_type = members.get("datacontenttype")
    if type(data) is str and _is_json(content_type if type(content_type) is str else None):
        data = load_json(data, "member 'data'", limits=limits)
    elif data is not None and type(data) not in (str, bytes):
        data = _json_value(data)
    return event_from_members(members, data, extension_types=extension_types)


# -- the Avro compact format -------------------------------------------------------------------------------


def _micros(value: datetime, name: str) -> datetime:
    if isinstance(value, Timestamp) and value.nanosecond:
        raise EncodeError(
            f"attribute {name!r}: {canonical_string(value)} has nanoseconds, and the Avro compact format keeps "
            "microseconds (timestamp-micros); round the Timestamp first, or use another format",
            codec="avro-compact",
        )
    try:
        value.astimezone(timezone.utc)
    except OverflowError:
        raise EncodeError(
            f"attribute {name!r}: {value.isoformat()} is, in UTC, outside years 1 to 9999, which a reader of "
            "timestamp-micros cannot hold",
            codec="avro-compact",
        ) from None
    return value


def to_compact_record(event: CloudEvent) -> dict[str, Any]:
    """The event as the record :func:`encode_compact` writes with ``cloudevents-compact.avsc``."""
    if event.specversion != "1.0":
        raise EncodeError(
            f"the Avro compact format carries CloudEvents 1.0 only (its schema has no specversion), not "
            f"{event.specversion}",
            codec="avro-compact",
        )
    extensions: dict[str, Any] = {}
    for name, value in event.extensions.items():
        extensions[name] = _micros(value, name) if isinstance(value, datetime) else value
    data = plain_data(event)
    if type(data) is bytes and data and _is_json(event.datacontenttype):
        # The receiver parses a JSON body, as in binary mode: bytes that are not JSON would not come back.
        try:
            load_json(data, "data")
        except MalformedMessageError as exc:
            raise EncodeError(
                f"data is bytes under the JSON datacontenttype {event.datacontenttype!r} but not JSON text ({exc}); "
                "the compact format's reader parses it",
                codec="avro-compact",
            ) from exc
    return {
        "id": event.id, "source": event.source, "type": event.type,
        "datacontenttype": event.datacontenttype, "dataschema": event.dataschema, "subject": event.subject,
        "time": None if event.time is None else _micros(event.time, "time"),
        "extensions": extensions,
        "data": None if data is None else data_to_body(event),
    }  # fmt: skip


def encode_compact(event: CloudEvent, *, schema_id: int | None = None, single_object: bool = False) -> bytes:
    """One spec-1.0 event in the Avro compact format (headers as for :func:`encode_event`).

    >>> encode_compact(CloudEvent(id="1", source="/s", type="t"))
    b'\\x021\\x04/s\\x02t\\x00\\x00\\x00\\x00\\x00\\x02'
    """
    return _frame(_write(_COMPACT_PARSED, to_compact_record(event), "avro-compact"), _COMPACT_PARSED, schema_id,
                  single_object)  # fmt: skip


def _timestamp(value: Any) -> Any:
    if isinstance(value, datetime):  # fastavro gives timestamp-micros as an aware datetime in UTC
        return Timestamp(value.year, value.month, value.day, value.hour, value.minute, value.second,
                         value.microsecond, timezone.utc)  # fmt: skip
    return value


def _body_data(body: bytes, content_type: str | None, limits: Limits) -> Data:
    if body:
        return body_to_data(body, content_type, "member 'data'", limits=limits)
    # An empty body is still data here (null is none): empty text, or empty bytes.
    if content_type is not None and parse_media_type(content_type).is_text:
        return ""
    return None if _is_json(content_type) else b""


def decode_compact(
    raw: bytes,
    *,
    extension_types: Mapping[str, type] | None = None,
    limits: Limits | None = None,
    schema_id: int | None = None,
) -> CloudEvent:
    """Avro-compact bytes to a spec-1.0 event; ``limits`` and ``schema_id`` as for :func:`decode_event`.

    >>> decode_compact(encode_compact(CloudEvent(id="1", source="/s", type="t"))).id
    '1'
    """
    raw, limits = _message(raw, limits, "Avro compact event")
    datum = _unframe(raw, _COMPACT_PARSED, schema_id, "Avro compact event")
    try:
        _walk_compact(datum, limits)
    except _Malformed as exc:
        raise MalformedMessageError(f"Avro compact event is not a datum of its schema: {exc}") from None
    record = _read(_COMPACT_PARSED, datum, "Avro compact event")
    extensions = record.pop("extensions")
    body = record.pop("data")
    members: dict[str, Any] = {"specversion": "1.0", **record, "time": _timestamp(record["time"])}
    for name, value in extensions.items():
        if name in members:
            raise MalformedMessageError(f"extension {name[:80]!r} has the name of a core attribute")
        members[name] = _timestamp(value)
    content_type = record["datacontenttype"]
    data = None if body is None else _body_data(body, content_type, limits)
    return event_from_members(members, data, extension_types=extension_types)


def detect(raw: Any) -> tuple[str | None, str]:
    """Always structured: neither Avro format defines a batch.

    >>> detect(b"")
    (None, 'structured')
    """
    return (None, "structured")


structured = Codec(encode=encode_event, decode=decode_event, detect=detect, media_type=MEDIA_TYPE)
compact = Codec(encode=encode_compact, decode=decode_compact, detect=detect, media_type=COMPACT_MEDIA_TYPE)
