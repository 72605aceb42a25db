"""The broker fixtures (defined in ``tests/brokers/fixtures.py``) for the binding tests' real round trips."""

from tests.brokers.fixtures import mqtt_broker, nats_broker, rabbitmq_broker, rabbitmq_queue

__all__ = ["mqtt_broker", "nats_broker", "rabbitmq_broker", "rabbitmq_queue"]
