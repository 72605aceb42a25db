"""The event record: :class:`CloudEvent`, a frozen, slotted, validated ``attrs`` class."""

from __future__ import annotations

import builtins
import functools
import os
from collections.abc import Callable, ItemsView, Iterator, Mapping, ValuesView
from datetime import datetime
from typing import Any, TypeVar, overload

import attrs

from ._errors import (
    CloudEventError,
    InvalidAttributeError,
    MissingAttributeError,
    UnsupportedSpecVersionError,
    UsageError,
)
from ._frozen import FrozenDict, FrozenList, NotAJsonValue, TypedContainer, check_data, data_equal, view
from ._media import _IS_JSON, is_json_media_type
from ._memo import Memo
from ._pure import FALLBACK, PURE, SPEEDUPS
from ._spec import SPEC_VERSIONS, SPECS
from ._timestamp import Timestamp, parse_timestamp, to_timestamp
from ._types import (
    _MEDIA_TYPES,
    ExtensionValue,
    check_binary,
    check_extension_name,
    check_extension_value,
    check_media_type,
    check_nonempty_string,
    check_uri,
    check_uri_reference,
    decode_base64,
)

__all__ = ["SPEC_VERSIONS", "CloudEvent", "Data", "Extensions"]

#: What ``CloudEvent.data`` holds: nothing, raw bytes, text, or a JSON value.
Data = None | bytes | str | dict[str, Any] | list[Any] | int | float | bool

T = TypeVar("T")

_CORE = frozenset({"id", "source", "type", "specversion", "datacontenttype", "dataschema", "subject", "time"})
_JSON_TYPES = (dict, list, tuple, int, float, bool)  # bool is an int, listed for the reader


class Extensions(Mapping[str, ExtensionValue]):
    """An immutable mapping of extension attributes, typed values kept as they are.

    Equality is type-aware: ``{"x": True}`` and ``{"x": 1}`` differ, as they do on the wire.

    >>> ext = Extensions({"traceparent": "00-ab", "count": 3})
    >>> ext["count"], len(ext)
    (3, 2)
    """

    __slots__ = ("_items",)
    _items: dict[str, ExtensionValue]

    def __init__(self, items: Mapping[str, object] | None = None) -> None:
        checked: dict[str, ExtensionValue] = {}
        for name, value in (items or {}).items():
            checked[check_extension_name(name)] = check_extension_value(value, name)
        object.__setattr__(self, "_items", checked)

    @classmethod
    def _trusted(cls, items: dict[str, ExtensionValue]) -> Extensions:
        self = cls.__new__(cls)
        object.__setattr__(self, "_items", items)
        return self

    def __getitem__(self, name: str) -> ExtensionValue:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def items(self) -> ItemsView[str, ExtensionValue]:  # the dict's own view: encoders walk it per event
        return self._items.items()

    def values(self) -> ValuesView[ExtensionValue]:
        return self._items.values()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Extensions):
            other_items: Mapping[str, object] = other._items
        elif isinstance(other, Mapping):
            other_items = other
        else:
            return NotImplemented
        mine = self._items
        if len(mine) != len(other_items):
            return False
        for name, value in mine.items():
            if name not in other_items:
                return False
            theirs = other_items[name]
            if type(theirs) is not type(value) and not (isinstance(value, datetime) and isinstance(theirs, datetime)):
                return False
            if theirs != value:
                return False
        return True

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Extensions is immutable")

    def __repr__(self) -> str:
        return f"Extensions({self._items!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Extensions._trusted, (self._items,))

    def to_dict(self) -> dict[str, ExtensionValue]:
        """A new plain ``dict`` of the extensions."""
        return dict(self._items)


_NO_EXTENSIONS = Extensions._trusted({})


