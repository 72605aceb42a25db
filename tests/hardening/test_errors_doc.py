"""docs/errors.md names every error class cefmt exports and quotes each example message as raised."""

from __future__ import annotations

from tests.conftest import REPO

from .error_examples import error_classes, examples

CATALOGUE = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")


def test_every_exported_error_class_has_a_section() -> None:
    assert len(error_classes()) >= 9
    missing = [name for name in error_classes() if f"## `{name}`" not in CATALOGUE]
    assert missing == []


def test_every_example_message_is_quoted_exactly() -> None:
    stale = {name: text for name, text in examples().items() if text not in CATALOGUE}
    assert stale == {}, "docs/errors.md is out of date; run python -m tests.hardening.error_examples"
    # The base class is never raised as itself: every error is one of its subclasses.
    assert set(examples()) == set(error_classes()) - {"CloudEventError"}
