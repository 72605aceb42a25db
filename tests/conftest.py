"""Shared fixtures: where the spec's test vectors live, and a registry left as each test found it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import cefmt

REPO = Path(__file__).resolve().parents[1]


#: The spec's and the conformance repository's data files, vendored (``tests/vectors/SOURCES.md``).
VECTORS = REPO / "tests" / "vectors"


def vectors_dir() -> Path:
    """The vendored test vectors: the repository carries every file its tests read."""
    return VECTORS


@pytest.fixture
def vectors() -> Path:
    return vectors_dir()


@pytest.fixture(autouse=True)
def _restore_default_registry() -> Iterator[None]:
    """Run-time registrations made by a test do not leak into the next one."""
    with cefmt.default_registry.overriding():
        yield