@attrs.frozen(init=False, repr=False, eq=False)
class CloudEvent:
    """One CloudEvent: validated on creation, immutable afterwards.

    Build it the way the CloudEvents SDK does, from an attributes mapping and the data, or with
    keywords; ``id`` is generated when omitted and ``specversion`` defaults to ``"1.0"``. Any attribute
    that is not a core one is an extension. Read attributes as fields (``event.source``) or by name
    (``event["source"]``, which reaches extensions too).

    Data that is neither bytes nor ``None`` and has no ``datacontenttype`` gets ``application/json``,
    the type the JSON format implies, made explicit, so that every binding carries it the same way.

    >>> e = CloudEvent({"type": "com.example.t", "source": "/s"}, {"n": 1}, comexampleext="x")
    >>> e.specversion, e.datacontenttype, e["comexampleext"], e.data
    ('1.0', 'application/json', 'x', {'n': 1})
    >>> e.evolve(subject="a")["subject"]
    'a'
    """

    id: str
    source: str
    type: str
    specversion: str
    datacontenttype: str | None
    dataschema: str | None
    subject: str | None
    time: Timestamp | None
    extensions: Extensions
    _data: Any = attrs.field(alias="data")
    # What readers get of dict and list data (a FrozenDict or FrozenList over _data), made on first read.
    _view: Any = attrs.field(default=None, alias="view")

    def __init__(self, attributes: Mapping[str, Any] | Any = None, data: Any = None, /, **kwargs: Any) -> None:
        if (
            _C_BUILD is not None and not kwargs and type(attributes) is dict and "data" not in attributes
            and _C_BUILD(self, attributes, data, False, True) is not FALLBACK
        ):  # fmt: skip
            return  # the common call, built by the accelerator (which leaves the caller's dict as it is)
        merged: dict[str, Any] = {}
        if attributes is None and isinstance(kwargs.get("attributes"), Mapping):
            # The keyword form of the SDK's CloudEvent(attributes, data): not an extension (an extension
            # cannot hold a mapping).
            attributes = kwargs.pop("attributes")
        if attributes is not None:
            if not hasattr(attributes, "items"):
                raise UsageError(
                    f"attributes must be a mapping of attribute names to values, got {type(attributes).__name__}"
                )
            merged.update(attributes.items())
        if "data" in merged:
            raise InvalidAttributeError("data", "is not an attribute; pass data as the second argument")
        extensions = kwargs.pop("extensions", None)
        if "data" in kwargs:
            if data is not None:
                raise UsageError("data was given twice, positionally and as data=")
            data = kwargs.pop("data")
        merged.update(kwargs)
        if extensions is not None:
            if isinstance(extensions, Extensions):
                extensions = extensions._items
            for name, value in extensions.items():
                if name in _CORE:
                    raise InvalidAttributeError(name, "is a core attribute, not an extension")
                merged[name] = value
        _build(self, merged, data, generate_id=True)

    # -- construction used by the codecs ------------------------------------------------------------

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, Any], data: Data = None) -> CloudEvent:
        """Build an event from decoded attributes (no generated id: a message must carry one).

        ``None`` values count as absent, as the JSON format allows. For spec 0.3, ``schemaurl`` is read
        as ``dataschema``.

        >>> CloudEvent.from_attributes({"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}).id
        '1'
        """
        self = cls.__new__(cls)
        _build(self, dict(attributes), data, generate_id=False)
        return self

    @classmethod
    def _from_owned(cls, attributes: dict[str, Any], data: Any = None, *, trusted: bool = False) -> CloudEvent:
        # from_attributes for a decoder's own fresh dict, which is consumed instead of copied; trusted
        # data came from a cefmt parser (see _build).
        if _C_BUILD is not None and cls is CloudEvent:
            made = _C_BUILD(None, attributes, data, trusted, False)
            if made is not FALLBACK:
                return made  # type: ignore[no-any-return]
        self = cls.__new__(cls)
        _build(self, attributes, data, generate_id=False, trusted=trusted)
        return self

    # -- reading -------------------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        if name in _CORE:
            value = getattr(self, name)
            if value is None:
                raise KeyError(name)
            return value
        field = SPECS[self.specversion].field_name(name)
        if field != name:  # the version's own name for a field (0.3: schemaurl)
            value = getattr(self, field)
            if value is None:
                raise KeyError(name)
            return value
        return self.extensions[name]

    def get(self, name: str, default: Any = None) -> Any:
        """The attribute ``name`` (core or extension), or ``default`` when it is not set."""
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        if name in _CORE:
            return getattr(self, name) is not None
        return name in self.extensions

    def __iter__(self) -> Iterator[str]:
        return iter(self.get_attributes())

    def __len__(self) -> int:
        return len(self.get_attributes())

    def get_attributes(self) -> dict[str, Any]:
        """Every attribute that is set, core first then extensions, as a new ``dict``."""
        found: dict[str, Any] = {
            "specversion": self.specversion, "id": self.id, "source": self.source, "type": self.type,
        }  # fmt: skip
        for name in ("datacontenttype", "dataschema", "subject", "time"):
            value = getattr(self, name)
            if value is not None:
                found[name] = value
        found.update(self.extensions._items)
        return found

    @property
    def data(self) -> Any:
        """The event data: ``None``, ``bytes``, ``str``, a JSON value (in containers that cannot change:
        :class:`cefmt.FrozenDict`, :class:`cefmt.FrozenList`), or an object of your own type (typed data).

        >>> CloudEvent(id="1", source="/s", type="t", data={"n": [1]}).data
        {'n': [1]}
        """
        value = self._data
        kind = type(value)
        if kind is dict or kind is list:  # the event's own containers, seen through a frozen view
            shown = self._view
            if shown is None:
                shown = view(value)
                _set_view(self, shown)
            return shown
        if kind is TypedContainer:
            return value.value
        return value

    def get_data(self) -> Any:
        """The event data (the same as ``event.data``), for code written for the CloudEvents SDK."""
        return self.data

    @overload
    def data_as(self, data_type: builtins.type[T], *, converter: Any = None) -> T: ...
    @overload
    def data_as(self, data_type: Any, *, converter: Any = None) -> Any: ...
    def data_as(self, data_type: Any, *, converter: Any = None) -> Any:
        """The data read as ``data_type`` (an attrs class, a dataclass, a ``TypedDict``, ``list[Order]``,
        a union, anything cattrs structures) with :data:`cefmt.converter` or ``converter``; the event is
        left as it is. Data that does not fit raises :class:`cefmt.InvalidDataError` with the field paths.

        >>> import attrs
        >>> @attrs.frozen
        ... class Reading:
        ...     celsius: float
        >>> CloudEvent(id="1", source="/s", type="t", data={"celsius": 21.5}).data_as(Reading)
        Reading(celsius=21.5)
        """
        from ._typed import structure_data  # noqa: PLC0415 - cattrs only on first use of typed data

        plain = plain_data_of(self, converter)
        return structure_data(plain, data_type, converter, event_id=self.id)

    def _with_data(self, data: Any) -> CloudEvent:
        # The same event with other data already vouched for: typed data a decoder structured (wrapped
        # by typed() when it is a container), or the JSON form of typed data.
        new = CloudEvent.__new__(CloudEvent)
        for name, setter in _SETTERS.items():
            setter(new, getattr(self, name))
        _set_data(new, data)
        _set_view(new, None)
        return new

    # -- changing (a new event each time) --------------------------------------------------------------

    def evolve(self, **changes: Any) -> CloudEvent:
        """A new event with ``changes`` applied; the original is untouched.

        Names may be core attributes, extensions or ``data``; a value of ``None`` removes an optional
        attribute or extension.

        >>> e = CloudEvent(type="t", source="/s", id="1")
        >>> e.evolve(traceparent="00-01").evolve(traceparent=None) == e
        True
        """
        merged = self.get_attributes()
        data = changes.pop("data", self._data)
        for name, value in changes.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        new = CloudEvent.__new__(CloudEvent)
        _build(new, merged, data, generate_id=False)
        return new

    def __eq__(self, other: object) -> bool:
        if type(other) is not CloudEvent:
            return NotImplemented
        return (
            self.id == other.id
            and self.source == other.source
            and self.type == other.type
            and self.specversion == other.specversion
            and self.datacontenttype == other.datacontenttype
            and self.dataschema == other.dataschema
            and self.subject == other.subject
            and self.time == other.time
            and self.extensions == other.extensions
            and data_equal(self._data, other._data)  # type-aware: True is not 1
        )

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        # CloudEvents 1.0, id: "Producers MUST ensure that source + id is unique for each distinct
        # event", so they make a good hash; equal events always share them.
        return hash((self.specversion, self.source, self.id))

    def __setitem__(self, name: str, value: Any) -> None:
        raise UsageError(f"a CloudEvent cannot be changed; make a new one with event.evolve({name}=...)")

    def __delitem__(self, name: str) -> None:
        raise UsageError(f"a CloudEvent cannot be changed; make a new one without it with event.evolve({name}=None)")

    def __repr__(self) -> str:
        parts = [f"{name}={value!r}" for name, value in self.get_attributes().items()]
        if self._data is not None:
            shown = repr(self._data)
            parts.append(f"data={shown if len(shown) <= 60 else shown[:57] + '...'}")
        return f"CloudEvent({', '.join(parts)})"


