"""Events per second per core decoded by ``cefmt_plugins.spark.decode_kafka`` in Spark, against a plain
Python loop over the same Kafka-shaped rows.

The rows are the bundled sample (examples/sample-events.jsonl, cycled) encoded as Kafka records in
binary mode, written once to a Parquet file of ``key``, ``value``, ``headers`` (the columns of Spark's
Kafka source). The loop reads that file with pyarrow and decodes each record with ``cefmt.decode`` (and,
on a second row, also builds the Arrow table Spark gets); Spark reads it, decodes it with ``decode_kafka``
and writes to the ``noop`` sink, in ``local[N]``. Per core is the rate divided by the cores used. The
machine's load average at the start is printed: on a shared machine, the figures are what is left.

    python benchmarks/bench_spark.py                 # 200 000 records, local[2]
    python benchmarks/bench_spark.py --rows 50000 --cores 1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample-events.jsonl"


def write_rows(path: Path, count: int) -> None:
    """``count`` Kafka records of the sample's events, in binary mode, as a Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cefmt import decode, encode

    events = [decode(line, "json") for line in SAMPLE.read_bytes().splitlines() if line.strip()]
    messages = [encode(event, "kafka", "binary") for event in events]
    header = pa.list_(pa.struct([("key", pa.string()), ("value", pa.binary())]))
    schema = pa.schema([("key", pa.binary()), ("value", pa.binary()), ("headers", header)])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, count, 50_000):
            chosen = [messages[n % len(messages)] for n in range(start, min(count, start + 50_000))]
            writer.write_table(
                pa.table(
                    {
                        "key": [m.key for m in chosen],
                        "value": [m.value for m in chosen],
                        "headers": [[{"key": k, "value": v} for k, v in m.headers] for m in chosen],
                    },
                    schema=schema,
                )
            )


def plain_loop(path: Path, with_table: bool) -> float:
    """Seconds for a Python loop decoding every record of the file (and building the Arrow tables)."""
    import pyarrow.parquet as pq

    import cefmt
    from cefmt_plugins.arrow import to_table
    from cefmt_plugins.kafka import KafkaMessage

    started = time.perf_counter()
    count = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
        keys, values, headers = (batch.column(n).to_pylist() for n in ("key", "value", "headers"))
        events = []
        for key, value, pairs in zip(keys, values, headers, strict=True):
            message = KafkaMessage(key, [(pair["key"], pair["value"]) for pair in pairs or []], value)
            events.append(cefmt.decode(message, "kafka"))
        if with_table:
            to_table(events, layout={})
        count += len(events)
    return time.perf_counter() - started


def spark_job(path: Path, cores: int) -> tuple[float, int]:
    """Seconds for Spark to decode the file with ``decode_kafka`` into the noop sink (after a warm-up)."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    from cefmt_plugins.spark import decode_kafka

    spark = (
        SparkSession.builder.master(f"local[{cores}]").config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC").config("spark.sql.files.maxPartitionBytes", str(8 << 20))
        .getOrCreate()
    )  # fmt: skip
    spark.sparkContext.setLogLevel("ERROR")
    try:
        frame = spark.read.parquet(str(path))
        decode_kafka(frame.limit(1000)).write.format("noop").mode("overwrite").save()  # start the Python workers
        started = time.perf_counter()
        decode_kafka(frame).write.format("noop").mode("overwrite").save()
        elapsed = time.perf_counter() - started
        errors = decode_kafka(frame).where("error IS NOT NULL").count()
        return elapsed, errors
    finally:
        spark.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--cores", type=int, default=2, help="Spark's local[N]")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "records.parquet"
        write_rows(path, args.rows)
        loop = plain_loop(path, with_table=False)
        loop_table = plain_loop(path, with_table=True)
        spark, errors = spark_job(path, args.cores)
    assert errors == 0, f"{errors} records did not decode"
    rows = {
        "python loop, cefmt.decode (1 core)": (loop, 1),
        "python loop, decode + Arrow table (1 core)": (loop_table, 1),
        f"spark decode_kafka, local[{args.cores}]": (spark, args.cores),
    }
    if args.json:
        print(json.dumps({name: {"seconds": s, "cores": c, "rate": args.rows / s} for name, (s, c) in rows.items()}))
        return
    print(f"{args.rows:,} Kafka records (binary mode, the sample's events); {os.cpu_count()} CPUs, load average {load}")
    header = f"{'how':<46}{'seconds':>9}{'events/s':>11}{'per core':>11}"
    print(header)
    print("-" * len(header))
    for name, (seconds, cores) in rows.items():
        rate = args.rows / seconds
        print(f"{name:<46}{seconds:>9.1f}{rate:>11,.0f}{rate / cores:>11,.0f}")


if __name__ == "__main__":
    main()
