"""The CESQL parser: the grammar of CESQL 1.0 section 2, precedence (section 3.6), errors with positions,
and limits that hold against hostile text."""

from __future__ import annotations

import pytest

import cefmt
import cefmt.sql
from cefmt.sql import ExpressionLimitError, ParseError
from cefmt.sql._ast import Attribute, Binary, Call, Exists, In, Like, Literal, Logical, Unary, quote, unparse
from cefmt.sql._parser import parse


def test_literals() -> None:
    assert parse("TRUE") == Literal(True)
    assert parse("false") == Literal(False)
    assert parse("0") == Literal(0)
    assert parse("-2147483648") == Literal(-(2**31))
    assert parse("+7") == Literal(7)
    assert parse("2147483647") == Literal(2**31 - 1)
    assert parse("'a\"b'") == Literal('a"b')
    assert parse('"a\'b"') == Literal("a'b")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r"'it\'s'", "it's"),  # the delimiter, escaped
        (r'"say \"hi\""', 'say "hi"'),
        (r"'a\"b'", 'a\\"b'),  # the other quote's escape stays as written
        (r"'ab\c'", "ab\\c"),  # any other backslash pair stands for itself
        (r"'50\%'", "50\\%"),  # so LIKE sees its escapes
        (r"'x\\'", "x\\\\"),  # a backslash pair: two backslashes, then the closing quote
        ("'line\nbreak'", "line\nbreak"),
        ("''", ""),
    ],
)
def test_string_literal_escapes(text: str, value: str) -> None:
    assert parse(text) == Literal(value)


def test_names_are_case_insensitive() -> None:
    assert parse("SUBJECT") == Attribute("subject")
    assert parse("Exists MyExt") == Exists("myext")
    assert parse("lower(x)") == Call("LOWER", (Attribute("x"),))
    assert parse("a aNd b") == Logical("AND", (Attribute("a"), Attribute("b")))
    assert parse("1abc") == Attribute("1abc")  # names may start with a digit, like attribute names


def test_sign_belongs_to_the_literal_only_when_it_touches_the_digits() -> None:
    assert parse("-5") == Literal(-5)
    assert parse("- 5") == Unary("NEG", Literal(5))
    assert parse("--10") == Unary("NEG", Literal(-10))
    assert parse("4 -1") == Binary("-", Literal(4), Literal(1))
    assert parse("4 + -1") == Binary("+", Literal(4), Literal(-1))
    with pytest.raises(ParseError, match="out of the 32-bit signed range"):
        parse("- 2147483648")


def test_precedence_follows_section_3_6() -> None:
    # Multiplicative before additive before comparison before logical.
    assert parse("1 + 2 * 3 = 7") == Binary(
        "=", Binary("+", Literal(1), Binary("*", Literal(2), Literal(3))), Literal(7)
    )
    # Unary operators bind tighter than LIKE, IN and every binary operator.
    assert parse("NOT a = b") == Binary("=", Unary("NOT", Attribute("a")), Attribute("b"))
    assert parse("NOT a LIKE 'x'") == Like(Unary("NOT", Attribute("a")), "x")
    assert parse("-a * b") == Binary("*", Unary("NEG", Attribute("a")), Attribute("b"))
    # LIKE and IN bind tighter than the binary operators.
    assert parse("1 + a IN (1)") == Binary("+", Literal(1), In(Attribute("a"), (Literal(1),)))
    assert parse("a LIKE 'x' = TRUE") == Binary("=", Like(Attribute("a"), "x"), Literal(True))


def test_equal_precedence_is_left_to_right() -> None:
    """AND, OR and XOR share one level (section 3.6) and "MUST be evaluated left to right when the
    precedence is equal": unlike SQL, ``a OR b AND c`` is ``(a OR b) AND c``."""
    a, b, c = Attribute("a"), Attribute("b"), Attribute("c")
    assert parse("a OR b AND c") == Logical("AND", (Logical("OR", (a, b)), c))
    assert parse("a AND b OR c") == Logical("OR", (Logical("AND", (a, b)), c))
    assert parse("10 - 4 - 3") == Binary("-", Binary("-", Literal(10), Literal(4)), Literal(3))
    assert parse("8 / 4 / 2") == Binary("/", Binary("/", Literal(8), Literal(4)), Literal(2))


