"""What every protocol binding and event format shares, so that a new one is its mapping and little else.

A binding's binary mode turns an event's attributes into the transport's headers or properties and
back (:func:`canonical_attributes`, :func:`typed_attributes`, :func:`event_from_parts`); its structured
and batch modes put a whole event in the body in an event format found through the registry that
called the binding (:func:`encode_in_format`, :func:`decode_in_format`). An event format turns its
document's members into an event with :func:`event_from_members`. The spec-version differences come
from :mod:`cefmt._spec`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._data import body_to_data, plain_data
from ._errors import CloudEventError, EncodeError, MalformedMessageError, UsageError
from ._event import CloudEvent, Data
from ._limits import DEFAULT_LIMITS, Limits
from ._media import parse_media_type
from ._memo import Memo
from ._pure import FALLBACK, SPEEDUPS
from ._spec import SPECS
from ._timestamp import format_timestamp
from ._types import ExtensionValue, canonical_string, coerce_extension, decode_base64

if TYPE_CHECKING:
    from ._registry import Registry

__all__ = [
    "batch_specversion",
    "canonical_attributes",
    "decode_in_format",
    "encode_in_format",
    "event_from_members",
    "event_from_parts",
    "format_of",
    "plain_data",
    "read_header_pairs",
    "typed_attributes",
]

_STRUCTURED = "application/cloudevents+"
_BATCH = "application/cloudevents-batch+"


# -- what goes out ---------------------------------------------------------------------------------------


def typed_attributes(event: CloudEvent) -> dict[str, ExtensionValue]:
    """Every attribute, under its name in the event's spec version, in its own type, in the order the
    formats write them: what an event format or a binding whose properties are typed (AMQP) writes.
    A binding carries ``datacontenttype`` in its content-type field: it pops it from here.

    >>> from cefmt import CloudEvent
    >>> typed_attributes(CloudEvent(id="1", source="/s", type="t", specversion="0.3", dataschema="/x", n=3))
    {'specversion': '0.3', 'id': '1', 'source': '/s', 'type': 't', 'schemaurl': '/x', 'n': 3}
    """
    found: dict[str, ExtensionValue] = {
        "specversion": event.specversion, "id": event.id, "source": event.source, "type": event.type,
    }  # fmt: skip
    if event.datacontenttype is not None:
        found["datacontenttype"] = event.datacontenttype
    if event.dataschema is not None:
        found[SPECS[event.specversion].wire_name("dataschema")] = event.dataschema
    if event.subject is not None:
        found["subject"] = event.subject
    if event.time is not None:
        found["time"] = event.time
    found.update(event.extensions._items)
    return found


def canonical_attributes(event: CloudEvent) -> dict[str, str]:
    """:func:`typed_attributes` as canonical strings: what a binding whose headers carry text writes
    (Boolean ``true``/``false``, Binary as Base64, Timestamp as RFC 3339).

    >>> from cefmt import CloudEvent
    >>> canonical_attributes(CloudEvent(id="1", source="/s", type="t", flag=True, raw=b"Ma"))
    {'specversion': '1.0', 'id': '1', 'source': '/s', 'type': 't', 'flag': 'true', 'raw': 'TWE='}
    """
    found: dict[str, str] = {
        "specversion": event.specversion, "id": event.id, "source": event.source, "type": event.type,
    }  # fmt: skip
    if event.datacontenttype is not None:
        found["datacontenttype"] = event.datacontenttype
    if event.dataschema is not None:
        found[SPECS[event.specversion].wire_name("dataschema")] = event.dataschema
    if event.subject is not None:
        found["subject"] = event.subject
    if event.time is not None:
        found["time"] = format_timestamp(event.time)
    for name, value in event.extensions._items.items():
        found[name] = value if type(value) is str else canonical_string(value)
    return found


# -- attributes in ----------------------------------------------------------------------------------------


def event_from_parts(
    attributes: dict[str, Any],
    body: bytes | None,
    content_type: str | None,
    *,
    where: Callable[[str], str],
    body_where: str = "body",
    extension_types: Mapping[str, type] | None = None,
    limits: Limits | None = None,
) -> CloudEvent:
    """A binary-mode message back to an event: its attributes (by name, as the transport gave them),
    body and content type. ``attributes`` is consumed.

    Applies, in one place, what every binding's binary mode does: spec 0.3's ``datacontentencoding``
    (a Base64 body), the body rule of :func:`~cefmt.codec.body_to_data`, ``extension_types``, and the
    location of an error: ``where(name)`` says where attribute ``name`` travelled (``"header
    'ce-time'"``), ``body_where`` where the data did.

    >>> event = event_from_parts(
    ...     {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "n": "3"}, b"hi", "text/plain",
    ...     where=lambda name: f"header 'ce-{name}'", extension_types={"n": int},
    ... )
    >>> event.data, event["n"]
    ('hi', 3)
    """
    if _C_BINARY_EVENT is not None and not extension_types and (body is None or type(body) is bytes):
        # The compiled builder: the same event for a body in JSON, UTF-8 text or bytes and attributes it
        # takes; anything else (spec 0.3's Base64 body, errors to locate) is left to the code below.
        bounds = DEFAULT_LIMITS if limits is None else limits
        event = _C_BINARY_EVENT(
            attributes, body or b"", content_type,
            bounds.max_message_bytes, bounds.max_nesting_depth, bounds.max_container_count,
        )  # fmt: skip
        if event is not FALLBACK:
            return event  # type: ignore[no-any-return]
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    spec = SPECS.get(attributes.get("specversion"))  # type: ignore[arg-type]
    if spec is not None and spec.data_encoding is not None and body:
        encoding = attributes.pop(spec.data_encoding, None)
        if encoding == "base64":
            body = decode_base64(body.decode("ascii", "replace"), f"{body_where} ({spec.data_encoding} base64)")
        elif encoding is not None:
            raise MalformedMessageError(f"{where(spec.data_encoding)}: {encoding!r} is not supported")
    if extension_types:
        _apply_extension_types(attributes, extension_types)
    try:
        data = body_to_data(body, content_type, body_where, limits=limits) if body else None
        return CloudEvent._from_owned(attributes, data, trusted=True)
    except CloudEventError as exc:
        attribute = getattr(exc, "attribute", None)
        if attribute is None:
            raise
        location = body_where if attribute == "data" else where(attribute)
        raise exc.at(location) from exc.__cause__


def event_from_members(
    members: dict[str, Any],
    data: Data,
    *,
    where: str = "event",
    extension_types: Mapping[str, type] | None = None,
    checked: bool = False,
) -> CloudEvent:
    """An event format's document back to an event: its members (attributes, ``data`` taken out) and
    data. ``members`` is consumed.

    Applies spec 0.3's ``datacontentencoding`` (Base64 text in ``data`` becomes bytes) and
    ``extension_types``; an error is located at ``where`` (``"batch item 3"``) unless that is the
    default ``"event"``. ``checked`` says the format's parser has made sure ``data`` is a JSON value
    (string keys, finite numbers, valid Unicode) that nothing else refers to; otherwise the record
    checks and copies it, as it does for data given in code.

    >>> event_from_members({"specversion": "0.3", "id": "1", "source": "/s", "type": "t",
    ...                     "datacontentencoding": "base64"}, "TWE=").data
    b'Ma'
    """
    try:
        spec = SPECS.get(members.get("specversion"))  # type: ignore[arg-type]
        if spec is not None and spec.data_encoding is not None:
            encoding = members.pop(spec.data_encoding, None)
            if encoding is not None:
                if encoding != "base64":
                    raise MalformedMessageError(f"{spec.data_encoding} {encoding!r} is not supported")
                if data is not None:
                    data = decode_base64(data, f"member 'data' ({spec.data_encoding} base64)")
        if extension_types:
            _apply_extension_types(members, extension_types)
        return CloudEvent._from_owned(members, data, trusted=checked)
    except CloudEventError as exc:
        if where == "event":
            raise
        raise exc.at(where) from exc.__cause__


def _apply_extension_types(attributes: dict[str, Any], extension_types: Mapping[str, type]) -> None:
    for name, kind in extension_types.items():
        value = attributes.get(name)
        if value is not None:
            attributes[name] = coerce_extension(value, kind, name)


# -- batches ------------------------------------------------------------------------------------------------


def batch_specversion(events: Iterable[CloudEvent], error: type[CloudEventError] = EncodeError) -> str:
    """The one spec version of a batch's events (``"1.0"`` for none); a mix raises ``error``
    (:class:`~cefmt.EncodeError` by default: a decoder passes :class:`~cefmt.MalformedMessageError`).

    A batch is one format document, and a document has one spec version.

    >>> from cefmt import CloudEvent
    >>> batch_specversion([CloudEvent(id="1", source="/s", type="t")])
    '1.0'
    """
    try:
        versions = {event.specversion for event in events}
    except AttributeError as exc:
        raise UsageError(f"a batch holds events; it holds {type(exc.obj).__name__}") from None
    if len(versions) > 1:
        raise error(f"all events of a batch must have one specversion, got {', '.join(sorted(versions))}")
    return versions.pop() if versions else "1.0"


# -- structured and batch modes ----------------------------------------------------------------------------


def _format_name(content_type: str, prefix: str) -> str | None:
    essence = parse_media_type(content_type).essence
    if essence.startswith(prefix) and len(essence) > len(prefix):
        return essence[len(prefix) :]
    return None


_STRUCTURED_NAMES: Memo[str, str | None] = Memo(lambda content_type: _format_name(content_type, _STRUCTURED))
_BATCH_NAMES: Memo[str, str | None] = Memo(lambda content_type: _format_name(content_type, _BATCH))


def format_of(content_type: str | None, mode: str = "structured") -> str | None:
    """The event format a content type names for ``mode``: ``json`` for
    ``application/cloudevents+json`` (structured) or ``application/cloudevents-batch+json`` (batch);
    ``None`` when it names none.

    >>> format_of("application/cloudevents+json; charset=utf-8"), format_of("text/plain")
    ('json', None)
    """
    if content_type is None:
        return None
    return (_BATCH_NAMES if mode == "batch" else _STRUCTURED_NAMES)[content_type]


def encode_in_format(registry: Registry, value: Any, format: str, mode: str = "structured") -> tuple[str, bytes]:
    """A whole event (a list of events for ``mode="batch"``) in the event format ``format``, found in
    ``registry``: the content type to send and the body.

    >>> from cefmt import CloudEvent, default_registry
    >>> encode_in_format(default_registry, CloudEvent(id="1", source="/s", type="t"), "json")[0]
    'application/cloudevents+json'
    """
    specversion = getattr(value, "specversion", None) if mode != "batch" else None
    if type(specversion) is str:
        # One event: the codec registry.encode would pick (this key), called directly.
        codec = registry.find_format(format, mode, specversion)
        body = codec.encode(value)
    else:
        body = registry.encode(value, format, mode)
        codec = registry.find_format(format, mode)
    if not isinstance(body, bytes):
        raise EncodeError(f"the event format {format!r} wrote {type(body).__name__}, not bytes")
    media_type = codec.media_type
    return media_type or f"{_BATCH if mode == 'batch' else _STRUCTURED}{format}", body


def decode_in_format(
    registry: Registry, format: str, body: bytes, mode: str = "structured", *, limits: Limits | None = None,
    **options: Any,
) -> Any:  # fmt: skip
    """A structured body (a batch body for ``mode="batch"``) in the event format ``format``, found in
    ``registry``; ``limits`` and ``options`` go on to the format's decoder (``limits`` only when it
    takes them: the binding checked the body's size itself).
    """
    codec = registry.find_format(format, mode)
    return codec.decode(body, limits=limits, **options) if limits is not None else codec.decode(body, **options)


# -- headers as (name, value) pairs -------------------------------------------------------------------------

# The compiled reader of the common case, when built: a list or tuple of (str, bytes) pairs.
_C_READ_PAIRS = SPEEDUPS.read_pairs if SPEEDUPS is not None else None


def read_header_pairs(
    pairs: Iterable[Any], prefix: str, *, limits: Limits = DEFAULT_LIMITS, binding: str = "message"
) -> tuple[dict[str, str], str | None]:
    """The CloudEvents part of headers that travel as ``(name, value)`` pairs with UTF-8 values (Kafka's):
    each ``PREFIX``-named header's value under its attribute name, and the ``content-type`` header's value.

    Names are matched in any letter case; a repeated ``PREFIX``-named or ``content-type`` header is an
    error (two values for one attribute are ambiguous). Values may be UTF-8 ``bytes`` or ``str``, each held
    to ``limits.max_header_value_length``; more than ``limits.max_header_count`` pairs is an error.
    ``binding`` names the binding in error messages. Other headers are counted, not read.

    >>> read_header_pairs([("ce_id", b"1"), ("Content-Type", b"text/plain"), ("trace", b"x")], "ce_")
    ({'id': '1'}, 'text/plain')
    """
    max_count = limits.max_header_count
    if hasattr(pairs, "__len__") and len(pairs) > max_count:  # type: ignore[arg-type]
        limits.check_header_count(len(pairs))  # type: ignore[arg-type]
    if _C_READ_PAIRS is not None and isinstance(pairs, (list, tuple)):
        found = _C_READ_PAIRS(pairs, prefix, max_count, limits.max_header_value_length)
        if found is not FALLBACK:
            return found  # type: ignore[no-any-return]
    max_length = limits.max_header_value_length
    skip = len(prefix)
    attributes: dict[str, str] = {}
    content_type: str | None = None
    try:
        for count, (raw_name, raw) in enumerate(pairs, 1):
            if count > max_count:  # pairs without a length: counted as they come
                limits.check_header_count(count)
            name = (raw_name if type(raw_name) is str else _header_name(raw_name, binding)).lower()
            if name.startswith(prefix):
                attribute: str | None = name[skip:]
                if attribute in attributes:
                    raise MalformedMessageError(f"header {name!r} appears more than once")
            elif name == "content-type":
                if content_type is not None:
                    raise MalformedMessageError(f"header {name!r} appears more than once")
                attribute = None
            else:
                continue
            text = _header_text(name, raw, max_length, limits)
            if attribute is None:
                content_type = text
            else:
                attributes[attribute] = text
    except (TypeError, ValueError) as exc:
        if isinstance(exc, CloudEventError):
            raise
        raise MalformedMessageError(f"{binding} headers must be (name, value) pairs: {exc}") from exc
    return attributes, content_type


def _header_name(name: Any, binding: str) -> str:
    if isinstance(name, (bytes, bytearray)):
        try:
            return bytes(name).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessageError(f"a {binding} header name is not valid UTF-8: {exc.reason}") from exc
    if isinstance(name, str):
        return name
    raise MalformedMessageError(f"a {binding} header name must be text, got {type(name).__name__}")


def _header_text(name: str, raw: Any, max_length: int, limits: Limits) -> str:
    if type(raw) is bytes or isinstance(raw, (bytes, bytearray, memoryview, str)):
        if len(raw) > max_length:
            limits.check_header_value(raw, name)
        if isinstance(raw, str):
            return raw
        try:
            # Kafka: "Both header keys and header values MUST be encoded as UTF-8 strings" (section 3.2.3).
            return (raw if type(raw) is bytes else bytes(raw)).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessageError(f"header {name!r} is not valid UTF-8: {exc.reason}") from exc
    shown = "null" if raw is None else type(raw).__name__
    raise MalformedMessageError(f"header {name!r} must hold UTF-8 bytes, got {shown}")


# The compiled builder of binary-mode events, when built (see event_from_parts).
_C_BINARY_EVENT = SPEEDUPS.binary_event if SPEEDUPS is not None else None
