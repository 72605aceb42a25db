"""Differential fuzzing of the compiled accelerator (``cefmt._speedups``), meant for an AddressSanitizer
build of it: ``just fuzz-asan`` builds one and runs this file under it.

Every input is turned into a few calls that reach the C code (JSON text, a JSON-format event or batch,
an HTTP binary message, a Kafka record, an RFC 3339 timestamp, an event made in code and written by
every codec); each call runs on the accelerated path and again on the pure-Python path, and the two
outcomes (values with their types, or error class and message) must be equal. A difference is an
AssertionError, which libFuzzer reports as a crash; a memory error is reported by AddressSanitizer.

    python fuzz/speedups.py CORPUS_DIR -runs=5000      # libFuzzer options after the corpus folder
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

# After what is already on the path: under ``just fuzz-asan`` the AddressSanitizer build of cefmt comes
# first on PYTHONPATH and must be the one imported; the work tree is needed for fuzz/ and tests/.
sys.path.append(str(Path(__file__).resolve().parents[1]))

if __name__ == "__main__":
    import atheris

    with atheris.instrument_imports(include=["cefmt", "cefmt_plugins"]):
        import cefmt
        import cefmt_plugins.kafka
        import cefmt_plugins.msgpack_format  # noqa: F401

import cefmt
from cefmt import Limits, _data, _timestamp
from cefmt._pure import SPEEDUPS
from fuzz.targets import build_event, to_message
from tests.differential import compare, events_outcome

_CODECS = [("http", "binary"), ("http", "structured"), ("json", "structured"), ("kafka", "binary")]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    choice, rest = data[0] % 6, data[1:]
    limits = Limits(max_nesting_depth=1 + data[0] % 7, max_container_count=1 + data[0] % 11)
    if choice == 0:  # JSON text, as bytes and as str, with default and tight limits
        text = rest.decode("utf-8", "surrogateescape")  # invalid bytes become lone surrogates: hostile text
        for raw in (rest, text):
            compare(functools.partial(_data.load_json, raw, "body"))
            compare(functools.partial(_data.load_json, raw, "body", limits=limits))
            compare(functools.partial(_data.load_json, raw, "body", limits=limits, batch=True))
    elif choice == 1:  # the JSON event format, one event and a batch
        for mode in ("structured", "batch"):
            compare(functools.partial(cefmt.decode, rest, "json", mode), events_outcome)
            compare(functools.partial(cefmt.decode, rest, "json", mode, limits=limits), events_outcome)
    elif choice in (2, 3):  # a binding's message: header lines, then the body
        transport = "http" if choice == 2 else "kafka"
        message = to_message(transport, rest)
        compare(functools.partial(cefmt.decode, message, transport), events_outcome)
        if transport == "http":  # the headers as most servers hand them over: a dict
            headers, body = message
            as_dict = (dict(headers), body)
            compare(functools.partial(cefmt.decode, as_dict, transport), events_outcome)
            compare(functools.partial(cefmt.decode, as_dict, transport, limits=limits), events_outcome)
        else:  # Kafka's (name, bytes) pairs against tight header limits
            tight = Limits(max_header_value_length=1 + data[0] % 40, max_header_count=1 + data[0] % 9)
            compare(functools.partial(cefmt.decode, message, transport, limits=tight), events_outcome)
    elif choice == 4:  # timestamps
        text = rest[:40].decode("latin-1")
        compare(functools.partial(_timestamp.parse_timestamp, text), str)
        compare(functools.partial(_timestamp.parse_timestamp, text))
    else:  # an event made in code, then written by every codec and read back
        compare(functools.partial(build_event, rest), _made)
        event = build_event(rest)
        if event is None:
            return
        for transport, mode in _CODECS:
            written = compare(functools.partial(cefmt.encode, event, transport, mode), repr)
            if written[0] == "ok":
                message = cefmt.encode(event, transport, mode)
                compare(functools.partial(cefmt.decode, message, transport), events_outcome)


def _made(event: Any) -> Any:
    # An id may be generated (random): compared by presence only.
    return None if event is None else events_outcome(event) | {"id": None}


def main() -> None:
    if SPEEDUPS is None:
        sys.exit("fuzz/speedups.py: the accelerator is not built (or CEFMT_PURE is set): nothing to fuzz")
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
