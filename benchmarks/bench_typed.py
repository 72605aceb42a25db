"""What typed data costs: decoding into your own type against decoding plain data, on the same messages.

    python benchmarks/bench_typed.py            # best of 7 runs of 20,000 decodes per row

Every row decodes the same HTTP binary message (a small order event, and one of about 10 KB); "plain" reads
``event.data``, "typed" passes ``data_type=Order`` (an attrs class, list of line-item attrs classes), and
"data_as" reads a plain event's data as the type afterwards. cattrs builds one structuring function per type
on first use, so what is left per event is the structuring itself.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable

import attrs

from cefmt import CloudEvent, decode, encode


@attrs.frozen
class Line:
    sku: str
    name: str
    qty: int
    price: float
    tags: list[str]
    gift: bool


@attrs.frozen
class Customer:
    id: int
    name: str


@attrs.frozen
class Order:
    order: str
    customer: Customer
    items: list[Line]


def _order(lines: int) -> dict[str, object]:
    return {
        "order": "ORD-1",
        "customer": {"id": 7, "name": "Ada"},
        "items": [
            {
                "sku": f"S{n:05d}",
                "name": f"Widget {n}",
                "qty": n % 7 + 1,
                "price": n * 1.25,
                "tags": ["blue"],
                "gift": n % 5 == 0,
            }
            for n in range(lines)
        ],
    }


def _best(task: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(task, number=number, repeat=7)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000)
    args = parser.parse_args()
    print("| message | plain decode | typed decode (data_type=) | plain + data_as | typed / plain |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, lines in (("small (2 lines)", 2), ("10 KB (80 lines)", 80)):
        event = CloudEvent({"id": "1", "source": "/shop", "type": "com.example.order"}, _order(lines))
        message = encode(event, "http", "binary")
        number = args.number if lines < 10 else args.number // 10
        decode(message, "http", data_type=Order)  # the structuring function is built here, once

        plain = _best(lambda m=message: decode(m, "http").data, number)
        typed = _best(lambda m=message: decode(m, "http", data_type=Order).data, number)
        later = _best(lambda m=message: decode(m, "http").data_as(Order), number)
        print(f"| {name} | {plain:.1f} µs | {typed:.1f} µs | {later:.1f} µs | {typed / plain:.2f}x |")


if __name__ == "__main__":
    main()