def test_chains_of_one_logical_operator_are_flat() -> None:
    a, b, c, d = (Attribute(n) for n in "abcd")
    assert parse("a AND b AND (c AND d)") == Logical("AND", (a, b, c, d))
    assert parse("a XOR b XOR c") == Logical("XOR", (a, b, c))
    assert parse(" OR ".join(f"x{i} = {i}" for i in range(500))).depth == 3


def test_postfix_operators() -> None:
    assert parse("a NOT LIKE 'x%'") == Like(Attribute("a"), "x%", negated=True)
    assert parse("a NOT IN (1, 'b', c)") == In(Attribute("a"), (Literal(1), Literal("b"), Attribute("c")), negated=True)
    assert parse("a LIKE 'x' LIKE 'y'") == Like(Like(Attribute("a"), "x"), "y")


def test_function_calls() -> None:
    assert parse("CONCAT()") == Call("CONCAT", ())
    assert parse("concat_ws(',', a, 'b')") == Call("CONCAT_WS", (Literal(","), Attribute("a"), Literal("b")))
    assert parse("F (1)") == Call("F", (Literal(1),))
    assert parse("ABS(-2147483648)") == Call("ABS", (Literal(-(2**31)),))


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("ABC(", 4, "expected an expression, found end of expression"),
        ("x LIKE 123", 7, "LIKE needs a string literal pattern"),
        ("x LIKE y", 7, "LIKE needs a string literal pattern"),
        ("a = )", 4, "expected an expression, found ')'"),
        ("(a = 1", 6, "expected ')' to close the '(' opened at 0"),
        ("a = 1)", 5, "unexpected ')' after a complete expression"),
        ("'abc", 0, "unterminated string literal"),
        ("'abc\\'", 0, "unterminated string literal"),
        ("a ! b", 2, "unexpected character '!'"),
        ("a ~ b", 2, "unexpected character '~'"),
        ("a\u00a0= 1", 1, "unexpected character"),
        ("a NOT b", 6, "NOT after an operand must be followed by LIKE or IN"),
        ("a IN ()", 6, "an IN set needs at least one element"),
        ("a IN 1", 5, "expected '(' opening the IN set"),
        ("a IN (1 2)", 8, "expected ',' or ')' in the IN set"),
        ("EXISTS 1", 7, "EXISTS needs an attribute name"),
        ("EXISTS my_ext", 7, "EXISTS needs an attribute name"),
        ("my_ext = 1", 0, "is not an attribute name"),
        ("a_1 = 1", 0, "is not a name"),
        ("F1(2)", 0, "is not a function name"),
        ("2147483648", 0, "out of the 32-bit signed range"),
        ("-2147483649", 0, "out of the 32-bit signed range"),
        ("1" * 5000, 0, "out of the 32-bit signed range"),
        ("", 0, "expected an expression, found end of expression"),
        ("   ", 3, "expected an expression"),
        ("a b", 2, "unexpected name 'b' after a complete expression"),
        ("+a", 0, "expected an expression, found '+'"),
        ("a = 'x' 'y'", 8, "unexpected string literal after a complete expression"),
    ],
)
def test_parse_errors_name_the_position(text: str, position: int, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        cefmt.sql.compile(text)
    error = caught.value
    assert error.position == position, str(error)
    assert reason in error.reason
    assert f"at position {position}" in str(error)
    assert error.kind == "parse" and isinstance(error, cefmt.CloudEventError) and isinstance(error, ValueError)


def test_a_parse_error_shows_the_text_around_it() -> None:
    text = "a = 1 AND " * 20 + "b = )"
    with pytest.raises(ParseError) as caught:
        parse(text)
    message = str(caught.value)
    assert message.endswith("at position 204: ...1 AND a = 1 AND a = 1 AND b = )")
    assert len(message) < 200
    with pytest.raises(ParseError, match=r"\\n"):
        parse("a = \n )")


def test_only_text_is_an_expression() -> None:
    with pytest.raises(ParseError, match="an expression is text"):
        cefmt.sql.compile(b"a = 1")  # type: ignore[arg-type]


# -- limits ------------------------------------------------------------------------------------------------


def test_max_length_is_checked_before_parsing() -> None:
    text = "a = '" + "x" * 70_000 + "'"
    with pytest.raises(ExpressionLimitError) as caught:
        cefmt.sql.compile(text)
    assert (caught.value.limit, caught.value.value, caught.value.maximum) == ("max_length", len(text), 65_536)
    assert cefmt.sql.compile(text, max_length=len(text)).tree == Binary("=", Attribute("a"), Literal("x" * 70_000))
    with pytest.raises(ExpressionLimitError):
        cefmt.sql.compile("a = 1", max_length=4)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 100_000 + "a" + ")" * 100_000,  # parentheses
        "NOT " * 100_000 + "a",  # unary operators
        "-" * 100_000 + "1",
        "ABS(" * 100_000 + "1" + ")" * 100_000,  # arguments
        "1" + " + 1" * 100,  # a left-deep chain: shallow to parse, deep as a tree
        "a IN (" * 1000 + "1" + ")" * 1000,
    ],
)
def test_deep_nesting_fails_with_a_limit_error(text: str) -> None:
    with pytest.raises(ExpressionLimitError) as caught:
        cefmt.sql.compile(text, max_length=len(text))
    assert caught.value.limit == "max_depth" and caught.value.maximum == 64


