"""The real brokers the protocol tests run against: where they listen, and what happens when one is missing.

This module is the one place that decides both:

- **Where**: ``.ci/brokers.env`` holds the host and ports (the same file ``.ci/brokers.sh`` starts the
  brokers from); an environment variable of the same name overrides a line, for the script and the tests alike.
- **Missing broker**: with ``CEFMT_REQUIRE_BROKERS=1`` (``.ci/run`` exports it) a broker that does not
  answer is a test *error*, so CI cannot pass without it. Without it (working locally) the test is skipped,
  with a reason that says how to start the brokers: ``just brokers-up``.

The brokers are started outside the test process (by ``.ci/run`` or ``just brokers-up``), never by a
fixture: RabbitMQ takes seconds to boot and is shared by every test that needs it. WebSocket needs no
broker: its tests run a ``websockets`` server inside the test process.

Other test packages use these fixtures by importing them into their own ``conftest.py``, as
``tests/brokers/conftest.py`` does.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs
import pytest

REPO = Path(__file__).resolve().parents[2]

#: The broker addresses, shared with ``.ci/brokers.sh``.
ADDRESSES_FILE = REPO / ".ci" / "brokers.env"

#: Set to ``1`` to make a missing broker fail the test instead of skipping it.
REQUIRE_ENV = "CEFMT_REQUIRE_BROKERS"

#: What a skipped test tells the reader to do.
HOW_TO_START = "start the test brokers with `just brokers-up` (docs/brokers.md)"

#: How long a reachability probe waits for a TCP connection.
PROBE_TIMEOUT = 2.0

#: The RabbitMQ user the brokers are started with (its default ``guest``, allowed off-loopback by the config).
RABBITMQ_USER = ("guest", "guest")


def read_addresses(path: Path = ADDRESSES_FILE, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``KEY=VALUE`` lines of ``path`` (comments and blank lines skipped), each overridden by ``environ``."""
    environ = os.environ if environ is None else environ
    settings: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and re.fullmatch(r"[A-Z_]+", key):
            settings[key] = environ.get(key) or value.strip()
    return settings


def brokers_required(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a missing broker fails (``CEFMT_REQUIRE_BROKERS=1``, as in CI) rather than skips."""
    environ = os.environ if environ is None else environ
    return environ.get(REQUIRE_ENV, "").strip() == "1"


@attrs.frozen
class Broker:
    """Where one running broker listens, and the URL its clients take."""

    name: str
    host: str
    port: int
    scheme: str
    userinfo: str = ""

    @property
    def url(self) -> str:
        """``scheme://[user:password@]host:port``, the form every client used here accepts."""
        credentials = f"{self.userinfo}@" if self.userinfo else ""
        return f"{self.scheme}://{credentials}{self.host}:{self.port}"


def reachable(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def missing_broker_message(broker: Broker, *, required: bool) -> str:
    """Why a test cannot run without ``broker``, and what to do about it."""
    where = f"{broker.name} is not answering on {broker.host}:{broker.port}"
    if required:
        return (
            f"{where}, and {REQUIRE_ENV}=1 makes that an error: `.ci/brokers.sh start` should have started it "
            "(its log is under .ci/brokers/)"
        )
    return f"{where}: {HOW_TO_START}"


def ensure_running(broker: Broker, *, required: bool | None = None) -> Broker:
    """Return ``broker`` if it answers; otherwise fail the test (brokers required) or skip it, saying why."""
    if reachable(broker.host, broker.port):
        return broker
    required = brokers_required() if required is None else required
    message = missing_broker_message(broker, required=required)
    if required:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def configured_brokers(settings: Mapping[str, str] | None = None) -> dict[str, Broker]:
    """Every broker of ``.ci/brokers.env`` by short name: ``rabbitmq``, ``mosquitto``, ``nats``."""
    settings = read_addresses() if settings is None else settings
    host = settings["CEFMT_BROKER_HOST"]
    user, password = RABBITMQ_USER
    return {
        "rabbitmq": Broker("RabbitMQ (AMQP)", host, int(settings["CEFMT_AMQP_PORT"]), "amqp", f"{user}:{password}"),
        "mosquitto": Broker("Mosquitto (MQTT)", host, int(settings["CEFMT_MQTT_PORT"]), "mqtt"),
        "nats": Broker("nats-server (NATS)", host, int(settings["CEFMT_NATS_PORT"]), "nats"),
    }


def unique_name(prefix: str) -> str:
    """A queue, topic or stream name no other test (or earlier run) uses: ``prefix`` plus random hex."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def rabbitmq_broker() -> Broker:
    """RabbitMQ with the AMQP 1.0 plugin: AMQP 0-9-1 and 1.0 on one port (user ``guest``)."""
    return ensure_running(configured_brokers()["rabbitmq"])


@pytest.fixture(scope="session")
def mqtt_broker() -> Broker:
    """Mosquitto: MQTT 3.1.1 and 5 on one port, anonymous."""
    return ensure_running(configured_brokers()["mosquitto"])


@pytest.fixture(scope="session")
def nats_broker() -> Broker:
    """nats-server with JetStream on, anonymous."""
    return ensure_running(configured_brokers()["nats"])


#: How long a queue left behind (a test killed before its cleanup) survives unused, in milliseconds.
QUEUE_EXPIRES_MS = 120_000


@pytest.fixture
def rabbitmq_queue(rabbitmq_broker: Broker) -> Iterator[str]:
    """A fresh RabbitMQ queue for one test, declared over AMQP 0-9-1 and deleted afterwards.

    It also carries ``x-expires``, so that even a test killed before its cleanup leaves nothing for long.
    """
    import pika

    name = unique_name("cefmt-test")
    params = pika.URLParameters(f"{rabbitmq_broker.url}/%2F?connection_attempts=1&socket_timeout=5")
    with pika.BlockingConnection(params) as connection:
        connection.channel().queue_declare(name, arguments={"x-expires": QUEUE_EXPIRES_MS})
    try:
        yield name
    finally:
        with pika.BlockingConnection(params) as connection:
            connection.channel().queue_delete(name)
