"""Every registered codec as a test case, and what each one carries: the one table of views.

A *case* is ``(specversion, transport, mode, format)``: ``format`` is ``None`` for an event format's own
codecs and for binary modes, and names the event format a binding's structured or batch mode uses.
:data:`VIEWS` says, for each ``(transport, mode, format)``, how an event looks after a round trip:

* binary modes of bindings carry every extension as its canonical string (``header_view``), and an
  empty body is no data;
* the JSON format (alone or inside a binding) carries Binary and Timestamp extensions as canonical
  strings (``json_view``);
* msgpack, CBOR, XML, Arrow and Parquet carry everything (``identity``);
* the AMQP binding's binary mode keeps AMQP types (``amqp_view``): only a Timestamp extension that an
  AMQP timestamp cannot hold exactly travels as its canonical string;
* Protobuf carries every type, Timestamps as instants in UTC (``utc_view``);
* Avro carries Timestamp extensions as RFC 3339 text (``avro_view``); Avro compact carries Timestamps in
  UTC and data as a binary-mode body (``compact_view``).

:data:`REFUSES` says which events a codec refuses by design (an :class:`cefmt.EncodeError`, documented in
``docs/formats/NAME.md``) instead of changing them: the tests expect that error for those, and the view
for every other event.

SECURITY.md and docs/errors.md point here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timezone
from typing import Any

import cefmt
from cefmt import CloudEvent, Timestamp
from cefmt.codec import body_to_data, canonical_string, data_to_body, parse_media_type
from tests.strategies import header_view, json_view

Case = tuple[str, str, str, str | None]
View = Callable[[CloudEvent], CloudEvent]


def identity(event: CloudEvent) -> CloudEvent:
    return event


def binary_view(event: CloudEvent) -> CloudEvent:
    """``header_view``, and the body rule: an empty body is no data.

    The body is empty for ``b""`` and for ``""`` under a content type that is not JSON (a JSON ``""``
    is two quote characters on the wire).
    """
    viewed = header_view(event)
    empty = viewed.data == b"" or (
        viewed.data == "" and not (viewed.datacontenttype and parse_media_type(viewed.datacontenttype).is_json)
    )
    return viewed.evolve(data=None) if empty else viewed


def amqp_view(event: CloudEvent) -> CloudEvent:
    """``binary_view``'s empty-data rule, with every extension in its own type except a Timestamp with
    digits below the millisecond or a UTC offset other than zero: that one is its canonical string."""
    from cefmt_plugins.common import timestamp_to_millis

    changed = {
        name: str(value)
        for name, value in event.extensions.items()
        if isinstance(value, Timestamp) and timestamp_to_millis(value) is None
    }
    viewed = event.evolve(**changed) if changed else event
    return viewed.evolve(data=None) if binary_view(viewed).data is None and viewed.data is not None else viewed


def utc_view(event: CloudEvent) -> CloudEvent:
    """Every Timestamp (``time`` and extensions) as the same instant in UTC: formats whose timestamp type
    holds an instant and no offset (Protobuf, Avro compact)."""
    changed: dict[str, Timestamp] = {}
    if event.time is not None:
        changed["time"] = event.time.astimezone(timezone.utc)
    for name, value in event.extensions.items():
        if isinstance(value, Timestamp):
            changed[name] = value.astimezone(timezone.utc)
    return event.evolve(**changed) if changed else event


def avro_view(event: CloudEvent) -> CloudEvent:
    """The Avro format's attribute map has no Timestamp type: Timestamp extensions become RFC 3339 text."""
    changed = {n: canonical_string(v) for n, v in event.extensions.items() if isinstance(v, Timestamp)}
    return event.evolve(**changed) if changed else event


def compact_view(event: CloudEvent) -> CloudEvent:
    """Avro compact: Timestamps in UTC, and data as bytes read back by ``datacontenttype`` the way a
    binary-mode body is, except that empty data stays data (``null`` is what no data is)."""
    event = utc_view(event)
    if event.data is None:
        return event
    content_type = event.datacontenttype
    body = data_to_body(event)
    if body:
        return event.evolve(data=body_to_data(body, content_type))
    media = None if content_type is None else parse_media_type(content_type)
    if media is not None and media.is_text:
        return event.evolve(data="")
    return event.evolve(data=None if media is not None and media.is_json else b"")


def _timestamps(event: CloudEvent) -> list[Timestamp]:
    found = [value for value in event.extensions.values() if isinstance(value, Timestamp)]
    return found if event.time is None else [event.time, *found]


def outside_utc_years(event: CloudEvent) -> bool:
    """Formats whose Timestamp is an instant (Protobuf, Avro compact) refuse one that is outside years 1
    to 9999 in UTC (``0001-01-01T00:00:00+00:01``, say), which neither they nor Python can hold."""
    for value in _timestamps(event):
        try:
            value.astimezone(timezone.utc)
        except OverflowError:
            return True
    return False


