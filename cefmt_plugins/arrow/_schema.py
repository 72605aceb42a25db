"""The columns of an Arrow table of CloudEvents: names, types, and how an extension's value is typed.

``docs/formats/arrow.md`` is the reference; this module is that table in code. Every column name that is
not an attribute holds an underscore, which no attribute name can (``[a-z0-9]+``), so nothing an event
carries can take the place of a column cefmt reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import pyarrow as pa

__all__ = [
    "BASE_SCHEMA",
    "CORE_STRINGS",
    "DATA_KINDS",
    "EXTENSION_VALUE",
    "EXTENSIONS_TYPE",
    "KIND_TYPES",
    "RESERVED",
    "TIMESTAMP",
    "kind_of",
    "nanos_column",
    "offset_column",
    "timestamp_fields",
]

#: Every timestamp column: microseconds since the epoch, UTC. The digits below the microsecond and the
#: UTC offset each have a column of their own (``NAME_nanos``, ``NAME_offset``): a ``timestamp[ns]`` would
#: hold only the years 1677 to 2262 of the 1 to 9999 a CloudEvents Timestamp may name, and Spark's
#: timestamps are microseconds.
TIMESTAMP: Final = pa.timestamp("us", tz="UTC")
_SMALL: Final = pa.int16()

#: The string attributes every event may have, in column order (``dataschema`` is 0.3's ``schemaurl``).
CORE_STRINGS: Final = ("specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject")

#: What ``data_kind`` says the bytes in ``data`` were: a ``bytes`` payload, a ``str`` (UTF-8 text), or a
#: JSON value (its compact UTF-8 JSON text).
DATA_KINDS: Final = ("bytes", "text", "json")

#: The value of one extension in the ``extensions`` map: exactly one of the first five fields is set,
#: and it names the extension's CloudEvents type; ``nanos`` and ``offset`` go with ``timestamp``.
EXTENSION_VALUE: Final = pa.struct(
    [
        pa.field("string", pa.string()),
        pa.field("integer", pa.int32()),
        pa.field("boolean", pa.bool_()),
        pa.field("binary", pa.binary()),
        pa.field("timestamp", TIMESTAMP),
        pa.field("nanos", _SMALL),
        pa.field("offset", _SMALL),
    ]
)
EXTENSIONS_TYPE: Final = pa.map_(pa.string(), EXTENSION_VALUE)

#: The Arrow type of an extension column, by the CloudEvents type of its values (a Timestamp column
#: comes with its ``_nanos`` and ``_offset`` columns).
KIND_TYPES: Final[dict[str, pa.DataType]] = {
    "string": pa.string(),
    "integer": pa.int32(),
    "boolean": pa.bool_(),
    "binary": pa.binary(),
    "timestamp": TIMESTAMP,
}


def nanos_column(name: str) -> str:
    """The column of a timestamp's digits below the microsecond (0-999).

    >>> nanos_column("time")
    'time_nanos'
    """
    return f"{name}_nanos"


def offset_column(name: str) -> str:
    """The column of a timestamp's UTC offset, in minutes.

    >>> offset_column("time")
    'time_offset'
    """
    return f"{name}_offset"


def timestamp_fields(name: str) -> list[pa.Field]:
    """The three columns of the timestamp attribute ``name``."""
    return [pa.field(name, TIMESTAMP), pa.field(nanos_column(name), _SMALL), pa.field(offset_column(name), _SMALL)]


#: The columns every table of events has, in order; extension columns come after them.
BASE_SCHEMA: Final = pa.schema(
    [
        pa.field("specversion", pa.string(), nullable=False),
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("datacontenttype", pa.string()),
        pa.field("dataschema", pa.string()),
        pa.field("subject", pa.string()),
        *timestamp_fields("time"),
        pa.field("data", pa.binary()),
        pa.field("data_kind", pa.string()),
        pa.field("extensions", EXTENSIONS_TYPE),
    ]
)

#: Names an extension column cannot have: those of the columns above. An extension with one of these
#: names (``extensions``, or ``dataschema`` in a 0.3 event) travels in the map.
RESERVED: Final = frozenset(BASE_SCHEMA.names)


def kind_of(value: Any) -> str:
    """The CloudEvents type of an extension value, as the map's field names spell it.

    >>> kind_of(True), kind_of(3), kind_of("x")
    ('boolean', 'integer', 'string')
    """
    kind = type(value)
    if kind is str:
        return "string"
    if kind is bool:
        return "boolean"
    if kind is int:
        return "integer"
    if kind is bytes:
        return "binary"
    if isinstance(value, datetime):
        return "timestamp"
    return "string" if isinstance(value, str) else type(value).__name__
