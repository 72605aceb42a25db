"""Spark: Kafka-, HTTP- and format-shaped rows decoded into events and back with ``mapInArrow``, bad rows
kept with their reason and original bytes, in batch and in Structured Streaming, in ``local[2]``.

The Kafka rows are built here in the shape Spark's Kafka source gives with ``includeHeaders``; the Kafka
connector itself is not on the class path (docs/pipelines.md shows the real source).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import cefmt
from cefmt import CloudEvent, Timestamp, UsageError, decode, encode
from cefmt_plugins.arrow import from_table
from cefmt_plugins.kafka import KafkaMessage
from cefmt_plugins.spark import (
    EVENT_COLUMNS,
    decode_format,
    decode_http,
    decode_kafka,
    encode_format,
    encode_http,
    encode_kafka,
    split,
)

KAFKA = "key binary, value binary, headers array<struct<key: string, value: binary>>, topic string, offset long"
TIME = Timestamp.parse("2024-02-29T23:59:59.123456789-05:30")
EVENTS = [
    CloudEvent({"id": "1", "source": "/s", "type": "t", "time": TIME}, {"n": 1}, count=1, flag=True),
    CloudEvent({"id": "2", "source": "/s", "type": "t", "subject": "x"}, b"\x00\xff", blob=b"\x01", at=TIME),
    CloudEvent({"id": "3", "source": "/s", "type": "t", "specversion": "0.3"}, "text", datacontenttype="text/plain"),
]


def _kafka_rows(messages: list[KafkaMessage]) -> list[tuple[Any, ...]]:
    return [(m.key, m.value, list(m.headers), "orders", n) for n, m in enumerate(messages)]


def _events(df: Any) -> list[CloudEvent]:
    return from_table(df.select(*EVENT_COLUMNS).toArrow())


def _types(event: CloudEvent) -> dict[str, type]:
    return {n: Timestamp if isinstance(v, Timestamp) else type(v) for n, v in event.extensions.items()}


def test_binary_and_structured_kafka_records_decode_to_events(spark: Any) -> None:
    messages = [encode(EVENTS[0], "kafka", "binary"), encode(EVENTS[1], "kafka", "structured", format="msgpack"),
                encode(EVENTS[2], "kafka", "structured")]  # fmt: skip
    df = spark.createDataFrame(_kafka_rows(messages), KAFKA)
    decoded = decode_kafka(df, keep=["topic", "offset"], extension_types=_types(EVENTS[0]))
    rows = decoded.orderBy("offset").collect()
    assert [row.error for row in rows] == [None, None, None]
    assert [(row.topic, row.offset) for row in rows] == [("orders", 0), ("orders", 1), ("orders", 2)]
    assert sorted(_events(decoded), key=lambda e: e.id) == EVENTS  # msgpack keeps every type; headers need types
    assert rows[0].time_nanos == 789 and rows[0].time_offset == -330


def test_a_bad_record_is_a_row_with_its_reason_and_original_bytes(spark: Any) -> None:
    good = encode(EVENTS[0], "kafka", "binary")
    bad = [KafkaMessage(b"k1", [("ce_specversion", b"1.0")], b"v1"), KafkaMessage(None, [], b"\xff not an event"),
           KafkaMessage(b"k3", [("content-type", b"application/cloudevents+json")], b"{")]  # fmt: skip
    df = spark.createDataFrame(_kafka_rows([good, *bad]), KAFKA).repartition(2)
    decoded = decode_kafka(df, keep=["offset"]).cache()
    events, dead = split(decoded)
    assert [e.id for e in _events(events)] == ["1"]
    assert events.columns == [*EVENT_COLUMNS, "offset"]
    assert dead.columns == ["offset", "key", "value", "headers", "error"]
    letters = {row.offset: row for row in dead.collect()}
    assert sorted(letters) == [1, 2, 3]
    assert (letters[1].key, letters[1].value, letters[1].headers[0].key) == (b"k1", b"v1", "ce_specversion")
    assert letters[1].error.stage == "decode" and "attribute 'id'" in letters[1].error.message
    assert letters[2].error.type == "MalformedMessageError" and letters[2].value == b"\xff not an event"
    assert "not valid JSON" in letters[3].error.message
    # What a dead letter holds is the record as it came: it decodes (or fails) as it did.
    with pytest.raises(cefmt.CloudEventError):
        decode(KafkaMessage(letters[3].key, [(h.key, h.value) for h in letters[3].headers], letters[3].value), "kafka")
    decoded.unpersist()


@pytest.mark.parametrize(("mode", "fmt"), [("binary", "json"), ("structured", "json"), ("structured", "msgpack")])
def test_events_encode_to_kafka_records_and_back(spark: Any, mode: str, fmt: str) -> None:
    df = spark.createDataFrame(_kafka_rows([encode(e, "kafka", "structured", format="msgpack") for e in EVENTS]), KAFKA)
    events = split(decode_kafka(df, keep=["offset"]))[0]
    records = encode_kafka(events, mode=mode, format=fmt, keep=["offset"])
    assert records.columns[:3] == ["key", "value", "headers"]
    rows = records.orderBy("offset").collect()
    assert [row.error for row in rows] == [None, None, None]
    sent = [KafkaMessage(row.key, [(h.key, h.value) for h in row.headers], row.value) for row in rows]
    assert sent == [encode(e, "kafka", mode, **({} if mode == "binary" else {"format": fmt})) for e in EVENTS]


def test_a_row_that_is_no_event_is_kept_when_encoding(spark: Any) -> None:
    df = spark.createDataFrame(
        [("1", "/s", "t", 1), (None, "/s", "t", 2)], "id string, source string, type string, n long"
    )
    records = encode_kafka(df, keep=["n"])
    events, dead = split(records)
    assert events.columns == ["key", "value", "headers", "n"]
    assert [row.n for row in events.collect()] == [1]
    (letter,) = dead.collect()
    assert letter.n == 2 and letter.source == "/s" and letter.error.stage == "decode"
    assert "id" in letter.error.message


def test_http_messages_and_a_batch_body(spark: Any) -> None:
    one = encode(EVENTS[0], "http", "binary")
    batch = encode(EVENTS[:2], "http", "batch")
    rows = [([(k, v) for k, v in m.headers.items()], m.body) for m in (one, batch)]
    df = spark.createDataFrame(rows, "headers array<struct<key: string, value: string>>, body binary")
    decoded = decode_http(df, extension_types=_types(EVENTS[0]) | _types(EVENTS[1]))
    assert sorted(e.id for e in _events(decoded)) == ["1", "1", "2"]  # the batch gave a row per event
    messages = encode_http(split(decoded)[0], mode="structured").collect()
    assert {decode(({h.key: h.value for h in row.headers}, row.body), "http").id for row in messages} == {"1", "2"}


@pytest.mark.parametrize("fmt", ["json", "msgpack"])
def test_documents_of_an_event_format(spark: Any, fmt: str) -> None:
    df = spark.createDataFrame([(encode(e, fmt),) for e in EVENTS], "value binary")
    decoded = decode_format(df, fmt)
    expected = [decode(encode(e, fmt), fmt) for e in EVENTS]
    assert sorted(_events(decoded), key=lambda e: e.id) == expected
    again = encode_format(split(decoded)[0], fmt).collect()
    assert sorted((decode(row.value, fmt) for row in again), key=lambda e: e.id) == expected


def test_times_are_instants_whatever_the_session_time_zone(spark: Any) -> None:
    df = spark.createDataFrame([(encode(EVENTS[0], "msgpack"),)], "value binary")
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    try:
        decoded = decode_format(df, "msgpack")
        (event,) = _events(decoded)
        assert event == EVENTS[0] and str(event.time) == str(TIME)
        back = encode_format(decoded, "msgpack").collect()
        assert decode(back[0].value, "msgpack") == EVENTS[0]
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_usage_errors_name_the_columns(spark: Any) -> None:
    df = spark.createDataFrame([(b"x",)], "value binary")
    with pytest.raises(UsageError, match="no column 'key'"):
        decode_kafka(df)
    with pytest.raises(UsageError, match="keep= names columns the output has already"):
        decode_format(df.withColumn("id", df.value), keep=["id"])
    with pytest.raises(UsageError, match="does not have"):
        decode_format(df, keep=["nope"])


def test_structured_streaming_from_a_file_source(spark: Any, tmp_path: Path) -> None:
    """A streaming query: Kafka-shaped rows arrive as Parquet files in a folder (a source Spark has built in)."""
    incoming = tmp_path / "incoming"
    rows = _kafka_rows([encode(e, "kafka", "structured", format="msgpack") for e in EVENTS])
    rows.append((None, b"junk", [], "orders", 99))
    spark.createDataFrame(rows, KAFKA).write.parquet(str(incoming))
    stream = spark.readStream.schema(KAFKA).parquet(str(incoming))
    assert stream.isStreaming
    decoded = decode_kafka(stream, keep=["offset"])
    query = (
        decoded.writeStream.format("memory").queryName("cefmt_stream").outputMode("append")
        .option("checkpointLocation", str(tmp_path / "checkpoint")).trigger(availableNow=True).start()
    )  # fmt: skip
    query.awaitTermination(120)
    result = spark.table("cefmt_stream")
    events, dead = split(result)
    assert sorted(e.id for e in _events(events)) == ["1", "2", "3"]
    assert [(row.offset, row.value, row.error.stage) for row in dead.collect()] == [(99, b"junk", "decode")]


def test_the_arrow_schema_is_spark_s_schema(spark: Any) -> None:
    df = spark.createDataFrame([(encode(EVENTS[0], "msgpack"),)], "value binary")
    table = decode_format(df, "msgpack").toArrow()
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("time_nanos").type == pa.int16()
    assert pa.types.is_map(table.schema.field("extensions").type)
