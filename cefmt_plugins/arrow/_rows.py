"""Arrow columns back into events, row by row, each row on its own: a bad row is an error of that row.

:class:`Columns` reads a table (or a record batch) once: it checks the schema, turns each column into
Python values, and then builds the event of any row. Tables from other producers are read too: columns
may be missing (``data_kind``: ``data`` is then read by the binary-mode body rule; the timestamp
companions: zero), dictionary-encoded, ``large_`` or of another integer width or timestamp unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta, timezone
from typing import Any, Final

import pyarrow as pa

from cefmt import (
    DEFAULT_LIMITS,
    CloudEvent,
    CloudEventError,
    Data,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    Timestamp,
)
from cefmt.codec import SPECS, body_to_data, event_from_members, load_json

from ._columns import EPOCH_DAY
from ._schema import CORE_STRINGS, DATA_KINDS, TIMESTAMP, nanos_column, offset_column

__all__ = ["Columns", "Group", "Row", "timestamp_of"]

_DAY_MICROS: Final = 86_400_000_000
_ZONES: dict[int, timezone] = {0: timezone.utc}
_SCALE: Final = {"s": 1_000_000, "ms": 1_000, "us": 1}
_MAP_KINDS: Final = ("string", "integer", "boolean", "binary", "timestamp")
_NAME_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _zone(minutes: int) -> timezone:
    zone = _ZONES.get(minutes)
    if zone is None:
        zone = _ZONES[minutes] = timezone(timedelta(minutes=minutes))
    return zone


def timestamp_of(micros: int, nanos: int | None, minutes: int | None, where: str) -> Timestamp:
    """The Timestamp of microseconds since the epoch (UTC), nanoseconds below them and a UTC offset in minutes.

    >>> str(timestamp_of(1, 2, 60, "time"))
    '1970-01-01T01:00:00.000001002+01:00'
    """
    nanos = nanos or 0
    minutes = minutes or 0
    if not 0 <= nanos <= 999:
        raise MalformedMessageError(f"{where}: nanoseconds below the microsecond must be 0-999, got {nanos}")
    if not -(24 * 60) < minutes < 24 * 60:
        raise MalformedMessageError(f"{where}: a UTC offset must be within ±23:59, got {minutes} minutes")
    days, rest = divmod(micros + minutes * 60_000_000, _DAY_MICROS)
    try:
        day = date.fromordinal(EPOCH_DAY + days)
    except (ValueError, OverflowError) as exc:
        raise MalformedMessageError(f"{where}: the time is outside the years 1 to 9999") from exc
    seconds, micro = divmod(rest, 1_000_000)
    hour, rest_seconds = divmod(seconds, 3600)
    minute, second = divmod(rest_seconds, 60)
    return Timestamp(day.year, day.month, day.day, hour, minute, second, micro, _zone(minutes), nanosecond=nanos)


def _plain(column: Any) -> Any:
    """A column without dictionary encoding."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return column.cast(kind.value_type)
    return column


def _is_string(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind))


def _is_binary(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind)
        or pa.types.is_binary_view(kind)
    )  # fmt: skip


def _kind_of_type(kind: pa.DataType) -> str | None:
    if _is_string(kind):
        return "string"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind):
        return "integer"
    if _is_binary(kind):
        return "binary"
    if pa.types.is_timestamp(kind):
        return "timestamp"
    return None


def _micros(column: Any, name: str) -> tuple[list[int | None], list[int | None] | None]:
    """A timestamp column as microseconds (and, for a nanosecond column, the nanoseconds below them)."""
    kind = column.type
    if kind.tz is None:
        raise MalformedMessageError(
            f"column {name!r} is a timestamp without a time zone; CloudEvents times are instants (Spark writes its "
            "timestamps so to Parquet unless spark.sql.parquet.outputTimestampType is TIMESTAMP_MICROS)"
        )
    values = column.cast(pa.int64()).to_pylist()
    if kind.unit == "ns":
        split = [None if v is None else divmod(v, 1000) for v in values]
        return [None if s is None else s[0] for s in split], [None if s is None else s[1] for s in split]
    scale = _SCALE[kind.unit]
    return ([v if v is None or scale == 1 else v * scale for v in values], None)


def _map_values(column: Any) -> list[Any]:
    """The ``extensions`` map as Python values, its timestamps as microseconds since the epoch."""
    item = column.type.item_type
    if any(pa.types.is_timestamp(field.type) for field in item):
        micros = [pa.field(f.name, TIMESTAMP) if pa.types.is_timestamp(f.type) else f for f in item]
        numbers = [pa.field(f.name, pa.int64()) if pa.types.is_timestamp(f.type) else f for f in item]
        try:
            column = column.cast(pa.map_(column.type.key_type, pa.struct(micros)))
            column = column.cast(pa.map_(column.type.key_type, pa.struct(numbers)))
        except pa.ArrowException as exc:
            raise MalformedMessageError(f"column 'extensions' holds timestamps that cannot be read: {exc}") from exc
    return column.to_pylist()  # type: ignore[no-any-return]