_URI_CHECKS = {"URI": check_uri, "URI-reference": check_uri_reference}


def _plain(value: object) -> bool:
    """Whether ``value`` is a non-empty printable ASCII ``str``: a valid String with no further check."""
    return type(value) is str and value.isascii() and value.isprintable() and value != ""


def _new_id() -> str:
    """A random (version 4) UUID in its usual text form, as ``str(uuid.uuid4())`` writes it."""
    bits = int.from_bytes(os.urandom(16), "big")
    bits = (bits & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)  # RFC 4122 4.4
    text = "%032x" % bits  # noqa: UP031
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


# Sources that passed the URI-reference check. A stream's events come from few producers, so most
# checks become one dict lookup.
_SOURCES: Memo[str, str] = Memo(lambda source: check_uri_reference(source, "source"), size=4096)
# Spec 1.0 dataschema values that passed the URI check (for the compiled builder; the same check as _build's).
_SCHEMAS: Memo[str, str] = Memo(lambda schema: check_uri(schema, "dataschema"), size=1024)
_SCHEMA_REFS: Memo[str, str] = Memo(lambda schema: check_uri_reference(schema, "schemaurl"), size=1024)  # spec 0.3


# What untyped data is, by type; anything else an event holds is typed data.
_PLAIN_KINDS = frozenset({type(None), bytes, str, dict, list, FrozenDict, FrozenList, int, float, bool})


