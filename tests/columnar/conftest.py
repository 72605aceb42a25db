"""One SparkSession for the whole test session, in ``local[2]``, started only when a Spark test runs.

Spark needs Java (17 or later). ``.ci/run`` installs it when it is missing and sets ``CEFMT_REQUIRE_SPARK=1``,
which turns a missing Java into a failure; elsewhere the Spark tests are skipped with the reason. The
executors' Python is this interpreter (``PYSPARK_PYTHON``), so they import the cefmt under test.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

import pytest


def _java_missing() -> str | None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Spark needs Java 17+ (apt-get install default-jre-headless; .ci/run does it)"
    return None


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    missing = _java_missing()
    if missing is not None:
        if os.environ.get("CEFMT_REQUIRE_SPARK") == "1":
            pytest.fail(missing + " (CEFMT_REQUIRE_SPARK=1)")
        pytest.skip(missing)
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("cefmt-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
        .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={tmp_path_factory.mktemp('java')}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
