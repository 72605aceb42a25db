"""A streamed input far larger than the memory the command may use: generated here, piped in, never stored."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from cefmt.stream import read_events

from .conftest import cefmt_script

EVENTS = 50_000
PAYLOAD = "0123456789abcdef" * 160  # 2.5 KiB of data per event: about 130 MB of JSON Lines in all
# A small parent for the command: a child's peak RSS starts from its parent's size at fork on Linux, and
# this test process may be large. The wrapper reports its one child's peak (ru_maxrss, KiB) to a file.
WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); sys.exit(code)"
)
LIMIT_KIB = 64 * 1024  # the converter's peak resident memory must stay under this, whatever the input size


def generate(count: int) -> Iterator[bytes]:
    for n in range(count):
        yield (
            b'{"specversion":"1.0","id":"e-%d","source":"/load","type":"com.example.load","sequence":%d,'
            b'"data":{"n":%d,"blob":"%s"}}\n' % (n, n, n, PAYLOAD.encode())
        )


def test_a_large_stdin_stream_converts_in_flat_memory(tmp_path: Path) -> None:
    output = tmp_path / "big.msgpack"
    errors = tmp_path / "stderr.txt"
    rss = tmp_path / "rss.txt"
    with open(errors, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", WRAPPER, str(rss), cefmt_script(), "convert", "-", str(output), "--to", "msgpack"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
        sent = 0

        def feed() -> None:
            nonlocal sent
            assert process.stdin is not None
            batch: list[bytes] = []
            for line in generate(EVENTS):
                batch.append(line)
                if len(batch) == 256:
                    chunk = b"".join(batch)
                    process.stdin.write(chunk)
                    sent += len(chunk)
                    batch = []
            process.stdin.write(b"".join(batch))
            sent += sum(len(line) for line in batch)
            process.stdin.close()

        feeder = threading.Thread(target=feed)
        feeder.start()
        process.wait(timeout=300)
        feeder.join(timeout=30)
    assert process.returncode == 0, errors.read_text()
    assert sent > 125_000_000
    assert f"{EVENTS} records, {EVENTS} events in, {EVENTS} events out" in errors.read_text()
    peak = int(rss.read_text())
    assert peak < LIMIT_KIB, f"peak RSS {peak} KiB for {sent} bytes of input"
    last = None
    for count, event in enumerate(read_events(output, "msgpack"), 1):
        last = (count, event)
    assert last is not None and last[0] == EVENTS and last[1].id == f"e-{EVENTS - 1}"
    assert last[1].extensions["sequence"] == EVENTS - 1  # an Integer in JSON stays an Integer in msgpack
    print(f"peak RSS {peak} KiB for {sent / 1e6:.0f} MB streamed")
