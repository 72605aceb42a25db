"""Events into Arrow columns: one column per attribute, ``data`` as bytes with its kind, extensions typed.

An extension whose values in the batch are all of one CloudEvents type (where it is present) gets a column
of that type; one whose type varies, or whose name is a column of the base schema, goes to the
``extensions`` map with its type in the map value. Either way every value comes back as it went in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final

import pyarrow as pa

from cefmt import CloudEvent, EncodeError, Timestamp
from cefmt.codec import dump_json, plain_data

from ._schema import (
    BASE_SCHEMA,
    CORE_STRINGS,
    EXTENSION_VALUE,
    EXTENSIONS_TYPE,
    KIND_TYPES,
    RESERVED,
    kind_of,
    nanos_column,
    offset_column,
    timestamp_fields,
)

__all__ = ["EPOCH_DAY", "instant", "layout_of", "layout_of_schema", "schema_for", "to_table"]

#: The proleptic Gregorian ordinal of 1970-01-01.
EPOCH_DAY: Final = date(1970, 1, 1).toordinal()
_MINUTE: Final = timedelta(minutes=1)


def instant(value: datetime) -> tuple[int, int, int]:
    """A timestamp as microseconds since the epoch (UTC), the nanoseconds below them, and the UTC offset
    in minutes; exact for every year from 1 to 9999.

    >>> instant(Timestamp.parse("1970-01-01T01:00:00.000001002+01:00"))
    (1, 2, 60)
    """
    offset = value.utcoffset()
    minutes = 0 if offset is None else offset // _MINUTE
    seconds = (value.toordinal() - EPOCH_DAY) * 86400 + value.hour * 3600 + value.minute * 60 + value.second
    micros = (seconds - minutes * 60) * 1_000_000 + value.microsecond
    return micros, value.nanosecond if isinstance(value, Timestamp) else 0, minutes


def layout_of(events: Sequence[CloudEvent]) -> dict[str, str]:
    """The extensions that get a column of their own in a table of ``events``, with their type: those
    whose values are all of one type, in name order. The others go to the ``extensions`` map.

    >>> layout_of([CloudEvent(id="1", source="/s", type="t", n=1), CloudEvent(id="2", source="/s", type="t")])
    {'n': 'integer'}
    """
    kinds: dict[str, str | None] = {}
    for event in events:
        for name, value in event.extensions.items():
            kind = kind_of(value)
            seen = kinds.setdefault(name, kind)
            if seen is not None and seen != kind:
                kinds[name] = None
    return {name: kind for name, kind in sorted(kinds.items()) if kind is not None and name not in RESERVED}


def layout_of_schema(schema: pa.Schema) -> dict[str, str]:
    """The extension columns of a table's schema, with their types (the inverse of :func:`schema_for`).

    >>> layout_of_schema(schema_for({"n": "integer", "at": "timestamp"}))
    {'n': 'integer', 'at': 'timestamp'}
    """
    types = {kind: name for name, kind in KIND_TYPES.items()}
    return {
        field.name: types[field.type]
        for field in schema
        if field.name not in RESERVED and "_" not in field.name and field.type in types
    }


def schema_for(layout: Mapping[str, str]) -> pa.Schema:
    """The schema of a table whose extension columns are ``layout`` (name to CloudEvents type).

    >>> schema_for({"n": "integer"}).names[-1]
    'n'
    """
    fields = list(BASE_SCHEMA)
    for name, kind in layout.items():
        if name in RESERVED or kind not in KIND_TYPES:
            raise EncodeError(f"an extension column {name!r} of type {kind!r} cannot be in an event table")
        fields.extend(timestamp_fields(name) if kind == "timestamp" else [pa.field(name, KIND_TYPES[kind])])
    return pa.schema(fields)


class _Map:
    """The ``extensions`` column, built a column at a time: keys, one list per field of the map value, and
    where each event's entries end (faster than handing Arrow a dict per entry)."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.fields: dict[str, list[Any]] = {field.name: [] for field in EXTENSION_VALUE}
        self.offsets: list[int] = [0]
        self.absent: list[bool] = []

    def add(self, name: str, value: Any) -> None:
        self.keys.append(name)
        kind = kind_of(value)
        if kind == "timestamp":
            parts = instant(value)
        for field, column in self.fields.items():
            if kind == "timestamp" and field in ("timestamp", "nanos", "offset"):
                column.append(parts[("timestamp", "nanos", "offset").index(field)])
            else:
                column.append(value if field == kind else None)

    def end_row(self) -> None:
        self.absent.append(len(self.keys) == self.offsets[-1])
        self.offsets.append(len(self.keys))

    def array(self) -> pa.Array:
        items = pa.StructArray.from_arrays(
            [pa.array(self.fields[field.name], field.type) for field in EXTENSION_VALUE], fields=list(EXTENSION_VALUE)
        )
        return pa.MapArray.from_arrays(
            pa.array(self.offsets, pa.int32()), pa.array(self.keys, pa.string()), items,
            type=EXTENSIONS_TYPE, mask=pa.array(self.absent, pa.bool_()),
        )  # fmt: skip


