"""The examples in docs/bindings/ run as written, against the real brokers (a websockets server in this
process for the WebSocket page). Each page's ``python`` blocks run in order in one namespace; the
environment variables the examples read point them at the test brokers and at names no other test uses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pika
import pytest

from tests.brokers.fixtures import Broker, unique_name
from tests.conftest import REPO

DOCS = REPO / "docs" / "bindings"

pytestmark = pytest.mark.timeout(90)


def _run_examples(page: str) -> int:
    text = (DOCS / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    for block in blocks:
        exec(compile(block, str(Path("docs/bindings") / page), "exec"), {"__name__": "__doc_example__"})
    return len(blocks)


def test_every_binding_has_a_page() -> None:
    assert {p.stem for p in DOCS.glob("*.md")} >= {"amqp", "rabbitmq", "mqtt", "nats", "websocket"}


@pytest.fixture
def fresh_queue(rabbitmq_broker: Broker, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A queue name for the examples, and the queue deleted afterwards (the examples declare it)."""
    name = unique_name("cefmt-docs")
    monkeypatch.setenv("AMQP_URL", rabbitmq_broker.url)
    yield name
    params = pika.URLParameters(f"{rabbitmq_broker.url}/%2F?connection_attempts=1&socket_timeout=5")
    with pika.BlockingConnection(params) as connection:
        connection.channel().queue_delete(name)


def test_amqp_page(fresh_queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMQP_QUEUE", fresh_queue)
    assert _run_examples("amqp.md") == 1


def test_rabbitmq_page(fresh_queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RABBITMQ_QUEUE", fresh_queue)
    assert _run_examples("rabbitmq.md") == 2


def test_mqtt_page(mqtt_broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MQTT_HOST", mqtt_broker.host)
    monkeypatch.setenv("MQTT_PORT", str(mqtt_broker.port))
    monkeypatch.setenv("MQTT_TOPIC", unique_name("cefmt/docs"))
    assert _run_examples("mqtt.md") == 1


def test_nats_page(nats_broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NATS_URL", nats_broker.url)
    monkeypatch.setenv("NATS_SUBJECT", unique_name("cefmt.docs"))
    monkeypatch.setenv("NATS_STREAM", unique_name("CEFMT-DOCS").upper())
    assert _run_examples("nats.md") == 2


def test_websocket_page() -> None:
    assert _run_examples("websocket.md") == 1