def plain_data_of(event: CloudEvent, converter: Any = None) -> Any:
    """The event's data as encoders write it: untyped data as it is, typed data in its JSON form
    (through ``converter``, :data:`cefmt.converter` by default)."""
    value = event._data
    if type(value) in _PLAIN_KINDS:
        return value
    from ._typed import unstructure_data  # noqa: PLC0415 - cattrs only on first use of typed data

    return unstructure_data(value.value if type(value) is TypedContainer else value, converter)


def _has_json_form(data: Any) -> bool:
    from ._typed import unstructure_data  # noqa: PLC0415 - cattrs only for typed data

    try:
        unstructure_data(data)
    except CloudEventError:
        return False
    return True


def _checked_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidAttributeError(
            "data", f"holds a lone surrogate ({text[exc.start : exc.end]!r}), which is not valid Unicode"
        ) from None
    return text


def _build(
    event: CloudEvent, attributes: dict[str, Any], data: Any, *, generate_id: bool, trusted: bool = False
) -> None:
    """Validate ``attributes`` and ``data`` and fill the fields of ``event`` (which is not yet in use).

    ``attributes`` is consumed. A value of ``None`` counts as absent: the JSON format writes absent
    optional attributes as null. ``trusted`` data came from a cefmt parser (a JSON value already, owned
    by nobody else): it is not checked and copied now, only frozen when first read.
    """
    if _C_BUILD is not None and _C_BUILD(event, attributes, data, trusted, generate_id) is not FALLBACK:
        return  # the compiled builder took it (attributes it does not take are left for the code below)
    pop = attributes.pop
    specversion = pop("specversion", None)
    if specversion is None:
        if not generate_id:
            raise MissingAttributeError("specversion", "/".join(SPEC_VERSIONS))
        specversion = "1.0"
    if specversion not in SPEC_VERSIONS:
        raise UnsupportedSpecVersionError(specversion, SPEC_VERSIONS)

    event_id = pop("id", None)
    if event_id is None:
        if not generate_id:
            raise MissingAttributeError("id", specversion)
        event_id = _new_id()
    source = pop("source", None)
    if source is None:
        raise MissingAttributeError("source", specversion)
    event_type = pop("type", None)
    if event_type is None:
        raise MissingAttributeError("type", specversion)
    source = _SOURCES[source] if type(source) is str else check_uri_reference(source, "source")
    # _plain(), spelled out: the call would cost a quarter of the checks on every event built.
    if not (type(event_type) is str and event_type.isascii() and event_type.isprintable() and event_type):
        event_type = check_nonempty_string(event_type, "type")
    if not (type(event_id) is str and event_id.isascii() and event_id.isprintable() and event_id):
        event_id = check_nonempty_string(event_id, "id")

    time = pop("time", None)
    if time is not None:
        time = parse_timestamp(time) if type(time) is str else to_timestamp(time, "time")
    datacontenttype = pop("datacontenttype", None)
    if datacontenttype is not None:
        datacontenttype = check_media_type(datacontenttype, "datacontenttype")

    dataschema = subject = None
    if attributes:  # most events carry nothing more: skip the lookups below for them
        spec = SPECS[specversion]
        dataschema = pop("dataschema", None)
        # The record keeps one field for the schema; a version may name it otherwise (0.3: schemaurl),
        # and the codecs write the version's own name.
        name = spec.wire_name("dataschema")
        if name != "dataschema":
            renamed = pop(name, None)
            if renamed is not None:
                if dataschema is not None:
                    raise InvalidAttributeError(name, "given together with dataschema; use one")
                dataschema = renamed
        if dataschema is not None:
            dataschema = _URI_CHECKS[spec.types[name]](dataschema, name)
        if spec.data_encoding is not None and attributes.get(spec.data_encoding) is not None:
            raise InvalidAttributeError(
                spec.data_encoding,
                f"is applied by the codecs in spec {specversion}; give the data itself (bytes for binary data)",
            )
        subject = pop("subject", None)
        if subject is not None and not _plain(subject):
            subject = check_nonempty_string(subject, "subject")

    if data is not None:
        kind = type(data)
        if kind is bytes:
            pass
        elif kind is str:
            if not (trusted or data.isascii()):
                data = _checked_text(data)
            if datacontenttype is None:
                datacontenttype = "application/json"
        elif isinstance(data, (bytearray, memoryview)):
            data = check_binary(data, "data")
        else:
            if kind is not dict and kind is not list and not isinstance(data, _JSON_TYPES):
                # Typed data: written in its JSON form by every encoder. A builtin type (a set, a complex)
                # is typed data only if the converter gives it a JSON form; a user's class is taken as is.
                if kind.__module__ == "builtins" and not _has_json_form(data):
                    raise InvalidAttributeError(
                        "data", f"is a {kind.__name__}, which is not a JSON value and has no JSON form"
                    )
                kind = object
            elif not trusted:
                try:
                    data = check_data(data)
                except NotAJsonValue:
                    # Containers of the user's own types (a list of Orders) are typed data when the
                    # converter gives them a JSON form; otherwise the first value without one is named.
                    if not _has_json_form(data):
                        raise
                    kind = object
                    data = TypedContainer(data)
            if datacontenttype is None:
                datacontenttype = "application/json"
            elif not is_json_media_type(datacontenttype):
                shown = "typed data" if kind is object else f"a JSON value ({kind.__name__})"
                raise InvalidAttributeError(
                    "data",
                    f"is {shown} but datacontenttype {datacontenttype!r} is not a JSON media type; "
                    "pass bytes or str for other content",
                )

    extensions = _NO_EXTENSIONS
    if attributes:
        checked: dict[str, ExtensionValue] = {}
        for name, value in attributes.items():
            if value is not None:
                checked[check_extension_name(name)] = check_extension_value(value, name)
        if checked:
            extensions = Extensions._trusted(checked)

    _set_id(event, event_id)
    _set_source(event, source)
    _set_type(event, event_type)
    _set_specversion(event, specversion)
    _set_datacontenttype(event, datacontenttype)
    _set_dataschema(event, dataschema)
    _set_subject(event, subject)
    _set_time(event, time)
    _set_extensions(event, extensions)
    _set_data(event, data)
    _set_view(event, None)


