"""Shared fixtures: where the spec's test vectors live, and a registry left as each test found it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import cefmt

REPO = Path(__file__).resolve().parents[1]


def vectors_dir() -> Path:
    """``../shared/vectors`` beside the checkout (CI lays shared/ there), or ``$CEFMT_VECTORS``."""
    configured = os.environ.get("CEFMT_VECTORS")
    path = Path(configured) if configured else REPO.parent / "shared" / "vectors"
    if not path.is_dir():
        raise RuntimeError(f"test vectors not found at {path}; set CEFMT_VECTORS")
    return path


@pytest.fixture
def vectors() -> Path:
    return vectors_dir()


@pytest.fixture(autouse=True)
def _restore_default_registry() -> Iterator[None]:
    """Run-time registrations made by a test do not leak into the next one."""
    registry = cefmt.default_registry
    saved = dict(registry._overrides)
    yield
    registry._overrides.clear()
    registry._overrides.update(saved)
    registry._detectors.clear()
