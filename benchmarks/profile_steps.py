"""Where the time of one small HTTP event goes, step by step (the tables in docs/performance.md).

    python benchmarks/profile_steps.py                        # the figures in docs/performance.md
    CEFMT_PURE=1 python benchmarks/profile_steps.py           # the same steps on the pure-Python path
    python benchmarks/profile_steps.py --calls 100            # a smoke run (CI)

Each step is timed on its own with ``timeit`` (best of 7 runs of 50,000 calls), on the fixtures of the
benchmark suite (the SDK README's event), beside the standard-library work the floor does for the same
message. The steps overlap a little (a step's own call overhead), so they add up to slightly more than
the whole.
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _worker import README, README_DATA, TIME, _dumps, _loads, body_of, document_of, headers_of, typed_attrs

from cefmt import CloudEvent, _data, _http, _json_format, _timestamp, decode, encode
from cefmt._pure import SPEEDUPS

RUNS = 7


def microseconds(step: Callable[[], object], calls: int) -> float:
    return min(timeit.repeat(step, number=calls, repeat=RUNS)) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=50_000, help="calls per timed run (default 50,000)")
    calls = parser.parse_args().calls
    headers, body = headers_of(README), body_of(README_DATA)
    binary = (headers, body)
    document = json.dumps(document_of(README, README_DATA)).encode()
    structured = ({"content-type": "application/cloudevents+json"}, document)
    received = _http.read(binary)
    attributes = {**received.attributes}
    event = CloudEvent(typed_attrs(README), README_DATA)
    stamp = event.time
    assert stamp is not None

    def floor_headers() -> object:
        found = {name[3:]: value for name, value in headers.items() if name.startswith("ce-")}
        found["datacontenttype"] = headers["content-type"]
        return found

    rows = [
        ("binary decode, whole", lambda: decode(binary, "http").data),
        ("  read the headers (_http.read)", lambda: _http.read(binary)),
        ("  the event from headers and body (decode_binary)", lambda: _http.decode_binary(received)),
        ("    of which RFC 3339 parse", lambda: _timestamp.parse_timestamp(README["time"])),
        ("    of which the body's JSON (load_json)", lambda: _data.load_json(body, "body")),
        ("  mode detection (_http.detect)", lambda: _http.detect(received)),
        ("  floor: header loop", floor_headers),
        ("  floor: prebuilt scanner on the body", lambda: _loads(body)),
        ("structured decode, whole", lambda: decode(structured, "http").data),
        ("  JSON event format alone (decode_event)", lambda: _json_format.decode_event(document)),
        ("  floor: prebuilt scanner on the document", lambda: _loads(document)),
        ("binary encode, whole", lambda: encode(event, "http", "binary")),
        ("  headers and body (encode_binary)", lambda: _http.encode_binary(event)),
        ("  timestamp text (format_timestamp)", lambda: _timestamp.format_timestamp(stamp)),
        ("  floor: prebuilt encoder on the data", lambda: _dumps(README_DATA)),
        ("structured encode, whole", lambda: encode(event, "http", "structured")),
        ("  JSON event format alone (encode_event)", lambda: _json_format.encode_event(event)),
        ("  floor: time text", TIME.isoformat),
        ("create event", lambda: CloudEvent(typed_attrs(README), README_DATA)),
        ("  decoded attributes to a record (_from_owned)", lambda: CloudEvent._from_owned(dict(attributes), None)),
    ]
    print(f"cefmt's {'accelerated' if SPEEDUPS is not None else 'pure-Python'} path")
    width = max(len(name) for name, _ in rows)
    for name, step in rows:
        print(f"{name:<{width}}  {microseconds(step, calls):6.2f} µs")


if __name__ == "__main__":
    main()
