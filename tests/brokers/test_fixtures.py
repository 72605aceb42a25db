"""The fixture module's own decisions: where the brokers are, and fail versus skip when one is missing."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.brokers.fixtures import (
    ADDRESSES_FILE,
    Broker,
    brokers_required,
    configured_brokers,
    ensure_running,
    missing_broker_message,
    read_addresses,
)


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_addresses_come_from_the_file_the_script_reads() -> None:
    settings = read_addresses(environ={})
    assert settings["CEFMT_BROKER_HOST"] == "127.0.0.1"
    brokers = configured_brokers(settings)
    assert {name: broker.port for name, broker in brokers.items()} == {
        "rabbitmq": int(settings["CEFMT_AMQP_PORT"]),
        "mosquitto": int(settings["CEFMT_MQTT_PORT"]),
        "nats": int(settings["CEFMT_NATS_PORT"]),
    }
    assert all(broker.host == "127.0.0.1" for broker in brokers.values())
    assert ".ci/brokers.env" in ADDRESSES_FILE.as_posix()


def test_an_environment_variable_overrides_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / "brokers.env"
    env_file.write_text("# a comment with KEY=VALUE in it\nCEFMT_BROKER_HOST=127.0.0.1\nCEFMT_NATS_PORT=4232\n")
    assert read_addresses(env_file, environ={}) == {"CEFMT_BROKER_HOST": "127.0.0.1", "CEFMT_NATS_PORT": "4232"}
    assert read_addresses(env_file, environ={"CEFMT_NATS_PORT": "5000"})["CEFMT_NATS_PORT"] == "5000"


def test_brokers_are_required_only_when_the_variable_says_1() -> None:
    assert brokers_required({"CEFMT_REQUIRE_BROKERS": "1"})
    assert not brokers_required({})
    assert not brokers_required({"CEFMT_REQUIRE_BROKERS": "0"})


def test_broker_urls() -> None:
    assert Broker("x", "127.0.0.1", 5682, "amqp", "guest:guest").url == "amqp://guest:guest@127.0.0.1:5682"
    assert Broker("x", "127.0.0.1", 4232, "nats").url == "nats://127.0.0.1:4232"


def test_a_missing_broker_skips_locally_saying_how_to_start_it() -> None:
    broker = Broker("Nothing", "127.0.0.1", _unused_port(), "nats")
    with pytest.raises(pytest.skip.Exception) as skipped:
        ensure_running(broker, required=False)
    assert "just brokers-up" in str(skipped.value)
    assert f"127.0.0.1:{broker.port}" in str(skipped.value)


def test_a_missing_broker_fails_when_brokers_are_required() -> None:
    broker = Broker("Nothing", "127.0.0.1", _unused_port(), "nats")
    with pytest.raises(pytest.fail.Exception) as failed:
        ensure_running(broker, required=True)
    assert "CEFMT_REQUIRE_BROKERS=1" in str(failed.value)
    assert missing_broker_message(broker, required=True) == str(failed.value)


def test_a_listening_broker_is_returned_as_it_is() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        broker = Broker("Listening", "127.0.0.1", int(server.getsockname()[1]), "nats")
        assert ensure_running(broker, required=True) is broker
