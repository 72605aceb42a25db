"""Write a seed corpus per fuzz target from valid messages: ``python fuzz/make_corpus.py [DIR]``.

Events come from a fixed list (every data kind, typed extensions, both spec versions) plus a fixed
hypothesis sample of ``tests.strategies.events``; each is encoded by every codec of the target. The
``sql`` target starts from the expressions of the CESQL test kit.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, settings

import cefmt
from cefmt import CloudEvent, Timestamp
from fuzz.targets import formats, from_message, targets
from tests.strategies import events


def sample_events() -> list[CloudEvent]:
    found: list[CloudEvent] = []

    @settings(max_examples=40, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(events())
    def collect(event: CloudEvent) -> None:
        found.append(event)

    collect()
    fixed = [
        CloudEvent(id="1", source="/s", type="t", specversion=version, data=data, datacontenttype=kind, **ext)
        for version in cefmt.SPEC_VERSIONS
        for data, kind in [(None, None), (b"\x00\xff", "application/octet-stream"), ({"a": [1, 2.5]}, None),
                           ("é😀", "text/plain; charset=utf-8"), ([[["deep"]]], "application/json")]
        for ext in [{}, {"n": 7, "b": True, "raw": b"\x01", "at": Timestamp.parse("2020-01-01T00:00:00.5+01:00")}]
    ]  # fmt: skip
    return fixed + found


def write_sql_seeds(folder: Path) -> None:
    from tests.sql.test_tck import CASES  # noqa: PLC0415 - the kit's loader, needed by this target only

    for _, case in CASES:
        raw = str(case["expression"]).encode("utf-8")
        (folder / hashlib.sha1(raw).hexdigest()).write_bytes(raw)
    print(f"sql: {len(list(folder.iterdir()))} seeds in {folder}")


def main(root: Path) -> None:
    samples = sample_events()
    for name in targets():
        transport, _, mode = name.rpartition("-")
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        if name.startswith("encode-"):  # the makings of events: random bytes are as good a start as any
            for seed in range(8):
                raw = hashlib.sha256(name.encode() + bytes([seed])).digest() * 4
                (folder / hashlib.sha1(raw).hexdigest()).write_bytes(raw)
            continue
        if name == "sql":
            write_sql_seeds(folder)
            continue
        fmts = [None] if transport in formats() or mode == "binary" else sorted(formats())
        for fmt in fmts:
            options = {} if fmt is None else {"format": fmt}
            for event in samples:
                value = [event, event] if mode == "batch" else event
                try:
                    raw = from_message(cefmt.encode(value, transport, mode, **options))
                except cefmt.CloudEventError:
                    continue
                (folder / hashlib.sha1(raw).hexdigest()).write_bytes(raw)
        print(f"{name}: {len(list(folder.iterdir()))} seeds in {folder}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "corpus")