def _setters() -> dict[str, Callable[[CloudEvent, Any], None]]:
    """Each field's setter for a record under construction: its slot's own ``__set__``, half the cost
    of ``object.__setattr__`` on the frozen class for every event built. Read from ``attrs.fields``, and
    checked on a scratch record: where attrs no longer stores a field in a plain slot, the setter falls
    back to ``object.__setattr__`` (what attrs itself uses for frozen classes)."""
    setters: dict[str, Callable[[CloudEvent, Any], None]] = {}
    probe = CloudEvent.__new__(CloudEvent)
    for field in attrs.fields(CloudEvent):
        descriptor = CloudEvent.__dict__.get(field.name)
        setter = getattr(descriptor, "__set__", None)
        try:
            if setter is None or PURE:
                raise AttributeError(field.name)
            setter(probe, field.name)
            if getattr(probe, field.name) != field.name:
                raise AttributeError(field.name)
        except (AttributeError, TypeError):
            setter = functools.partial(_set_plainly, name=field.name)
        setters[field.name] = setter
    return setters


def _set_plainly(event: CloudEvent, value: Any, *, name: str) -> None:
    object.__setattr__(event, name, value)


_SETTERS = _setters()
_set_id, _set_source, _set_type, _set_specversion, _set_datacontenttype = (
    _SETTERS[name] for name in ("id", "source", "type", "specversion", "datacontenttype")
)
_set_dataschema, _set_subject, _set_time, _set_extensions, _set_data = (
    _SETTERS[name] for name in ("dataschema", "subject", "time", "extensions", "_data")
)
_set_view = _SETTERS["_view"]


