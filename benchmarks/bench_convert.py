"""Throughput and peak memory of ``cefmt.stream.convert``: JSON Lines to a msgpack stream, to HTTP messages,
to Arrow and to Parquet; the speed-up of ``workers=N``; and the memory of reading a large Parquet file.

The input is the bundled sample (examples/sample-events.jsonl: 3000 events of mixed kinds, both spec
versions) repeated to the wanted count and generated on the fly, so no input file is stored; the
output is counted and dropped. Each measurement runs in a fresh process, on one core, whose peak
resident memory (``ru_maxrss``) is read when it exits: memory that stays flat from 100k to 1M events
shows the conversion streams.

Beside each, the *stdlib script*: what a few lines of Python do for the same job with no validation
and no error handling (``json.loads`` each line; for HTTP, ``ce-`` headers, the data as the body and
the message as a JSON line; for msgpack, ``msgpack.packb`` of the parsed line with what cefmt's msgpack
format writes differently from JSON done by hand: the time as a msgpack timestamp, offset kept, and
Base64 data as ``bin``), timed the same way. The msgpack script's documents are cefmt's
(``tests/test_bench_smoke.py`` checks it on the sample): the floor does the same job, not a smaller one.

    python benchmarks/bench_convert.py                   # 100k and 1M events, every target
    python benchmarks/bench_convert.py --counts 20000    # a quick look
    python benchmarks/bench_convert.py --workers 1 2 4   # 1M events to msgpack on 1, 2 and 4 processes
    python benchmarks/bench_convert.py --parquet-memory  # peak memory reading a 1.2 GB-of-data Parquet file

The workers rows give events/s and the speed-up per core (the rate over the one-process rate, divided by
the number of processes), with the machine's load average when the run started: on a shared machine the
speed-up is what the other processes leave.
"""

from __future__ import annotations

import argparse
import base64
import calendar
import json
import os
import platform
import re
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample-events.jsonl"
TARGETS = {
    "msgpack": ("msgpack", None),
    "http (binary)": ("http", "binary"),
    "http (batch of 100)": ("http", "batch"),
    "arrow (batch of 100)": ("arrow", "batch"),
    "parquet": ("parquet", "batch"),
}


def source(count: int, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """``count`` JSON lines from the sample, cycled, in chunks the size of a file read."""
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    pending: list[bytes] = []
    size = 0
    for index in range(count):
        line = lines[index % len(lines)]
        pending.append(line)
        size += len(line)
        if size >= chunk_size:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


_STAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)\Z")


def stdlib_time(text: str) -> Any:
    """RFC 3339 text as cefmt's msgpack format writes a time: the timestamp type for UTC, else its
    extension type 1 (offset in minutes, nanoseconds, seconds)."""
    import msgpack

    found = _STAMP.match(text)
    assert found is not None, text
    fraction, zone = found[7], found[8]
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    offset = 0 if zone in "Zz" else (60 * int(zone[1:3]) + int(zone[4:6])) * (-1 if zone[0] == "-" else 1)
    fields = (int(found[1]), int(found[2]), int(found[3]), int(found[4]), int(found[5]), int(found[6]))
    seconds = calendar.timegm(fields) - 60 * offset
    if offset == 0:
        return msgpack.Timestamp(seconds, nanos)
    return msgpack.ExtType(1, struct.pack(">hIq", offset, nanos, seconds))


def stdlib_document(line: bytes) -> dict[str, Any]:
    """One JSON line as the document cefmt's msgpack format writes for it, by hand, unchecked."""
    doc: dict[str, Any] = json.loads(line)
    if "time" in doc:
        doc["time"] = stdlib_time(doc["time"])
    if "data_base64" in doc:
        doc["data"] = base64.b64decode(doc.pop("data_base64"))
    elif doc.pop("datacontentencoding", None) == "base64":  # spec 0.3
        doc["data"] = base64.b64decode(doc["data"])
    return doc


def stdlib_one(count: int, target: str) -> float:
    """Seconds the stdlib script takes for the same job (msgpack, or HTTP binary messages)."""
    dumps, loads = json.dumps, json.loads
    started = time.perf_counter()
    written = 0
    if target == "msgpack":
        import msgpack

        pack = msgpack.Packer().pack
        for chunk in source(count):
            for line in chunk.splitlines():
                written += len(pack(stdlib_document(line)))
    else:
        for chunk in source(count):
            for line in chunk.splitlines():
                doc = loads(line)
                data, encoded = doc.pop("data", None), doc.pop("data_base64", None)
                content_type = doc.pop("datacontenttype", None)
                headers = {"ce-" + k: v if type(v) is str else dumps(v) for k, v in doc.items()}
                if content_type is not None:
                    headers["content-type"] = content_type
                if encoded is not None:
                    body = base64.b64decode(encoded)
                elif data is None:
                    body = b""
                else:
                    body = data.encode() if type(data) is str else dumps(data, separators=(",", ":")).encode()
                capture = {"headers": headers, "body_base64": base64.b64encode(body).decode()}
                written += len(dumps(capture, separators=(",", ":")).encode()) + 1
    return time.perf_counter() - started


def measure_one(count: int, target: str, workers: int = 1) -> dict[str, float]:
    """Run one conversion in this process (and ``workers`` processes); its figures."""
    import resource

    from cefmt.stream import Stats, convert

    dst, mode = TARGETS[target]
    stats = Stats()
    written = 0
    started = time.perf_counter()
    for chunk in convert(source(count), "json", dst, mode, stats=stats, workers=workers):
        written += len(chunk)
    elapsed = time.perf_counter() - started
    assert stats.events_out == count, stats
    return {
        "events": count,
        "seconds": elapsed,
        "rate": count / elapsed,
        "mb_in": stats.bytes_in / 1e6,
        "mb_out": written / 1e6,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _run_one(count: int, target: str, workers: int = 1) -> dict[str, float]:
    command = [sys.executable, __file__, "--one", str(count), target, "--one-workers", str(workers)]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)  # type: ignore[no-any-return]