def has_nanoseconds(event: CloudEvent) -> bool:
    """Avro compact keeps microseconds (timestamp-micros): it refuses a Timestamp with nanoseconds, and
    one outside the UTC years."""
    return any(value.nanosecond for value in _timestamps(event)) or outside_utc_years(event)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_cannot_hold(event: CloudEvent) -> bool:
    """XML 1.0 cannot hold some control characters and U+FFFE/U+FFFF: the XML format refuses text data
    holding one (JSON data escapes them), and an attribute whose name starts with a digit."""
    if any(name[0].isdigit() for name in event.extensions):  # no XML element name starts with a digit
        return True
    content_type = event.datacontenttype
    is_json = content_type is not None and parse_media_type(content_type).is_json
    return type(event.data) is str and not is_json and _NOT_XML.search(event.data) is not None


#: What each format refuses by design, by format name (alone, or inside a binding's structured mode).
REFUSES: dict[str, Callable[[CloudEvent], bool]] = {
    "avro-compact": has_nanoseconds,
    "protobuf": outside_utc_years,
    "xml": xml_cannot_hold,
}


def refused(case: Case, value: Any) -> bool:
    """Whether the codec of ``case`` refuses ``value`` (an event, or a list for a batch) by design."""
    check = REFUSES.get(case[3] or case[1])
    events = value if isinstance(value, list) else [value]
    return check is not None and any(check(event) for event in events)


VIEWS: dict[tuple[str, str, str | None], View] = {
    ("json", "structured", None): json_view,
    ("json", "batch", None): json_view,
    ("msgpack", "structured", None): identity,
    ("msgpack", "batch", None): identity,
    ("http", "binary", None): binary_view,
    ("http", "structured", "json"): json_view,
    ("http", "structured", "msgpack"): identity,
    ("http", "batch", "json"): json_view,
    ("http", "batch", "msgpack"): identity,
    ("kafka", "binary", None): binary_view,
    ("kafka", "structured", "json"): json_view,
    ("kafka", "structured", "msgpack"): identity,
    ("amqp", "binary", None): amqp_view,
    ("amqp", "structured", "json"): json_view,
    ("amqp", "structured", "msgpack"): identity,
    ("rabbitmq", "binary", None): binary_view,
    ("rabbitmq", "structured", "json"): json_view,
    ("rabbitmq", "structured", "msgpack"): identity,
    ("mqtt", "binary", None): binary_view,
    ("mqtt", "structured", "json"): json_view,
    ("mqtt", "structured", "msgpack"): identity,
    ("nats", "binary", None): binary_view,
    ("nats", "structured", "json"): json_view,
    ("nats", "structured", "msgpack"): identity,
    ("websocket", "structured", "json"): json_view,
    ("websocket", "structured", "msgpack"): identity,
}
# The formats of cefmt_plugins, alone and in every binding's structured and batch modes.
for _format, _modes, _view in [
    ("protobuf", ("structured", "batch"), utc_view),
    ("avro", ("structured",), avro_view),
    ("avro-compact", ("structured",), compact_view),
    ("xml", ("structured", "batch"), identity),
    ("cbor", ("structured",), identity),
    ("arrow", ("batch",), identity),
    ("parquet", ("batch",), identity),
]:
    for _mode in _modes:
        VIEWS[(_format, _mode, None)] = _view
# A binding's structured and batch modes carry a format as the format alone does.
for (_binding, _mode, _carried), _view in list(VIEWS.items()):
    if _carried is not None:
        continue
    for _other in ("http", "kafka", "amqp", "rabbitmq", "mqtt", "nats", "websocket"):
        if (_other, _mode, "json") in VIEWS:  # the binding has this mode
            VIEWS.setdefault((_other, _mode, _binding), _view)

#: Views that lose only types ``extension_types=`` restores, and the empty-data rule.
RESTORABLE = {json_view, binary_view, amqp_view, avro_view}


def _keys() -> list[tuple[str, str, str]]:
    return sorted({info.key for info in cefmt.codecs() if info.error is None})


def is_format(transport: str) -> bool:
    """An event format's codecs have a media type and take bytes."""
    keys = [k for k in _keys() if k[1] == transport]
    return any(cefmt.default_registry.lookup(*k).media_type is not None for k in keys)


def cases() -> list[Case]:
    """Every registered key, a binding's structured and batch modes once per format that has the mode."""
    keys = _keys()
    formats = {t for _, t, _ in keys if is_format(t)}
    found: list[Case] = []
    for version, transport, mode in keys:
        if transport in formats or mode not in ("structured", "batch"):
            found.append((version, transport, mode, None))
        else:
            found.extend((version, transport, mode, name) for name in sorted(formats) if (version, name, mode) in keys)
    return found


def distribution(transport: str) -> str:
    return next(info.distribution for info in cefmt.codecs() if info.key[1] == transport)


def case_id(case: Case) -> str:
    return "/".join(part for part in case if part)


def encode_case(value: Any, case: Case) -> Any:
    """Encode an event (a list of them for a batch case) the way ``case`` says."""
    _, transport, mode, fmt = case
    options = {} if fmt is None else {"format": fmt}
    return cefmt.encode(value, transport, mode, **options)


def decode_case(message: Any, case: Case, **options: Any) -> Any:
    """Decode as a receiver would: mode and version read from the message when the codec can tell."""
    _, transport, mode, _ = case
    codec = cefmt.default_registry.lookup(case[0], transport, mode)
    return cefmt.decode(message, transport, None if codec.detect is not None else mode, **options)
