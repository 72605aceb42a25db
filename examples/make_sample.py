"""Write examples/sample-events.jsonl: a few thousand realistic CloudEvents, the same every run.

The mix: shop orders and payments (JSON objects), sensor readings (CSV text), audit logs (plain text),
invoices (XML), thumbnails and firmware chunks (binary), heartbeats (no data); spec 1.0 mostly and
0.3 for the legacy billing system; extensions of every CloudEvents type (String, Integer, Boolean,
Binary, Timestamp), timestamps with nanoseconds and UTC offsets.

    python examples/make_sample.py                      # 3000 events to examples/sample-events.jsonl
    python examples/make_sample.py --count 100 -o -     # 100 events to stdout
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cefmt import CloudEvent, Timestamp
from cefmt.stream import write_events

HERE = Path(__file__).resolve().parent
START = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
ZONES = [
    timezone.utc,
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
]
PRODUCTS = ["espresso-beans-1kg", "oat-milk-6pack", "grinder-c40", "filter-papers-100", "kettle-gooseneck"]
CITIES = ["Lisbon", "Porto", "Madrid", "Lyon", "Berlin", "Oslo"]
LEVELS = ["INFO", "WARN", "ERROR", "DEBUG"]


def _time(rng: random.Random, index: int) -> Timestamp:
    moment = START + timedelta(seconds=index * 7 + rng.random())
    zone = rng.choice(ZONES)
    local = moment.astimezone(zone)
    return Timestamp(
        local.year, local.month, local.day, local.hour, local.minute, local.second,
        local.microsecond, zone, nanosecond=rng.randrange(1000),
    )  # fmt: skip


def _extensions(rng: random.Random, index: int) -> dict[str, Any]:
    ext: dict[str, Any] = {}
    if rng.random() < 0.7:
        ext["traceparent"] = f"00-{rng.getrandbits(128):032x}-{rng.getrandbits(64):016x}-01"
    if rng.random() < 0.5:
        ext["sequence"] = index
    if rng.random() < 0.3:
        ext["sampled"] = rng.random() < 0.5
    if rng.random() < 0.2:
        ext["checksum"] = rng.randbytes(8)
    if rng.random() < 0.2:
        ext["receivedat"] = _time(rng, index + 1)
    return ext


def _order(rng: random.Random, index: int) -> tuple[dict[str, Any], Any]:
    lines: list[dict[str, Any]] = [
        {"sku": rng.choice(PRODUCTS), "quantity": rng.randint(1, 4), "unitPrice": round(rng.uniform(2, 180), 2)}
        for _ in range(rng.randint(1, 4))
    ]
    order_id = f"ord-{100000 + index}"
    attributes = {
        "type": rng.choice(["com.example.shop.order.created", "com.example.shop.order.shipped"]),
        "source": "https://shop.example.com/orders",
        "subject": order_id,
        "dataschema": "https://schemas.example.com/shop/order/v2.json",
        "partitionkey": f"customer-{rng.randint(1, 400)}",
    }
    data = {
        "orderId": order_id,
        "customer": {"id": f"customer-{rng.randint(1, 400)}", "city": rng.choice(CITIES)},
        "lines": lines,
        "total": round(sum(line["quantity"] * line["unitPrice"] for line in lines), 2),
        "currency": "EUR",
        "gift": rng.random() < 0.1,
        "note": rng.choice([None, "leave at the door", "ring twice", "fragile: glass ☕"]),
    }
    return attributes, data


def _payment(rng: random.Random, index: int) -> tuple[dict[str, Any], Any]:
    return {
        "type": "com.example.pay.payment.authorized",
        "source": "urn:example:payments",
        "datacontenttype": "application/json",
    }, {"paymentId": str(uuid.UUID(int=rng.getrandbits(128))), "amount": rng.randint(100, 99999), "approved": True}


def _reading(rng: random.Random, index: int) -> tuple[dict[str, Any], Any]:
    device = rng.randint(1, 60)
    rows = "\n".join(
        f"{index + n},{round(rng.uniform(15, 30), 2)},{round(rng.uniform(20, 80), 1)}" for n in range(rng.randint(1, 5))
    )
    return {
        "type": "com.example.iot.reading",
        "source": f"/sensors/device-{device}",
        "datacontenttype": "text/csv",
        "subject": f"device-{device}",
    }, f"seq,temperature,humidity\n{rows}\n"


def _log(rng: random.Random, index: int) -> tuple[dict[str, Any], Any]:
    level = rng.choice(LEVELS)
    return {
        "type": "com.example.audit.log",
        "source": "https://audit.example.com/",
        "datacontenttype": "text/plain; charset=utf-8",
    }, f"{level} user-{rng.randint(1, 99)} signed in from {rng.choice(CITIES)} (attempt {rng.randint(1, 3)})"


def _invoice(rng: random.Random, index: int) -> tuple[dict[str, Any], Any]:
    amount = round(rng.uniform(10, 2000), 2)
    return {
        "specversion": "0.3",
        "type": "com.example.billing.invoice.issued",
        "source": "/billing/legacy",
        "datacontenttype": "application/xml",
        "schemaurl": "https://schemas.example.com/billing/invoice.xsd",
    }, f'<invoice number="INV-{index:06d}"><amount currency="EUR">{amount}</amount></invoice>'


def _legacy_json(rng: random.Random, index: int) -> tuple[dict[str, Any], Any]:
    return {
        "specversion": "0.3",
        "type": "com.example.billing.customer.updated",
        "source": "/billing/legacy",
    }, {"customerId": rng.randint(1, 400), "vip": rng.random() < 0.2, "tags": rng.sample(CITIES, 2)}


def _thumbnail(rng: random.Random, index: int) -> tuple[dict[str, Any], Any]:
    # A PNG signature and a header chunk, then noise: binary data that is not text in any charset.
    return {
        "type": "com.example.media.thumbnail.created",
        "source": "https://media.example.com/thumbs",
        "datacontenttype": "image/png",
        "subject": f"img-{index}.png",
    }, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(rng.randint(40, 160))


def _firmware(rng: random.Random, index: int) -> tuple[dict[str, Any], Any]:
    return {
        "specversion": rng.choice(["1.0", "0.3"]),
        "type": "com.example.iot.firmware.chunk",
        "source": "/firmware/v4.2.1",
    }, rng.randbytes(rng.randint(16, 96))


def _heartbeat(rng: random.Random, index: int) -> tuple[dict[str, Any], Any]:
    return {"type": "com.example.iot.heartbeat", "source": f"/sensors/device-{rng.randint(1, 60)}"}, None


KINDS = [
    (_order, 25),
    (_payment, 10),
    (_reading, 20),
    (_log, 12),
    (_invoice, 6),
    (_legacy_json, 5),
    (_thumbnail, 7),
    (_firmware, 5),
    (_heartbeat, 10),
]


def sample_events(count: int = 3000, seed: int = 2024) -> Iterator[CloudEvent]:
    """``count`` events, the same for the same ``seed``."""
    rng = random.Random(seed)
    makers = [maker for maker, _ in KINDS]
    weights = [weight for _, weight in KINDS]
    for index in range(count):
        attributes, data = rng.choices(makers, weights)[0](rng, index)
        attributes["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if rng.random() < 0.9:
            attributes["time"] = _time(rng, index)
        attributes.update(_extensions(rng, index))
        yield CloudEvent(attributes, data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("-o", "--output", default=str(HERE / "sample-events.jsonl"), help="a file, or - for stdout")
    args = parser.parse_args()
    chunks = write_events(sample_events(args.count, args.seed), "json")
    if args.output == "-":
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
    else:
        with open(args.output, "wb") as out:
            for chunk in chunks:
                out.write(chunk)


if __name__ == "__main__":
    main()