def workers_table(count: int, counts: list[int], target: str) -> None:
    """events/s on 1, 2 ... N processes, and the speed-up per core."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{target}, {count:,} events, workers=N; {os.cpu_count()} CPUs, load average {load} at the start")
    header = f"{'workers':>8}{'seconds':>10}{'events/s':>11}{'speed-up':>10}{'per core':>10}{'peak RSS MB':>13}"
    print(header)
    print("-" * len(header))
    base = None
    for workers in counts:
        row = _run_one(count, target, workers)
        base = base or row["rate"]
        speed_up = row["rate"] / base
        print(
            f"{workers:>8}{row['seconds']:>10.1f}{row['rate']:>11,.0f}{speed_up:>9.2f}x{speed_up / workers:>9.2f}x"
            f"{row['peak_rss_mb']:>13.1f}",
            flush=True,
        )


_PARQUET_MEMORY = """
import os, sys
import cefmt_plugins.arrow.parquet  # pyarrow and the plugin loaded first: the growth is the conversion's
from cefmt.stream import Stats, convert, stream_kind
stream_kind("parquet")
def peak():
    return next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM"))
before = peak()
stats = Stats()
with open(os.devnull, "wb") as out:
    for chunk in convert(sys.argv[1], "parquet", "json", stats=stats):
        out.write(chunk)
print(stats.events_out, peak() - before)
"""


def parquet_memory(rows: list[int], data_bytes: int, folder: Path) -> None:
    """Peak memory growth of reading Parquet files of ``rows`` events (``data_bytes`` of data each, row
    groups of 65 536 rows) into JSON Lines, each in a fresh process."""
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq

    from cefmt_plugins.arrow import BASE_SCHEMA

    print(f"parquet -> json, {data_bytes} bytes of data per event, row groups of 65,536 rows (VmHWM growth)")
    header = f"{'events':>10}{'data MB':>9}{'file MB':>9}{'row group MB':>14}{'peak growth MB':>16}"
    print(header)
    print("-" * len(header))
    rnd = random.Random(1)
    for count in rows:
        path = folder / f"bench-{count}.parquet"
        with pq.ParquetWriter(path, BASE_SCHEMA, compression="zstd") as writer:
            for start in range(0, count, 65_536):
                size = min(65_536, count - start)
                columns = {field.name: pa.nulls(size, field.type) for field in BASE_SCHEMA}
                columns.update(specversion=["1.0"] * size, id=[str(start + n) for n in range(size)],
                               source=["/s"] * size, type=["t"] * size, data_kind=["bytes"] * size,
                               data=[rnd.randbytes(16) * (data_bytes // 16) for _ in range(size)])  # fmt: skip
                writer.write_table(pa.table(columns, schema=BASE_SCHEMA))
        group = pq.ParquetFile(path).metadata.row_group(0).total_byte_size
        out = subprocess.run(
            [sys.executable, "-c", _PARQUET_MEMORY, str(path)], capture_output=True, text=True, check=True
        )
        events, growth = map(int, out.stdout.split())
        assert events == count, out.stdout
        data, size = count * data_bytes / 1e6, path.stat().st_size / 1e6
        print(f"{count:>10,}{data:>9.0f}{size:>9.1f}{group / 1e6:>14.0f}{growth / 1e6:>16.0f}")
        path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--targets", nargs="+", choices=list(TARGETS), default=list(TARGETS))
    parser.add_argument("--workers", type=int, nargs="+", help="the workers rows: these process counts, 1M events")
    parser.add_argument("--workers-events", type=int, default=1_000_000)
    parser.add_argument("--parquet-memory", action="store_true", help="peak memory reading large Parquet files")
    parser.add_argument("--one", nargs=2, metavar=("COUNT", "TARGET"), help=argparse.SUPPRESS)
    parser.add_argument("--one-workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--stdlib", nargs=2, metavar=("COUNT", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(int(args.one[0]), args.one[1], args.one_workers)))
        return
    if args.workers:
        workers_table(args.workers_events, args.workers, args.targets[0] if len(args.targets) == 1 else "msgpack")
        return
    if args.parquet_memory:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            parquet_memory([200_000, 600_000], 2048, Path(folder))
        return
    if args.stdlib:
        print(json.dumps({"seconds": stdlib_one(int(args.stdlib[0]), args.stdlib[1])}))
        return

    print(
        f"cefmt convert, JSON Lines in; Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs"
    )
    header = (
        f"{'target':<22}{'events':>11}{'seconds':>10}{'events/s':>11}{'stdlib/s':>11}{'vs stdlib':>11}"
        f"{'MB in':>9}{'MB out':>9}{'peak RSS MB':>13}"
    )
    print(header)
    print("-" * len(header))
    for target in args.targets:
        for count in args.counts:
            row = _run_one(count, target)
            baseline, ratio = "—", "—"
            if target in ("msgpack", "http (binary)"):
                plain = subprocess.run(
                    [sys.executable, __file__, "--stdlib", str(count), TARGETS[target][0]],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                seconds = json.loads(plain.stdout)["seconds"]
                baseline, ratio = f"{count / seconds:,.0f}", f"{row['seconds'] / seconds:.2f}x"
            print(
                f"{target:<22}{count:>11,}{row['seconds']:>10.1f}{row['rate']:>11,.0f}{baseline:>11}{ratio:>11}"
                f"{row['mb_in']:>9.0f}{row['mb_out']:>9.0f}{row['peak_rss_mb']:>13.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