def _integers(column: Any, name: str) -> list[int | None]:
    if not pa.types.is_integer(column.type):
        raise MalformedMessageError(f"column {name!r} must hold integers, not {column.type}")
    return column.to_pylist()  # type: ignore[no-any-return]


_Parts = tuple[list[int | None], list[int | None] | None, list[int | None] | None]


def _timestamp_at(parts: _Parts, row: int, where: str) -> Timestamp | None:
    """The Timestamp in ``row`` of a timestamp column and its companions, or ``None``."""
    micros, nanos, offsets = parts
    value = micros[row]
    if value is None:
        return None
    return timestamp_of(value, None if nanos is None else nanos[row], None if offsets is None else offsets[row], where)


class Columns:
    """The columns of a table of events as Python values, ready to build the event of any row.

    Raises :class:`~cefmt.MalformedMessageError` for a column cefmt cannot read (a core column of the wrong
    type, a column that is no attribute name), before any row is built.
    """

    def __init__(self, table: pa.Table | pa.RecordBatch) -> None:
        try:
            self._read(table)
        except CloudEventError:
            raise
        except (pa.ArrowException, UnicodeDecodeError, ValueError, TypeError, OverflowError) as exc:
            # A hostile schema: names or time zones that are not UTF-8, types no cast can read ...
            raise MalformedMessageError(f"the table's columns cannot be read: {type(exc).__name__}: {exc}") from exc

    def _read(self, table: pa.Table | pa.RecordBatch) -> None:
        self.length = table.num_rows
        names = table.schema.names
        if len(set(names)) != len(names):
            raise MalformedMessageError("a table of events names a column twice")
        columns = {name: _plain(table.column(name)) for name in names}
        self.strings: dict[str, list[str | None]] = {}
        for name in CORE_STRINGS:
            column = columns.pop(name, None)
            if column is None:
                continue
            if not _is_string(column.type):
                raise MalformedMessageError(f"column {name!r} must hold strings, not {column.type}")
            self.strings[name] = column.to_pylist()
        for name in ("id", "source", "type"):
            if name not in self.strings:
                raise MalformedMessageError(f"a table of events needs an {name!r} column")
        self.timestamps: dict[str, _Parts] = {}
        for name, column in list(columns.items()):
            if pa.types.is_timestamp(column.type):
                del columns[name]
                micros, nanos = _micros(column, name)
                given = columns.pop(nanos_column(name), None)
                if given is not None:
                    if nanos is not None:
                        raise MalformedMessageError(f"column {name!r} holds nanoseconds, and so does a _nanos column")
                    nanos = _integers(given, nanos_column(name))
                offsets = columns.pop(offset_column(name), None)
                self.timestamps[name] = (micros, nanos, None if offsets is None else _integers(offsets, name))
        time = self.timestamps.pop("time", None)
        self.time = time
        data = columns.pop("data", None)
        if data is not None and not _is_binary(data.type):
            raise MalformedMessageError(f"column 'data' must hold binary, not {data.type}")
        self.data: list[bytes | None] | None = None if data is None else data.to_pylist()
        kinds = columns.pop("data_kind", None)
        if kinds is not None and not _is_string(kinds.type):
            raise MalformedMessageError(f"column 'data_kind' must hold strings, not {kinds.type}")
        self.data_kinds: list[str | None] | None = None if kinds is None else kinds.to_pylist()
        extensions = columns.pop("extensions", None)
        self.map: list[Any] | None = None
        if extensions is not None:
            if not pa.types.is_map(extensions.type) or not pa.types.is_struct(extensions.type.item_type):
                raise MalformedMessageError(f"column 'extensions' must be a map of structs, not {extensions.type}")
            self.map = _map_values(extensions)
        self.extensions: dict[str, list[Any]] = {}
        for name, column in columns.items():
            if not name or not set(name) <= _NAME_CHARS:
                raise MalformedMessageError(f"column {name!r} is not a CloudEvents attribute name ([a-z0-9]+)")
            if _kind_of_type(column.type) is None:
                raise MalformedMessageError(f"column {name!r} holds {column.type}, which no CloudEvents type is")
            self.extensions[name] = column.to_pylist()

    def event(
        self,
        row: int,
        *,
        extension_types: Mapping[str, type] | None = None,
        limits: Limits | None = None,
        where: str | None = None,
    ) -> CloudEvent:
        """The event of ``row`` (from 0); an error names the row (or ``where``; ``"event"`` for nothing).
        ``limits`` bound the attribute count and the size of ``data`` (:data:`cefmt.DEFAULT_LIMITS` when
        ``None``)."""
        where = where or f"row {row}"
        try:
            members, data = self._members(row, limits if limits is not None else DEFAULT_LIMITS)
        except CloudEventError as exc:
            if where == "event":  # the caller says where the row is
                raise
            raise exc.at(where) from exc.__cause__
        except (TypeError, ValueError, OverflowError) as exc:  # a value of a type its column should not give
            error = MalformedMessageError(f"a value cannot be read: {type(exc).__name__}: {exc}")
            raise (error if where == "event" else error.at(where)) from exc
        return event_from_members(members, data, where=where, extension_types=extension_types, checked=True)

    def _members(self, row: int, limits: Limits) -> tuple[dict[str, Any], Data]:
        members: dict[str, Any] = {}
        for name, values in self.strings.items():
            value = values[row]
            if value is not None:
                members[name] = value
        if "specversion" not in self.strings:  # a table from elsewhere, without the column: 1.0, as in code
            members["specversion"] = "1.0"
        spec = SPECS.get(members["specversion"]) if "specversion" in members else None
        if spec is not None and "dataschema" in members:
            members[spec.wire_name("dataschema")] = members.pop("dataschema")
        if self.time is not None:
            stamp = _timestamp_at(self.time, row, "time")
            if stamp is not None:
                members["time"] = stamp
        for name, values in self.extensions.items():
            value = values[row]
            if value is not None:
                members[name] = value
        for name, parts in self.timestamps.items():
            stamp = _timestamp_at(parts, row, name)
            if stamp is not None:
                members[name] = stamp
        if self.map is not None and self.map[row]:
            for name, value in self.map[row]:
                if name in members:
                    raise MalformedMessageError(
                        f"extension {name!r} is given twice (a column and the map, or twice in the map)"
                    )
                members[name] = self._map_value(name, value)
        count = len(members)
        if count > limits.max_attribute_count:
            limits.check_attribute_count(count)
        return members, self._data(row, members.get("datacontenttype"), limits)

    @staticmethod
    def _map_value(name: str, value: Mapping[str, Any] | None) -> Any:
        found = [kind for kind in _MAP_KINDS if value is not None and value.get(kind) is not None]
        if len(found) != 1:
            raise MalformedMessageError(
                f"extension {name!r} in the map must have exactly one of {', '.join(_MAP_KINDS)} set, got {len(found)}"
            )
        kind = found[0]
        assert value is not None
        if kind == "timestamp":
            return timestamp_of(value[kind], value.get("nanos"), value.get("offset"), f"extension {name!r}")
        return value[kind]

    def _data(self, row: int, content_type: str | None, limits: Limits) -> Data:
        raw = None if self.data is None else self.data[row]
        kind = None if self.data_kinds is None else self.data_kinds[row]
        if raw is None:
            if kind is not None:
                raise MalformedMessageError(f"data_kind is {kind!r} but there is no data")
            return None
        if len(raw) > limits.max_message_bytes:
            raise LimitExceededError("size of data", len(raw), limits.max_message_bytes)
        if kind is None:  # a table from elsewhere: data is read as a binary-mode body is
            return body_to_data(raw, content_type, "data", limits=limits)
        if kind == "bytes":
            return raw
        if kind == "text":
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MalformedMessageError(f"text data is not valid UTF-8 ({exc.reason})") from exc
        if kind == "json":
            return load_json(raw, "data", limits=limits)  # type: ignore[no-any-return]
        raise MalformedMessageError(f"data_kind must be one of {', '.join(DATA_KINDS)}, got {kind!r}")


