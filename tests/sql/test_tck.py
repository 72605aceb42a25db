"""The CESQL test compatibility kit (tests/vectors/cesql-tck/, 18 files, 275 cases), read as it is.

Every case is checked against the kit's own expectation except the one the kit and the spec disagree
on (docs/sql.md, "The disputed test case"), which has its own test below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import cefmt.sql
from cefmt import CloudEvent
from tests.conftest import VECTORS

TCK = VECTORS / "cesql-tck"

# The kit's README: "If absent, when testing the expression, any valid event can be passed."
DEFAULT_EVENT = {"specversion": "1.0", "id": "tck-event", "source": "/tck", "type": "io.cloudevents.tck"}

#: The case the spec's text decides differently from the kit: CESQL 1.0 added Integer -> Boolean casts
#: ("Returns false if the integer is 0, and true otherwise", section 3.7), so NOT 10 is false, no error.
DISPUTED = ("not_operator.yaml", "Invalid int cast")


class _StringTimestamps(yaml.SafeLoader):
    """YAML 1.1 reads an unquoted 2018-04-26T14:48:09+02:00 as a datetime; CESQL treats it as a String."""


_StringTimestamps.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load(text: str) -> dict[str, Any]:
    """The kit file as data, each ``expression`` as the text written (a plain ``TRUE`` or ``0`` is an
    expression, not a YAML Boolean or Integer)."""
    loader = _StringTimestamps(text)
    try:
        root = loader.get_single_node()
        for key, value in root.value:
            if key.value == "tests":
                for case in value.value:
                    for field, scalar in case.value:
                        if field.value == "expression":
                            scalar.tag = "tag:yaml.org,2002:str"
        document: dict[str, Any] = loader.construct_document(root)
        return document
    finally:
        loader.dispose()


def _cases() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(TCK.glob("*.yaml")):
        for case in _load(path.read_text(encoding="utf-8"))["tests"]:
            found.append((path.name, case))
    return found


CASES = _cases()


def _event(case: dict[str, Any]) -> CloudEvent:
    if "event" in case:
        return CloudEvent.from_attributes(case["event"])
    return CloudEvent.from_attributes({**DEFAULT_EVENT, **case.get("eventOverrides", {})})


def test_the_kit_is_complete() -> None:
    assert len(CASES) == 275
    assert len({path for path, _ in CASES}) == 18
    assert sum("error" in case for _, case in CASES) == 35


@pytest.mark.parametrize(("path", "case"), CASES, ids=[f"{path}::{case['name']}" for path, case in CASES])
def test_case(path: str, case: dict[str, Any]) -> None:
    result = cefmt.sql.evaluate(case["expression"], _event(case))
    if (path, case["name"]) == DISPUTED:
        # The kit still says what it says; cefmt follows the spec (see test_not_of_an_integer_is_a_cast).
        assert (case["result"], case["error"]) == (True, "cast")
        assert (result.value, result.error) == (False, None)
        return
    if "result" in case:
        assert type(result.value) is type(case["result"]) and result.value == case["result"], result
    if "error" in case:
        assert result.error is not None and result.error.kind == case["error"], result
        assert isinstance(result.error, cefmt.sql.SQLError)
    else:
        assert result.error is None, result


def test_not_of_an_integer_is_a_cast() -> None:
    """The disputed case: NOT x casts x to Boolean (unary, not ambiguous: "cast x to the parameter type",
    section 3.7), and Integer -> Boolean is a cast the spec defines (0 is false, anything else true). So
    ``NOT 10`` is false without error, agreeing with ``BOOL(10)``, which the kit itself expects to be true.
    """
    event = CloudEvent(**{key: value for key, value in DEFAULT_EVENT.items() if key != "specversion"})
    assert tuple(cefmt.sql.evaluate("NOT 10", event)) == (False, None)
    assert tuple(cefmt.sql.evaluate("NOT 0", event)) == (True, None)
    assert tuple(cefmt.sql.evaluate("BOOL(10)", event)) == (True, None)
    assert tuple(cefmt.sql.evaluate("NOT 10 = NOT BOOL(10)", event)) == (True, None)


def test_the_disputed_case_is_still_in_the_kit() -> None:
    """The kit is read as vendored (SOURCES.md: copied byte for byte); the disputed case is in it once."""
    sources = (VECTORS / "SOURCES.md").read_text(encoding="utf-8")
    assert "18 files, 275 test cases" in sources
    assert Path(TCK / "not_operator.yaml").read_text(encoding="utf-8").count("expression: NOT 10") == 1