def test_depth_limit_is_configurable_up_to_the_ceiling() -> None:
    text = "(" * 150 + "1" + ")" * 150
    with pytest.raises(ExpressionLimitError):
        cefmt.sql.compile(text)
    event = cefmt.CloudEvent(type="t", source="/s")
    assert cefmt.sql.compile(text, max_depth=200).evaluate(event).value == 1
    assert cefmt.sql.compile("NOT " * 190 + "TRUE", max_depth=200).evaluate(event).value is True
    assert cefmt.sql.compile("NOT " * 191 + "TRUE", max_depth=200).evaluate(event).value is False
    with pytest.raises(cefmt.InvalidAttributeError, match="max_depth"):
        cefmt.sql.compile("1", max_depth=201)
    with pytest.raises(cefmt.InvalidAttributeError, match="max_length"):
        cefmt.sql.compile("1", max_length=0)


def test_a_string_full_of_backslashes_is_read_in_one_pass() -> None:
    # Each backslash pair used to restart the search for the closing quote: quadratic. Now linear.
    text = "'" + "\\a" * 30_000 + "'"
    assert parse(text) == Literal("\\a" * 30_000)
    with pytest.raises(ParseError, match="unterminated"):
        parse("'" + "\\a" * 30_000)


# -- the printer -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a=1 and b<>2", "a = 1 AND b <> 2"),
        ("a or b and c", "(a OR b) AND c"),
        ("a or (b and c)", "a OR (b AND c)"),
        ("not (a like 'x%')", "NOT (a LIKE 'x%')"),
        ("(not a) like 'x%'", "NOT a LIKE 'x%'"),
        ("- 5", "- 5"),
        ("-(-5)", "- -5"),
        ("--5", "- -5"),
        ("-(1+2)", "-(1 + 2)"),
        ("10 - (4 - 3)", "10 - (4 - 3)"),
        ("(10 - 4) - 3", "10 - 4 - 3"),
        ("x in ('a',\"b\", y)", "x IN ('a', 'b', y)"),
        ("x not in (1)", "x NOT IN (1)"),
        ("concat_ws(',', a)", "CONCAT_WS(',', a)"),
        ("exists Subject", "EXISTS subject"),
        ("'it\\'s'", "'it\\'s'"),
        ("(a + 1) in (2)", "(a + 1) IN (2)"),
    ],
)
def test_canonical_text(text: str, canonical: str) -> None:
    assert cefmt.sql.compile(text).canonical == canonical
    assert parse(canonical) == parse(text)


def test_quote_picks_a_quote_that_can_hold_the_value() -> None:
    assert quote("plain") == "'plain'"
    assert quote("it's") == "'it\\'s'"
    assert quote("back\\'slash") == '"back\\\'slash"'  # \' cannot be written inside '...'
    assert quote("two\\\\'") == "'two\\\\\\''"  # an even run before the quote is fine
    for value in ("plain", "it's", "back\\'slash", "two\\\\'", "a\\b", "\\\\"):
        assert parse(quote(value)) == Literal(value)
    with pytest.raises(ValueError, match="no CESQL string literal"):
        quote("ends with a backslash\\")
    with pytest.raises(ValueError, match="no CESQL string literal"):
        unparse(Literal("both\\' and \\\""))
