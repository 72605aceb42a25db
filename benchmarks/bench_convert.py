"""Throughput and peak memory of ``cefmt.stream.convert``: JSON Lines to a msgpack stream and to HTTP messages.

The input is the bundled sample (examples/sample-events.jsonl: 3000 events of mixed kinds, both spec
versions) repeated to the wanted count and generated on the fly, so no input file is stored; the
output is counted and dropped. Each measurement runs in a fresh process, whose peak resident memory
(``ru_maxrss``) is read when it exits: memory that stays flat from 100k to 1M events shows the
conversion streams.

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
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(int(args.one[0]), args.one[1])))
        return

    print(
        f"cefmt convert, JSON Lines in; Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs"
    )
    header = f"{'target':<22}{'events':>11}{'seconds':>10}{'events/s':>11}{'MB in':>9}{'MB out':>9}{'peak RSS MB':>13}"
    print(header)
    print("-" * len(header))
    for target in args.targets:
        for count in args.counts:
            result = subprocess.run(
                [sys.executable, __file__, "--one", str(count), target], capture_output=True, text=True, check=True
            )
            row = json.loads(result.stdout)
            print(
                f"{target:<22}{count:>11,}{row['seconds']:>10.1f}{row['rate']:>11,.0f}"
                f"{row['mb_in']:>9.0f}{row['mb_out']:>9.0f}{row['peak_rss_mb']:>13.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
