"""Filter throughput of cefmt.sql against the floor: the same test hand-written in Python, on the same events.

For each expression the benchmark compiles it once, checks that ``matches`` and the hand-written
predicate select exactly the same events, then times both over the whole list (best of ``--rounds``
runs, alternating). *ratio* is cefmt's time over the floor's: 1.00x would be as fast as hand-written
Python, which is the fastest a pure-Python filter can go. Compile time is for the text to a ready
``Expression``.

    python benchmarks/bench_sql.py                 # 20 000 events, 7 rounds
    python benchmarks/bench_sql.py --events 2000   # a quick look
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cefmt.sql
from cefmt import CloudEvent

Predicate = Callable[[CloudEvent], bool]


def make_events(count: int) -> list[CloudEvent]:
    """Events of a few types, half with a subject, most with typed extensions."""
    types = ["com.example.order.created", "com.example.order.deleted", "org.other.ping", "com.example.user.login"]
    regions = ["eu-west", "us-east", "eu-north", "ap-south"]
    events = []
    for index in range(count):
        extensions: dict[str, Any] = {}
        if index % 5:
            extensions["region"] = regions[index % len(regions)]
            extensions["count"] = index % 37
            extensions["ttl"] = str(index % 120)
        events.append(
            CloudEvent(
                {"type": types[index % len(types)], "source": f"/svc/{index % 7}", "id": str(index)},
                subject=f"orders/{index}" + ("/urgent" if index % 11 == 0 else "") if index % 2 else None,
                **extensions,
            )
        )
    return events


REGIONS = frozenset({"eu-west", "eu-north"})


def _ttl_or_urgent(event: CloudEvent) -> bool:
    ttl = event.extensions.get("ttl")
    if ttl is None:
        return False
    if int(ttl) < 60:
        return True
    return event.subject is not None and event.subject.endswith("/urgent")


#: (expression, the same test written by hand)
CASES: list[tuple[str, Predicate]] = [
    (
        "type LIKE 'com.example.%' AND EXISTS subject",
        lambda e: e.type.startswith("com.example.") and e.subject is not None,
    ),
    ("type = 'com.example.order.created'", lambda e: e.type == "com.example.order.created"),
    (
        "region IN ('eu-west', 'eu-north') AND count > 10",
        lambda e: e.extensions.get("region") in REGIONS and e.extensions.get("count", 0) > 10,
    ),
    ("INT(ttl) < 60 OR subject LIKE '%/urgent'", _ttl_or_urgent),
    (
        "source = '/svc/3' AND type LIKE '%.order.%' AND NOT (subject LIKE '%1')",
        lambda e: (
            e.source == "/svc/3" and ".order." in e.type and e.subject is not None and not e.subject.endswith("1")
        ),
    ),
    ("myext = 'x'", lambda e: e.extensions.get("myext") == "x"),
]


def best_time(function: Predicate, events: list[CloudEvent]) -> float:
    started = time.perf_counter()
    for event in events:
        function(event)
    return time.perf_counter() - started


def measure(text: str, floor: Predicate, events: list[CloudEvent], rounds: int) -> dict[str, Any]:
    started = time.perf_counter()
    for _ in range(20):
        expression = cefmt.sql.compile(text)
    compile_time = (time.perf_counter() - started) / 20
    chosen = [event.id for event in events if expression.matches(event)]
    assert chosen == [event.id for event in events if floor(event)], f"{text}: cefmt and the floor disagree"
    ours, theirs, evaluate = [], [], []
    for _ in range(rounds):
        ours.append(best_time(expression.matches, events))
        theirs.append(best_time(floor, events))
        evaluate.append(best_time(expression.evaluate, events))  # type: ignore[arg-type]
    return {
        "matched": len(chosen),
        "cefmt": len(events) / min(ours),
        "floor": len(events) / min(theirs),
        "evaluate": len(events) / min(evaluate),
        "ratio": min(ours) / min(theirs),
        "compile": compile_time,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000, help="events per run (default 20 000)")
    parser.add_argument("--rounds", type=int, default=7, help="runs of each, alternating (default 7)")
    args = parser.parse_args()
    events = make_events(args.events)
    print(
        f"cefmt.sql filter throughput, {args.events:,} events, best of {args.rounds}; "
        f"Python {platform.python_version()} on {platform.machine()} ({platform.system()})\n"
    )
    print("| expression | matched | `matches` events/s | floor events/s | ratio | `evaluate` events/s | compile |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for text, floor in CASES:
        row = measure(text, floor, events, args.rounds)
        print(
            f"| `{text}` | {row['matched']:,} | {row['cefmt']:,.0f} | {row['floor']:,.0f} | {row['ratio']:.2f}x "
            f"| {row['evaluate']:,.0f} | {row['compile'] * 1e6:,.0f} µs |"
        )


if __name__ == "__main__":
    main()