# The compiled record builder, when built. It fills a record from what this module's _build takes on its
# common path (valid attributes of the usual kinds, data that is bytes, text or a JSON value) and gives
# the same record; for anything else it returns FALLBACK, untouched, and _build does the work. It is
# handed the slots of the record and the checks and memos it shares with the code above.
_C_BUILD: Callable[[Any, dict[str, Any], Any, bool, bool], Any] | None = None
_FIELDS = ["id", "source", "type", "specversion", "datacontenttype", "dataschema", "subject", "time", "extensions"]
_FIELDS += ["_data", "_view"]
if (
    SPEEDUPS is not None
    and [field.name for field in attrs.fields(CloudEvent)] == _FIELDS
    and SPEEDUPS.configure("event_slots", (CloudEvent, [CloudEvent.__dict__.get(name) for name in _FIELDS]))
    and SPEEDUPS.configure("extensions", (Extensions, Extensions.__dict__["_items"], _NO_EXTENSIONS))
):
    SPEEDUPS.configure("sources", _SOURCES)
    SPEEDUPS.configure("schemas", _SCHEMAS)
    SPEEDUPS.configure("schema_refs", _SCHEMA_REFS)
    SPEEDUPS.configure("decode_base64", decode_base64)
    SPEEDUPS.configure("media_types", _MEDIA_TYPES)
    SPEEDUPS.configure("is_json", _IS_JSON)
    SPEEDUPS.configure("check_data", check_data)
    SPEEDUPS.configure("to_timestamp", to_timestamp)
    SPEEDUPS.configure("new_id", _new_id)
    _C_BUILD = SPEEDUPS.build
