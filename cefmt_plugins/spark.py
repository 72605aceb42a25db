"""CloudEvents in Apache Spark: DataFrames of Kafka records, HTTP messages or event-format documents
decoded into DataFrames of events, and back, in batch and in Structured Streaming alike.

Each function is one ``mapInArrow`` over the Arrow table of :mod:`cefmt_plugins.arrow`: the rows of a
partition go through :func:`cefmt.decode` (or :func:`cefmt.encode`) and come out as Arrow columns, so
Spark, Parquet, the Arrow codec and ``cefmt convert`` share one schema and one code path. A DataFrame's
schema is fixed before any row is read, so every extension travels in the ``extensions`` map (its type
kept in the map value): :data:`EVENT_SCHEMA`.

Nothing is dropped: a row that cannot be decoded (or an event that cannot be encoded) comes out as a row
whose ``error`` column says why (``stage``, ``type``, ``message``) and whose ``original`` column holds
the input as it was (the Kafka ``key``, ``value`` and ``headers``; or the event's columns). :func:`split`
parts such a DataFrame into the events and the dead letters.

>>> from pyspark.sql import SparkSession                                   # doctest: +SKIP
>>> records = spark.readStream.format("kafka").option("includeHeaders", "true") ...   # doctest: +SKIP
>>> events, dead = split(decode_kafka(records, keep=["topic", "partition", "offset"]))  # doctest: +SKIP

Needs ``pyspark`` and ``pyarrow`` (``pip install cefmt[spark]``) on the driver and the executors, and
cefmt itself on the executors. ``docs/pipelines.md`` has a whole job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs
import pyarrow as pa

import cefmt
from cefmt import CloudEvent, CloudEventError, Limits
from cefmt_plugins.arrow import BASE_SCHEMA, Columns, to_table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = [
    "ERROR_TYPE",
    "EVENT_COLUMNS",
    "EVENT_SCHEMA",
    "HTTP_COLUMNS",
    "KAFKA_COLUMNS",
    "decode_format",
    "decode_http",
    "decode_kafka",
    "encode_format",
    "encode_http",
    "encode_kafka",
    "split",
]

#: The event columns of a DataFrame of events (Spark SQL types), in order: the Arrow table of
#: :mod:`cefmt_plugins.arrow` with every extension in the ``extensions`` map.
EVENT_SCHEMA: Final = (
    "specversion string, id string, source string, type string, datacontenttype string, dataschema string, "
    "subject string, time timestamp, time_nanos smallint, time_offset smallint, data binary, data_kind string, "
    "extensions map<string, struct<string: string, integer: int, boolean: boolean, binary: binary, "
    "timestamp: timestamp, nanos: smallint, offset: smallint>>"
)
EVENT_COLUMNS: Final = tuple(BASE_SCHEMA.names)
#: Why a row went wrong: ``stage`` is ``decode`` or ``encode``, ``type`` the cefmt error's class.
ERROR_TYPE: Final = "struct<stage: string, type: string, message: string>"
#: The columns of Kafka records, as Spark's Kafka source gives them with ``includeHeaders`` (and its sink takes).
KAFKA_COLUMNS: Final = (
    ("key", "binary"),
    ("value", "binary"),
    ("headers", "array<struct<key: string, value: binary>>"),
)
#: The columns of HTTP messages: the headers in order (repeats kept) and the body.
HTTP_COLUMNS: Final = (("headers", "array<struct<key: string, value: string>>"), ("body", "binary"))
_MESSAGE_COLUMNS: Final = frozenset(name for name, _ in (*KAFKA_COLUMNS, *HTTP_COLUMNS))
_ERROR_ARROW: Final = pa.struct([("stage", pa.string()), ("type", pa.string()), ("message", pa.string())])
_NULLABLE_EVENTS: Final = pa.schema([field.with_nullable(True) for field in BASE_SCHEMA])


# -- the shapes of messages in rows ------------------------------------------------------------------------------


def _kafka_message(values: Mapping[str, list[Any]], row: int) -> Any:
    from cefmt_plugins.kafka import KafkaMessage  # noqa: PLC0415 - on the executors, when rows come

    headers = values["headers"][row] or []
    return KafkaMessage(values["key"][row], [(pair["key"], pair["value"]) for pair in headers], values["value"][row])


def _kafka_columns(message: Any) -> tuple[Any, ...]:
    return message.key, message.value, [{"key": name, "value": value} for name, value in message.headers]


def _http_message(values: Mapping[str, list[Any]], row: int) -> Any:
    headers = values["headers"][row] or []
    return ([(pair["key"], pair["value"]) for pair in headers], values["body"][row] or b"")


def _http_columns(message: Any) -> tuple[Any, ...]:
    headers, body = message
    return [{"key": name, "value": value} for name, value in headers.items()], body


def _format_message(values: Mapping[str, list[Any]], row: int) -> Any:
    return values["value"][row]


def _format_columns(message: Any) -> tuple[Any, ...]:
    return (message,)


@attrs.frozen
class _Shape:
    """How a message sits in the columns of a row: the columns, and the two ways between them."""

    transport: str
    columns: tuple[tuple[str, str], ...]
    to_message: Callable[[Mapping[str, list[Any]], int], Any]
    from_message: Callable[[Any], tuple[Any, ...]]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def ddl(self) -> str:
        return ", ".join(f"{name} {kind}" for name, kind in self.columns)


def _kafka() -> _Shape:
    return _Shape("kafka", KAFKA_COLUMNS, _kafka_message, _kafka_columns)


def _http() -> _Shape:
    return _Shape("http", HTTP_COLUMNS, _http_message, _http_columns)


def _format(name: str, column: str) -> _Shape:
    if column != "value":
        raise cefmt.UsageError(
            "the column of a format's documents is called 'value'; rename yours with withColumnRenamed"
        )
    return _Shape(name, (("value", "binary"),), _format_message, _format_columns)


# -- the functions run on the executors ------------------------------------------------------------------------


def _error(stage: str, exc: CloudEventError) -> dict[str, str]:
    return {"stage": stage, "type": type(exc).__name__, "message": str(exc)}


def _assemble(
    *,
    batch: pa.RecordBatch,
    main: pa.Table,
    good: list[int],
    bad: list[int],
    errors: list[dict[str, str]],
    keep: Sequence[str],
    original: Sequence[str],
    schema: pa.Schema,
) -> pa.RecordBatch:
    """The output batch: ``main``'s rows (one per index in ``good``), then a row per bad input row, with
    the kept columns, the error and the original columns of the bad rows."""
    count = len(good) + len(bad)
    order = pa.array(good + bad, pa.int64())
    columns: dict[str, Any] = {}
    for field in main.schema:
        column = main.column(field.name).combine_chunks()
        columns[field.name] = pa.concat_arrays([column, pa.nulls(len(bad), field.type)]) if bad else column
    for name in keep:
        columns[name] = batch.column(name).take(order)
    good_mask = pa.array([True] * len(good) + [False] * len(bad))
    columns["error"] = pa.StructArray.from_arrays(
        [pa.array([None] * len(good) + [e[k] for e in errors], pa.string()) for k in ("stage", "type", "message")],
        fields=list(_ERROR_ARROW),
        mask=good_mask,
    )
    columns["original"] = pa.StructArray.from_arrays(
        [batch.column(name).take(order) for name in original], names=list(original), mask=good_mask
    )
    arrays = [columns[field.name] for field in schema]
    out = pa.RecordBatch.from_arrays(
        [a.cast(f.type) if a.type != f.type else a for a, f in zip(arrays, schema, strict=True)], schema=schema
    )
    assert out.num_rows == count
    return out


def _decoder(
    shape: _Shape, mode: str | None, options: Mapping[str, Any], keep: Sequence[str], schema: pa.Schema
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    def decode_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            values = {name: batch.column(name).to_pylist() for name in shape.names}
            events: list[CloudEvent] = []
            good: list[int] = []
            bad: list[int] = []
            errors: list[dict[str, str]] = []
            for row in range(batch.num_rows):
                try:
                    result = cefmt.default_registry.decode(
                        shape.to_message(values, row), shape.transport, mode, **options
                    )
                except CloudEventError as exc:
                    bad.append(row)
                    errors.append(_error("decode", exc))
                    continue
                found = result if isinstance(result, list) else [result]
                events.extend(found)
                good.extend([row] * len(found))
            main = to_table(events, layout={}).cast(_NULLABLE_EVENTS)
            yield _assemble(
                batch=batch,
                main=main,
                good=good,
                bad=bad,
                errors=errors,
                keep=keep,
                original=shape.names,
                schema=schema,
            )

    return decode_partition


def _encoder(
    shape: _Shape, mode: str, options: Mapping[str, Any], keep: Sequence[str], schema: pa.Schema
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    message_schema = pa.schema([schema.field(name) for name in shape.names])

    def encode_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            columns = Columns(batch.select(list(EVENT_COLUMNS)))
            rows: list[tuple[Any, ...]] = []
            good: list[int] = []
            bad: list[int] = []
            errors: list[dict[str, str]] = []
            for row in range(batch.num_rows):
                stage = "decode"
                try:
                    event = columns.event(row, where="event")
                    stage = "encode"
                    rows.append(
                        shape.from_message(cefmt.default_registry.encode(event, shape.transport, mode, **options))
                    )
                except CloudEventError as exc:
                    bad.append(row)
                    errors.append(_error(stage, exc))
                    continue
                good.append(row)
            main = pa.Table.from_arrays(
                [pa.array([r[i] for r in rows], f.type) for i, f in enumerate(message_schema)], schema=message_schema
            )
            yield _assemble(
                batch=batch,
                main=main,
                good=good,
                bad=bad,
                errors=errors,
                keep=keep,
                original=EVENT_COLUMNS,
                schema=schema,
            )

    return encode_partition


# -- the DataFrame functions -------------------------------------------------------------------------------------


def _spark_schema(df: DataFrame, main: str, keep: Sequence[str], original: str) -> Any:
    from pyspark.sql.types import StructType  # noqa: PLC0415

    kept = StructType([df.schema[name] for name in keep])
    ddl = f"{main}, error {ERROR_TYPE}, original struct<{original}>"
    parsed = df.sparkSession.createDataFrame([], ddl).schema  # what Spark makes of the DDL text
    fields = list(parsed.fields)
    return StructType(fields[: len(fields) - 2] + list(kept.fields) + fields[len(fields) - 2 :])


def _arrow_schema(df: DataFrame, schema: Any) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema  # noqa: PLC0415

    zone = df.sparkSession.conf.get("spark.sql.session.timeZone")
    return to_arrow_schema(schema, timezone=zone) if _takes_zone() else to_arrow_schema(schema)


def _takes_zone() -> bool:
    import inspect  # noqa: PLC0415

    from pyspark.sql.pandas.types import to_arrow_schema  # noqa: PLC0415

    return "timezone" in inspect.signature(to_arrow_schema).parameters


def _check(df: DataFrame, needed: Sequence[str], keep: Sequence[str], taken: Sequence[str]) -> None:
    missing = [name for name in needed if name not in df.columns]
    if missing:
        raise cefmt.UsageError(f"the DataFrame has no column {', '.join(map(repr, missing))}; it has {df.columns}")
    clash = [name for name in keep if name in taken or name in ("error", "original")]
    if clash:
        raise cefmt.UsageError(f"keep= names columns the output has already: {clash}; rename them first")
    unknown = [name for name in keep if name not in df.columns]
    if unknown:
        raise cefmt.UsageError(f"keep= names columns the DataFrame does not have: {unknown}")


def _decode(df: DataFrame, shape: _Shape, mode: str | None, keep: Sequence[str], options: dict[str, Any]) -> DataFrame:
    from pyspark.sql import functions as F  # noqa: PLC0415

    keep = list(keep)
    _check(df, [name for name in shape.names if name != "headers"], keep, [*EVENT_COLUMNS, *shape.names])
    inputs = [F.col(name) if name in df.columns else F.lit(None).cast(kind).alias(name) for name, kind in shape.columns]
    frame = df.select(*inputs, *[F.col(name) for name in keep if name not in shape.names])
    schema = _spark_schema(frame, EVENT_SCHEMA, keep, shape.ddl)
    function = _decoder(shape, mode, options, keep, _arrow_schema(frame, schema))
    return frame.mapInArrow(function, schema)


def _encode(df: DataFrame, shape: _Shape, mode: str, keep: Sequence[str], options: dict[str, Any]) -> DataFrame:
    from pyspark.sql import functions as F  # noqa: PLC0415

    keep = list(keep)
    _check(df, ["id", "source", "type"], keep, shape.names)
    present = set(df.columns)
    events = df.sparkSession.createDataFrame([], EVENT_SCHEMA).schema
    defaults = {"specversion": F.lit("1.0")}  # as for an event made in code
    inputs = [
        F.col(f.name) if f.name in present else defaults.get(f.name, F.lit(None)).cast(f.dataType).alias(f.name)
        for f in events
    ]
    frame = df.select(*inputs, *[F.col(name) for name in keep if name not in EVENT_COLUMNS])
    schema = _spark_schema(frame, shape.ddl, keep, EVENT_SCHEMA)
    function = _encoder(shape, mode, options, keep, _arrow_schema(frame, schema))
    return frame.mapInArrow(function, schema)


def _options(extension_types: Mapping[str, type] | None, limits: Limits | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if extension_types:
        options["extension_types"] = dict(extension_types)
    if limits is not None:
        options["limits"] = limits
    return options


def decode_kafka(
    df: DataFrame,
    *,
    keep: Sequence[str] = (),
    extension_types: Mapping[str, type] | None = None,
    limits: Limits | None = None,
) -> DataFrame:
    """Kafka records (``key``, ``value``, ``headers``: the columns of Spark's Kafka source with
    ``includeHeaders``) decoded into events, binary or structured mode as each record says.

    The result has the columns of :data:`EVENT_SCHEMA`, the input columns named in ``keep`` (``topic``,
    ``partition``, ``offset`` ...), ``error`` (null for an event) and ``original`` (null for an event; the
    record's ``key``, ``value`` and ``headers`` for a row that could not be decoded).
    """
    return _decode(df, _kafka(), None, keep, _options(extension_types, limits))


def encode_kafka(df: DataFrame, *, mode: str = "binary", format: str = "json", keep: Sequence[str] = ()) -> DataFrame:
    """A DataFrame of events (the columns of :data:`EVENT_SCHEMA`; missing optional ones are null, and
    ``specversion`` is ``1.0`` when there is no such column) encoded as Kafka records: ``key``, ``value``,
    ``headers``, ready for Spark's Kafka sink.

    ``mode`` is ``binary`` or ``structured`` (``format`` then names the event format). An event that
    cannot be encoded (or a row that is no valid event) is a row with ``error`` set and the event's
    columns in ``original``. The record key is the event's ``partitionkey`` extension when it has one.
    """
    from cefmt_plugins.kafka import partitionkey_key  # noqa: PLC0415

    options: dict[str, Any] = {"key_mapper": partitionkey_key}
    if mode != "binary":
        options["format"] = format
    return _encode(df, _kafka(), mode, keep, options)


def decode_http(
    df: DataFrame,
    *,
    keep: Sequence[str] = (),
    extension_types: Mapping[str, type] | None = None,
    limits: Limits | None = None,
) -> DataFrame:
    """HTTP messages (``headers``: an array of ``key``/``value`` strings, ``body``: binary) decoded into
    events, whatever the mode (a batch gives a row per event); columns as :func:`decode_kafka` gives."""
    return _decode(df, _http(), None, keep, _options(extension_types, limits))


def encode_http(df: DataFrame, *, mode: str = "binary", format: str = "json", keep: Sequence[str] = ()) -> DataFrame:
    """Events encoded as HTTP messages (``headers``, ``body``), binary or structured mode."""
    return _encode(df, _http(), mode, keep, {} if mode == "binary" else {"format": format})


def decode_format(
    df: DataFrame,
    format: str = "json",
    *,
    column: str = "value",
    keep: Sequence[str] = (),
    extension_types: Mapping[str, type] | None = None,
    limits: Limits | None = None,
) -> DataFrame:
    """Documents of an event format (a binary ``value`` column: one event, or a batch giving a row per
    event) decoded into events; columns as :func:`decode_kafka` gives."""
    return _decode(df, _format(format, column), None, keep, _options(extension_types, limits))


def encode_format(df: DataFrame, format: str = "json", *, keep: Sequence[str] = ()) -> DataFrame:
    """Events encoded one per row as documents of an event format, in a binary ``value`` column."""
    return _encode(df, _format(format, "value"), "structured", keep, {})


def split(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    """A DataFrame that :func:`decode_kafka` and the like gave, parted into its events (the rows without
    an error, without the ``error`` and ``original`` columns) and its dead letters (the kept columns, the
    original columns as they were, and ``error``). Both come from the same plan: ``cache()`` the input
    (or write each in ``foreachBatch``) to decode once.
    """
    from pyspark.sql import functions as F  # noqa: PLC0415
    from pyspark.sql.types import StructType  # noqa: PLC0415

    original = df.schema["original"].dataType
    if not isinstance(original, StructType):
        raise cefmt.UsageError("split takes what decode_kafka, encode_kafka and the like give: no 'original' column")
    originals = [field.name for field in original.fields]
    # Decoding gives the event columns; encoding gives a message's columns, and keeps the event's as original.
    produced = set(EVENT_COLUMNS) if "id" not in originals else _MESSAGE_COLUMNS
    kept = [name for name in df.columns if name not in produced and name not in ("error", "original")]
    events = df.where(F.col("error").isNull()).drop("error", "original")
    dead = df.where(F.col("error").isNotNull()).select(
        *kept, *[F.col(f"original.{name}").alias(name) for name in originals], "error"
    )
    return events, dead