def _data(event: CloudEvent) -> tuple[bytes | None, str | None]:
    data = plain_data(event)
    if data is None:
        return None, None
    kind = type(data)
    if kind is bytes:
        return data, "bytes"
    if kind is str:
        try:
            return data.encode("utf-8"), "text"
        except UnicodeEncodeError as exc:
            raise EncodeError(
                f"data holds a string with a lone surrogate ({exc.object[exc.start : exc.end]!r}), which is not "
                "valid Unicode and has no UTF-8 form",
                codec="arrow",
            ) from exc
    return dump_json(data), "json"


def to_table(events: Iterable[CloudEvent], *, layout: Mapping[str, str] | None = None) -> pa.Table:
    """A ``pyarrow.Table`` of ``events``, one row each, in the schema of ``docs/formats/arrow.md``.

    ``layout`` fixes which extensions get a column of their own (name to type: ``string``, ``integer``,
    ``boolean``, ``binary``, ``timestamp``): a table that must have a schema known beforehand (a Spark
    DataFrame, a Parquet file being appended to) passes it, ``{}`` for every extension in the
    ``extensions`` map. Without it, every extension whose values are of one type gets a column. An
    extension value that does not fit its column goes to the map. Events of both spec versions may share
    a table.

    >>> table = to_table([CloudEvent(id="1", source="/s", type="t", data={"a": 1}, n=7)])
    >>> table.column("data_kind").to_pylist(), table.column("n").to_pylist()
    (['json'], [7])
    """
    events = list(events)
    if layout is None:
        layout = layout_of(events)
    schema = schema_for(layout)
    strings: dict[str, list[str | None]] = {name: [] for name in CORE_STRINGS}
    times: list[list[int | None]] = [[], [], []]
    data: list[bytes | None] = []
    data_kinds: list[str | None] = []
    in_map = _Map()
    columns: dict[str, list[Any]] = {name: [] for name in layout}
    stamps: dict[str, list[list[int | None]]] = {name: [[], []] for name, kind in layout.items() if kind == "timestamp"}
    specversions, ids, sources, types_ = (strings[name] for name in ("specversion", "id", "source", "type"))
    content_types, schemas, subjects = (strings[name] for name in ("datacontenttype", "dataschema", "subject"))
    for event in events:
        specversions.append(event.specversion)
        ids.append(event.id)
        sources.append(event.source)
        types_.append(event.type)
        content_types.append(event.datacontenttype)
        schemas.append(event.dataschema)
        subjects.append(event.subject)
        if event.time is None:
            for values in times:
                values.append(None)
        else:
            for values, part in zip(times, instant(event.time), strict=True):
                values.append(part)
        payload, kind = _data(event)
        data.append(payload)
        data_kinds.append(kind)
        extensions = event.extensions
        for name, column in columns.items():
            value = extensions.get(name)
            if value is not None and kind_of(value) != layout[name]:
                in_map.add(name, value)
                value = None
            if name in stamps:
                micros, nanos, minutes = instant(value) if isinstance(value, datetime) else (None, None, None)
                column.append(micros)
                stamps[name][0].append(nanos)
                stamps[name][1].append(minutes)
            else:
                column.append(value)
        for name, value in extensions.items():
            if name not in columns:
                in_map.add(name, value)
        in_map.end_row()
    arrays: dict[str, Any] = {name: strings[name] for name in CORE_STRINGS}
    arrays.update({"time": times[0], "time_nanos": times[1], "time_offset": times[2]})
    arrays.update({"data": data, "data_kind": data_kinds})
    for name, column in columns.items():
        arrays[name] = column
        if name in stamps:
            arrays[nanos_column(name)], arrays[offset_column(name)] = stamps[name]
    try:
        arrays["extensions"] = in_map.array()
        return pa.Table.from_arrays(
            [
                value if isinstance(value, pa.Array) else pa.array(value, f.type)
                for f, value in ((f, arrays[f.name]) for f in schema)
            ],
            schema=schema,
        )
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        raise EncodeError(f"the events cannot be written as an Arrow table: {exc}", codec="arrow") from exc
