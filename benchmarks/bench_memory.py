"""Peak memory of decoding the worst messages we can build, as a multiple of their size.

    python benchmarks/bench_memory.py              # every case at 8 MB, a table on stdout
    python benchmarks/bench_memory.py --size 2e6   # smaller messages

Each case's message is built here and written to a file; a fresh process reads it, decodes it once, and
the figure is the growth of its peak resident set size (``VmHWM`` in ``/proc/self/status``, which a
new program starts afresh, unlike ``ru_maxrss``) during the decode, divided by the message size.
The cases are the densest shapes each format allows within the default :class:`cefmt.Limits`
(1-byte msgpack values that each become a Python object, 2-byte JSON objects ...) and the hostile
messages reported against earlier versions. SECURITY.md quotes the results.
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

_MSGPACK_HEAD = b"\x85\xabspecversion\xa31.0\xa2id\xa11\xa6source\xa1s\xa4type\xa1t\xa4data"
_JSON_HEAD = b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":'
_HTTP = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t", "content-type": "application/json"}
_CONTAINERS = 99_000  # just under the default max_container_count


def _msgpack_array(item: bytes, size: int, limit: int | None = None) -> bytes:
    count = size // len(item) if limit is None else min(limit, size // len(item))
    return _MSGPACK_HEAD + b"\xdd" + struct.pack(">I", count) + item * count


def _json_array(item: bytes, size: int, limit: int | None = None) -> bytes:
    count = size // (len(item) + 1) if limit is None else min(limit, size // (len(item) + 1))
    return _JSON_HEAD + b"[" + b",".join([item] * count) + b"]}"


def _json_padded(item: bytes, size: int, limit: int) -> bytes:
    # As many containers as allowed, the rest of the size in the densest scalar (two-letter strings).
    containers = [item] * limit
    scalars = [b'"ab"'] * max(0, (size - limit * (len(item) + 1)) // 5)
    return _JSON_HEAD + b"[" + b",".join(containers + scalars) + b"]}"


def _msgpack_padded(item: bytes, size: int, limit: int) -> bytes:
    scalars = max(0, (size - limit * len(item)) // 3)
    return _MSGPACK_HEAD + b"\xdd" + struct.pack(">I", limit + scalars) + item * limit + b"\xa2ab" * scalars


#: name -> (transport for cefmt.decode, builder of a message of about ``size`` bytes)
CASES: dict[str, tuple[str, Callable[[int], object]]] = {
    "json: two-letter strings": ("json", lambda size: _json_array(b'"ab"', size)),
    "json: small negative ints": ("json", lambda size: _json_array(b"-9", size)),
    "json: floats": ("json", lambda size: _json_array(b"1.5", size)),
    "json: 99k empty objects + strings": ("json", lambda size: _json_padded(b"{}", size, _CONTAINERS)),
    "json: 99k one-member objects + strings": ("json", lambda size: _json_padded(b'{"":0}', size, _CONTAINERS)),
    "json: 49k objects holding an object + strings": (
        "json",
        lambda size: _json_padded(b'{"":{}}', size, _CONTAINERS // 2),
    ),
    "json: 5M empty objects (refused)": ("json", lambda size: _json_array(b"{}", 15_000_000)),
    "json batch: 10k events": (
        "json",
        lambda size: b"[" + b",".join([_JSON_HEAD + b'"' + b"x" * max(1, size // 10_000 - 70) + b'"}'] * 10_000) + b"]",
    ),
    "http binary: two-letter strings": ("http", lambda size: (_HTTP, _json_array(b'"ab"', size)[len(_JSON_HEAD) : -1])),
    "msgpack: two-letter strings": ("msgpack", lambda size: _msgpack_array(b"\xa2ab", size)),
    "msgpack: negative fixints": ("msgpack", lambda size: _msgpack_array(b"\xe0", size)),
    "msgpack: one non-latin-1 character": ("msgpack", lambda size: _msgpack_array(b"\xa2\xc4\x80", size)),
    "msgpack: 99k empty maps + strings": ("msgpack", lambda size: _msgpack_padded(b"\x80", size, _CONTAINERS)),
    "msgpack: 49k maps holding a map + strings": (
        "msgpack",
        lambda size: _msgpack_padded(b"\x81\xa0\x80", size, _CONTAINERS // 2),
    ),
    "msgpack: 15M empty maps (refused)": ("msgpack", lambda size: _msgpack_array(b"\x80", 15_000_000)),
    "msgpack: 15 MB str32 of invalid UTF-8 (refused)": (
        "msgpack",
        lambda size: _MSGPACK_HEAD + b"\xdb" + struct.pack(">I", 15_000_000) + b"\xff" * 15_000_000,
    ),
}


def _size_of(message: object) -> int:
    return len(message[1]) if isinstance(message, tuple) else len(message)  # type: ignore[arg-type]


def write_case(name: str, size: int, path: Path) -> None:
    """Build the case's message and store it (HTTP headers as a JSON line before the body)."""
    message = CASES[name][1](size)
    with path.open("wb") as out:
        if isinstance(message, tuple):
            out.write(json.dumps(message[0]).encode() + b"\n")
            out.write(message[1])
        else:
            out.write(b"\n" + message)  # type: ignore[operator]


def measure(name: str, path: Path) -> dict[str, object]:
    """Run in a fresh process: read the stored message, decode it once, report the peak's growth."""
    import cefmt  # imported in the child, which measures one case

    transport = CASES[name][0]
    header, _, body = path.read_bytes().partition(b"\n")
    message: object = (json.loads(header), body) if header else body
    cefmt.decode(_JSON_HEAD + b"1}", "json")  # load the codecs first: their import is not the message's cost
    cefmt.decode(_MSGPACK_HEAD + b"\x01", "msgpack")
    before = _peak_rss()
    outcome = "decoded"
    try:
        result = cefmt.decode(message, transport)
    except cefmt.CloudEventError as exc:
        outcome = f"refused: {type(exc).__name__}"
        result = None
    after = _peak_rss()
    del result
    return {"case": name, "bytes": _size_of(message), "peak_growth": after - before, "outcome": outcome}


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=8e6, help="message size in bytes (default 8e6)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]))))
        return
    print("| case | message | peak growth | multiple | outcome |\n| --- | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for name in CASES:
            path = Path(folder) / "message"
            write_case(name, int(args.size), path)
            out = subprocess.run(
                [sys.executable, __file__, "--child", name, str(path)], check=True, capture_output=True, text=True
            ).stdout
            _print_row(json.loads(out))


def _print_row(row: dict[str, Any]) -> None:
    multiple = row["peak_growth"] / row["bytes"]
    print(
        f"| {row['case']} | {row['bytes'] / 1e6:.1f} MB | {row['peak_growth'] / 1e6:.0f} MB | {multiple:.1f}x "
        f"| {row['outcome']} |"
    )


if __name__ == "__main__":
    main()
