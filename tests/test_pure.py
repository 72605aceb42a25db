"""The fast paths and the plain ones give the same bytes, the same events and the same errors.

``CEFMT_PURE=1`` makes cefmt take its plain path everywhere (no direct use of the C JSON encoder, no
bulk header read, no ISO timestamp shortcut, no compiled accelerator). A child process run that way
digests what every codec makes of the bundled sample events and of hostile messages; this process,
on the fast paths, must digest the same. CI also runs the core suite a second time with CEFMT_PURE=1.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import cefmt
from cefmt import CloudEvent, CloudEventError
from tests.conftest import REPO

SAMPLE = REPO / "examples" / "sample-events.jsonl"
HOSTILE = [
    ({"ce-specversion": "1.0", "ce-id": "a%zz", "ce-source": "/s", "ce-type": "t"}, b""),
    (
        {
            "CE-SPECVERSION": "1.0",
            "ce-id": "%E2%82%AC",
            "ce-source": "/s",
            "ce-type": "t",
            "ce-time": "2020-01-01T00:00:00.5Z",
        },
        b"",
    ),
    (
        {
            "ce-specversion": "1.0",
            "ce-id": '"a\\"b"',
            "ce-source": "/s",
            "ce-type": "t",
            "content-type": "application/json",
        },
        b'{"a":1,"a":2}',
    ),
    (
        {"content-type": "application/cloudevents+json"},
        b'{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"2020-02-30T00:00:00Z"}',
    ),
    (
        {"content-type": "application/cloudevents+json"},
        b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":"\\ud800"}',
    ),
]


def digest(sample: Path, limit: int) -> str:
    """What every registered codec makes of the sample events and the hostile messages, hashed."""
    out = hashlib.sha256()
    keys = sorted({info.key[1:] for info in cefmt.codecs() if info.key[1] in ("http", "json", "kafka", "msgpack")})
    for line in sample.read_bytes().splitlines()[:limit]:
        event = cefmt.decode(line, "json")
        for transport, mode in keys:
            try:
                message = cefmt.encode([event] if mode == "batch" else event, transport, mode)
                back = cefmt.decode(message, transport)
            except CloudEventError as exc:
                out.update(f"{type(exc).__name__}: {exc}".encode())
                continue
            out.update(repr(message).encode() + repr(back).encode())
    for headers, body in HOSTILE:
        try:
            out.update(repr(cefmt.decode((headers, body), "http")).encode())
        except CloudEventError as exc:
            out.update(f"{type(exc).__name__}: {exc}".encode())
    return out.hexdigest()


def test_the_plain_path_gives_what_the_fast_path_gives() -> None:
    code = (
        "import sys, json; sys.path.insert(0, sys.argv[1]);"
        "import cefmt._data, cefmt._timestamp, cefmt._headers;"
        "from tests.test_pure import digest, SAMPLE;"
        "print(json.dumps({'digest': digest(SAMPLE, 400), 'c_encoder': cefmt._data._C_ENCODE is not None,"
        " 'iso': cefmt._timestamp._FAST_ISO}))"
    )
    child = subprocess.run(
        [sys.executable, "-c", code, str(REPO)],
        env={**os.environ, "CEFMT_PURE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    plain = json.loads(child.stdout)
    assert plain["c_encoder"] is False and plain["iso"] is False
    assert plain["digest"] == digest(SAMPLE, 400)


def test_an_event_built_on_either_path_is_the_same() -> None:
    event = CloudEvent({"id": "1", "source": "/s", "type": "t", "time": "2020-01-01T00:00:00.123456789Z"}, {"a": [1]})
    code = (
        "import pickle, sys; from cefmt import CloudEvent;"
        "e = CloudEvent({'id': '1', 'source': '/s', 'type': 't', 'time': '2020-01-01T00:00:00.123456789Z'}, {'a': [1]});"
        "sys.stdout.buffer.write(pickle.dumps(e))"
    )
    child = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "CEFMT_PURE": "1"}, capture_output=True, check=True
    )
    import pickle

    assert pickle.loads(child.stdout) == event
