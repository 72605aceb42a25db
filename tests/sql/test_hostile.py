"""Hostile expressions and events: each case here either fails with a cefmt error or finishes; a matcher
or parser that backtracked or recursed without bound would hang or crash this file instead."""

from __future__ import annotations

import pytest

import cefmt.sql
from cefmt import CloudEvent
from cefmt.sql._like import compile_like

LONG = "a" * 200_000


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        # A backtracking ^.*a.*a...c.*b$ tries every split of the a's: O(n^k). Each piece is searched once here.
        ("%a" * 30 + "%c%b", LONG + "b", False),
        ("%a" * 30 + "%b", LONG + "b", True),
        ("%" + "a_" * 40 + "c%", LONG, False),  # a piece with "_" is a fixed-length regex: no backtracking
        ("%" + "_" * 1000 + "%", LONG, True),
        ("_" * 200_001, LONG, False),
        ("%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%b", LONG, False),
    ],
)
def test_pathological_like_patterns_finish(pattern: str, text: str, expected: bool) -> None:
    assert compile_like(pattern)(text) is expected
    event = CloudEvent(type="t", source="/s", long=text)
    expr = cefmt.sql.compile(f"long LIKE '{pattern}'", max_length=len(pattern) + 20)
    assert expr.evaluate(event).value is expected


def test_a_large_in_set_compiles_to_one_lookup() -> None:
    items = ", ".join(f"'id{number}'" for number in range(5000))
    expr = cefmt.sql.compile(f"id IN ({items})")
    assert expr.matches(CloudEvent(type="t", source="/s", id="id4999"))
    assert not expr.matches(CloudEvent(type="t", source="/s", id="id5000"))


def test_a_long_flat_filter_compiles() -> None:
    text = " OR ".join(f"(type = 't{number}' AND subject LIKE '%{number}')" for number in range(1500))
    expr = cefmt.sql.compile(text)
    assert expr.matches(CloudEvent(type="t1499", source="/s", subject="x1499"))
    assert not expr.matches(CloudEvent(type="t1499", source="/s", subject="x1498"))


def test_the_longest_default_expression_compiles() -> None:
    text = " OR ".join(["(x = 1)"] * ((cefmt.sql.DEFAULT_MAX_LENGTH - 1) // 12))
    assert len(text) <= cefmt.sql.DEFAULT_MAX_LENGTH
    assert cefmt.sql.compile(text).evaluate(CloudEvent(type="t", source="/s", x=1)).value is True


def test_huge_literals_and_strings() -> None:
    assert (
        cefmt.sql.compile("'" + "x" * 60_000 + "' = a").evaluate(CloudEvent(type="t", source="/s", a="x")).value
        is False
    )
    with pytest.raises(cefmt.sql.ParseError, match="out of the 32-bit"):
        cefmt.sql.compile("9" * 60_000)
    with pytest.raises(cefmt.sql.ParseError, match="unterminated"):
        cefmt.sql.compile("'" + "\\'" * 30_000)


def test_exponential_string_growth_is_refused() -> None:
    # Text that grows linearly, a String that would grow 20-fold per level: the delimiter is the level below.
    text = "'xy'"
    for _ in range(30):
        text = f"CONCAT_WS({text}, {', '.join(['a'] * 20)})"
    event = CloudEvent(type="t", source="/s", a="abc")
    result = cefmt.sql.compile(text, max_depth=200).evaluate(event)
    assert (result.value, result.error.kind if result.error else None) == ("", "functionEvaluation")


@pytest.mark.parametrize("depth", [64, 65, 1000])
def test_nesting_at_and_beyond_the_limit(depth: int) -> None:
    text = "NOT " * (depth - 1) + "TRUE"
    if depth > cefmt.sql.DEFAULT_MAX_DEPTH:
        with pytest.raises(cefmt.sql.ExpressionLimitError):
            cefmt.sql.compile(text)
    else:
        assert cefmt.sql.compile(text).evaluate(CloudEvent(type="t", source="/s")).value is (depth % 2 == 1)
