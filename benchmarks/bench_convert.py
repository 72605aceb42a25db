"""Throughput and peak memory of ``cefmt.stream.convert``: JSON Lines to a msgpack stream and to HTTP messages.

The input is the bundled sample (examples/sample-events.jsonl: 3000 events of mixed kinds, both spec
versions) repeated to the wanted count and generated on the fly, so no input file is stored; the
output is counted and dropped. Each measurement runs in a fresh process, on one core, whose peak
resident memory (``ru_maxrss``) is read when it exits: memory that stays flat from 100k to 1M events
shows the conversion streams.

Beside each, the *stdlib script*: what a few lines of Python do for the same job with no validation
and no error handling (``json.loads`` each line; for HTTP, ``ce-`` headers, the data as the body and
the message as a JSON line; for msgpack, ``msgpack.packb`` of the parsed line), timed the same way.

    python benchmarks/bench_convert.py                   # 100k and 1M events, both targets
    python benchmarks/bench_convert.py --counts 20000    # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample-events.jsonl"
TARGETS = {
    "msgpack": ("msgpack", None),
    "http (binary)": ("http", "binary"),
    "http (batch of 100)": ("http", "batch"),
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


def stdlib_one(count: int, target: str) -> float:
    """Seconds the stdlib script takes for the same job (msgpack, or HTTP binary messages)."""
    import base64

    dumps, loads = json.dumps, json.loads
    started = time.perf_counter()
    written = 0
    if target == "msgpack":
        import msgpack

        for chunk in source(count):
            for line in chunk.splitlines():
                written += len(msgpack.packb(loads(line)))
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


def measure_one(count: int, target: str) -> dict[str, float]:
    """Run one conversion in this process; its figures."""
    import resource

    from cefmt.stream import Stats, convert

    dst, mode = TARGETS[target]
    stats = Stats()
    written = 0
    started = time.perf_counter()
    for chunk in convert(source(count), "json", dst, mode, stats=stats):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--targets", nargs="+", choices=list(TARGETS), default=list(TARGETS))
    parser.add_argument("--one", nargs=2, metavar=("COUNT", "TARGET"), help=argparse.SUPPRESS)
    parser.add_argument("--stdlib", nargs=2, metavar=("COUNT", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(int(args.one[0]), args.one[1])))
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
            result = subprocess.run(
                [sys.executable, __file__, "--one", str(count), target], capture_output=True, text=True, check=True
            )
            row = json.loads(result.stdout)
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