class Group:
    """A record batch whose rows a stream hands on one at a time: its columns are read on first use, and it
    crosses to a worker process as the Arrow IPC stream of its rows (once, however many rows go along)."""

    __slots__ = ("_columns", "batch", "first")

    def __init__(self, batch: pa.RecordBatch | pa.Table, first: int = 0) -> None:
        self.batch = batch
        self.first = first  # the number of its first row in the whole input, for errors
        self._columns: Columns | None = None

    @property
    def columns(self) -> Columns:
        if self._columns is None:
            self._columns = Columns(self.batch)
        return self._columns

    def __reduce__(self) -> tuple[Any, ...]:
        from ._ipc import write_stream  # noqa: PLC0415 - only when a group is pickled

        batch = self.batch
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        return (_group_from_stream, (write_stream(table), self.first))


def _group_from_stream(raw: bytes, first: int) -> Group:
    return Group(pa.ipc.open_stream(raw).read_all(), first)


class Row:
    """One row of a table of events, as a stream of a columnar file hands it on: decoding it gives its event.

    ``bytes(row)`` is the row alone as an Arrow IPC stream (what a dead letter holds: the row exactly as it
    was, readable with ``pyarrow.ipc.open_stream``).
    """

    __slots__ = ("group", "index")

    def __init__(self, group: Group, index: int) -> None:
        self.group = group
        self.index = index

    def event(self, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None) -> CloudEvent:
        """The row's event."""
        group = self.group
        where = f"row {group.first + self.index}"
        return group.columns.event(self.index, extension_types=extension_types, limits=limits, where=where)

    def __bytes__(self) -> bytes:
        from ._ipc import write_stream  # noqa: PLC0415

        batch = self.group.batch.slice(self.index, 1)
        return write_stream(pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch)

    def __repr__(self) -> str:
        return f"<row {self.index} of a table of {self.group.batch.num_rows} events>"
