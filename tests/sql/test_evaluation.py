"""Evaluating CESQL: types and casts (CESQL 1.0 sections 3.1, 3.7), operators (3.4), errors and their
values (3.2, 3.3, 4.1), and how CloudEvents attribute types reach an expression."""

from __future__ import annotations

import pickle
import threading
from typing import Any

import pytest

import cefmt.sql
from cefmt import CloudEvent, Timestamp
from cefmt.sql import Result

EVENT = CloudEvent(
    {"type": "com.example.created", "source": "https://example.com/a", "id": "e1"},
    subject="orders/42",
    time="2018-04-26T14:48:09.5+02:00",
    seq="10",
    hop="5",
    ttl="10",
    count=7,
    flag=True,
    off=False,
    blob=b"Ma",
    at=Timestamp.parse("2020-01-01T00:00:00Z"),
    word="TRUE",
    big=2**31 - 1,
    small=-(2**31),
)


def run(text: str, event: Any = EVENT) -> tuple[object, str | None]:
    result = cefmt.sql.compile(text).evaluate(event)
    return result.value, None if result.error is None else result.error.kind


# -- attribute types (section 3.2) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("id", "e1"),
        ("source", "https://example.com/a"),
        ("specversion", "1.0"),
        ("subject", "orders/42"),
        ("time", "2018-04-26T14:48:09.500+02:00"),  # Timestamp: its canonical RFC 3339 string
        ("count", 7),  # Integer extensions stay Integer
        ("flag", True),
        ("blob", "TWE="),  # Binary: Base64
        ("at", "2020-01-01T00:00:00Z"),
        ("datacontenttype", False),  # absent: false, with an error
    ],
)
def test_attribute_values(text: str, value: object) -> None:
    got, _ = run(text)
    assert type(got) is type(value) and got == value


def test_dataschema_and_schemaurl_follow_the_spec_version() -> None:
    v1 = CloudEvent(type="t", source="/s", dataschema="https://x.example/s", schemaurl="ext")
    v03 = CloudEvent(type="t", source="/s", specversion="0.3", schemaurl="/schema")
    assert run("dataschema", v1) == ("https://x.example/s", None)
    assert run("schemaurl", v1) == ("ext", None)  # an extension in 1.0
    assert run("schemaurl", v03) == ("/schema", None)
    assert run("dataschema", v03) == (False, "missingAttribute")
    assert run("EXISTS schemaurl AND NOT EXISTS dataschema", v03) == (True, None)
    assert run("EXISTS dataschema AND EXISTS schemaurl", v1) == (True, None)
    assert run("EXISTS schemaurl", CloudEvent(type="t", source="/s")) == (False, None)


def test_exists() -> None:
    assert run("EXISTS id AND EXISTS source AND EXISTS type AND EXISTS specversion") == (True, None)
    assert run("EXISTS subject AND EXISTS time AND EXISTS count") == (True, None)
    assert run("EXISTS datacontenttype OR EXISTS nothing OR EXISTS data") == (False, None)


# -- casts (section 3.7) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("INT('+15')", (15, None)),
        ("INT('007')", (7, None)),
        ("INT('0000000000000000000042')", (42, None)),
        ("INT('2147483647')", (2**31 - 1, None)),
        ("INT('-2147483648')", (-(2**31), None)),
        ("INT('2147483648')", (0, "cast")),
        ("INT(' 1')", (0, "cast")),  # no whitespace
        ("INT('1_000')", (0, "cast")),  # no Python-only digit separators
        ("INT('١٢')", (0, "cast")),  # only ASCII digits
        ("INT('²')", (0, "cast")),
        ("INT('')", (0, "cast")),
        ("INT('+')", (0, "cast")),
        ("INT(CONCAT('9', '9'))", (99, None)),
        ("BOOL('tRuE')", (True, None)),
        ("BOOL('yes')", (False, "cast")),
        ("BOOL(0)", (False, None)),
        ("BOOL(-1)", (True, None)),
        ("STRING(-0)", ("0", None)),
        ("STRING(FALSE)", ("false", None)),
        ("INT(flag) + INT(off)", (1, None)),
        ("INT(word)", (0, "cast")),
        ("BOOL(word)", (True, None)),
        ("count + '3'", (10, None)),
        ("count + TRUE", (8, None)),
        ("count = '7'", (True, None)),  # the left operand is cast to the right one's type
        ("'7' = count", (True, None)),
        ("'07' = count", (True, None)),
        ("count = '07'", (False, None)),  # 7 as a String is '7'
        ("TRUE = 'TRUE'", (False, None)),  # "TRUE = "TRUE" ... will evaluate to false" (3.7)
        ("TRUE = 'true' AND FALSE = 'false'", (True, None)),
        ("flag = 'yes'", (False, None)),
        ("'yes' = flag", (False, "cast")),
        ("seq = 10", (True, None)),  # the spec's example: sequence is cast to Integer
        ("hop < ttl", (True, None)),  # '5' < '10' as Integers
        ("blob = 'TWE='", (True, None)),
        ("LENGTH(count)", (1, None)),
        ("-word", (0, "cast")),
        ("NOT 'maybe'", (False, "cast")),
    ],
)
def test_casts(text: str, expected: tuple[object, str | None]) -> None:
    value, kind = run(text)
    assert (value, kind) == expected and type(value) is type(expected[0])


# -- operators (section 3.4) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7 / 2", (3, None)),
        ("-7 / 2", (-3, None)),  # truncated towards zero
        ("7 / -2", (-3, None)),
        ("-7 % 2", (-1, None)),  # the remainder has the sign of the dividend
        ("7 % -2", (1, None)),
        ("-2147483648 / -1", (0, "math")),  # the one quotient outside the range
        ("-2147483648 % -1", (0, None)),
        ("2147483647 + 1", (0, "math")),
        ("big + 1", (0, "math")),
        ("small - 1", (0, "math")),
        ("65536 * 65536", (0, "math")),
        ("-small", (0, "math")),
        ("-(-2147483647)", (2**31 - 1, None)),
        ("ABS(small)", (2**31 - 1, "math")),
        ("ABS(small) + 0", (0, "math")),  # below the top, the enclosing operator's zero value
        ("1 <> 2 AND 2 != 3 AND 3 = 3", (True, None)),
        ("TRUE XOR TRUE XOR TRUE", (True, None)),
        ("TRUE XOR FALSE XOR TRUE", (False, None)),
        ("count IN (1, 7)", (True, None)),
        ("count NOT IN (1, 7)", (False, None)),
        ("count IN ('7')", (True, None)),
        ("count IN ('x', 7)", (False, "cast")),  # every element is cast, wherever it sits
        ("count IN (7, 'x')", (False, "cast")),
        ("count IN (7, missing)", (False, "missingAttribute")),
        ("subject IN (id, 'orders/42')", (True, None)),
        ("flag IN ('true')", (True, None)),
        ("word IN (TRUE)", (False, None)),  # 'TRUE' vs TRUE cast to 'true'
        ("word IN (flag, 'x')", (False, None)),
        ("word IN (count)", (False, None)),
        ("'1' IN (1)", (True, None)),
        ("1 IN ('1', TRUE)", (True, None)),
        ("TRUE IN (1)", (True, None)),
    ],
)
def test_operators(text: str, expected: tuple[object, str | None]) -> None:
    value, kind = run(text)
    assert (value, kind) == expected and type(value) is type(expected[0])


def test_in_does_not_depend_on_the_order_of_the_set() -> None:
    for items in ["1, missing", "missing, 1", "'x', 1", "1, 'x'"]:
        assert run(f"1 IN ({items})")[0] is False


def test_a_huge_number_in_a_string_is_a_cast_error() -> None:
    event = EVENT.evolve(digits="9" * 100_000)
    assert run("INT(digits)", event) == (0, "cast")
    assert run("digits = 1", event) == (False, "cast")


def test_and_or_short_circuit_and_xor_does_not() -> None:
    assert run("FALSE AND missing") == (False, None)
    assert run("TRUE OR missing") == (True, None)
    assert run("TRUE AND missing") == (False, "missingAttribute")
    assert run("FALSE OR 1 / 0 = 0") == (False, "math")
    assert run("FALSE XOR missing") == (False, "missingAttribute")
    assert run("missing OR TRUE") == (False, "missingAttribute")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("subject LIKE 'orders/%'", True),
        ("subject LIKE 'orders/__'", True),
        ("subject LIKE 'orders/_'", False),
        ("subject LIKE '%/4_'", True),
        ("subject LIKE '%s/%'", True),
        ("subject LIKE 'Orders%'", False),  # case sensitive
        ("subject LIKE '%'", True),
        ("subject LIKE '%%'", True),
        ("subject LIKE ''", False),
        ("'' LIKE '%'", True),
        ("'' LIKE '_'", False),
        ("'50%' LIKE '50\\%'", True),
        ("'500' LIKE '50\\%'", False),
        ("'a_b' LIKE 'a\\_b'", True),
        ("'axb' LIKE 'a\\_b'", False),
        ("'a\\b' LIKE 'a\\b'", True),  # a backslash before anything else is a backslash
        ("'a\\%' LIKE 'a\\\\%'", True),
        ("'ab' LIKE 'a%b'", True),
        ("'aXbXb' LIKE 'a%b'", True),
        ("'ab' LIKE 'ab%b'", False),  # the prefix and the suffix must not overlap
        ("'abab' LIKE 'ab%b'", True),
        ("'ñandú' LIKE '_and_'", True),  # "_" is one character, not one byte
        ("'😀x' LIKE '_x'", True),
        ("'a\nb' LIKE 'a_b'", True),  # "_" includes line breaks
        ("'a\nb' LIKE 'a%'", True),
        ("count LIKE '7'", True),
        ("flag LIKE 'tr%'", True),
        ("blob LIKE 'TW%'", True),
        ("'x.y' LIKE 'x_y'", True),  # no regex meaning leaks through
        ("'x[y' LIKE 'x[%'", True),
        ("subject NOT LIKE 'orders/%'", False),
    ],
)
def test_like(text: str, expected: bool) -> None:
    assert run(text) == (expected, None)


# -- functions (section 3.5) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LENGTH('ñandú😀')", (6, None)),
        ("CONCAT(count, flag, 'x')", ("7truex", None)),
        ("CONCAT_WS('-', 1, 2, 3)", ("1-2-3", None)),
        ("LOWER('ÀB')", ("àb", None)),
        ("UPPER('straße')", ("STRASSE", None)),
        ("TRIM('\u2003\u00a0 x \u3000\t')", ("x", None)),  # Unicode White_Space
        ("TRIM('\x1cx\x1f')", ("\x1cx\x1f", None)),  # not White_Space, though str.strip() takes them
        ("TRIM('\u200bx')", ("\u200bx", None)),  # zero width space is not White_Space either
        ("LEFT('abc', 0)", ("", None)),
        ("RIGHT('abc', 0)", ("", None)),
        ("RIGHT('abc', 1)", ("c", None)),
        ("RIGHT('abc', 3)", ("abc", None)),
        ("LEFT('abc', '2')", ("ab", None)),
        ("LEFT('abc', 'x')", ("", "cast")),
        ("SUBSTRING('abc', 3)", ("c", None)),
        ("SUBSTRING('abc', -3)", ("abc", None)),
        ("SUBSTRING('abc', 4)", ("", "functionEvaluation")),
        ("SUBSTRING('abc', 1, 0)", ("", None)),
        ("SUBSTRING('abc', 2, 100)", ("bc", None)),
        ("SUBSTRING('abc', 2, -1)", ("", "functionEvaluation")),
        ("SUBSTRING('abc', 0, -1)", ("", "functionEvaluation")),
        ("SUBSTRING('', 0)", ("", None)),
        ("SUBSTRING('', 1)", ("", "functionEvaluation")),
        ("ABS(-5) + ABS(5)", (10, None)),
        ("abs(count)", (7, None)),
        ("LENGTH()", (False, "missingFunction")),
        ("SUBSTRING('a')", (False, "missingFunction")),
        ("NOPE(1) + 1", (0, "missingFunction")),  # the enclosing operator's zero value
        ("LEFT('abc', -1) = 'abc'", (False, "functionEvaluation")),
        ("LEFT(missing, 1)", ("", "missingAttribute")),  # a failing argument: the call's zero value
    ],
)
def test_builtin_functions(text: str, expected: tuple[object, str | None]) -> None:
    value, kind = run(text)
    assert (value, kind) == expected and type(value) is type(expected[0])


def test_concat_is_bounded() -> None:
    """Nested in its own delimiter, CONCAT_WS would double and redouble a String; the bound stops it
    before the String is built."""
    text = "'x'"
    for _ in range(40):
        text = f"CONCAT_WS({text}, 'a', 'b', 'c')"
    assert run(f"LENGTH({text})") == (0, "functionEvaluation")
    small = cefmt.sql.compile("CONCAT('abc', 'def')", max_string_length=5).evaluate(EVENT)
    assert small.value == "" and small.error is not None and "over the limit of 5" in str(small.error)
    assert cefmt.sql.compile("CONCAT('abc', 'de')", max_string_length=5).evaluate(EVENT).value == "abcde"


# -- errors and their values (sections 3.2, 3.3, 4.1) --------------------------------------------------------


def test_an_error_gives_the_zero_value_of_the_expression_type() -> None:
    assert run("missing") == (False, "missingAttribute")  # type unknown: Boolean
    assert run("missing * 5") == (0, "missingAttribute")
    assert run("CONCAT(missing)") == ("", "missingAttribute")
    assert run("1 / missing") == (0, "missingAttribute")  # not a division by zero
    assert run("LOWER(missing) = ''") == (False, "missingAttribute")
    assert run("INT('x') + 5") == (0, "cast")
    assert run("RIGHT('abc', -1)") == ("abc", "functionEvaluation")  # the function's own value, at the top


def test_errors_are_cefmt_errors_with_messages() -> None:
    result = cefmt.sql.compile("ttl / (hop - 5)").evaluate(EVENT)
    assert isinstance(result.error, cefmt.sql.MathError) and isinstance(result.error, cefmt.CloudEventError)
    assert str(result.error) == "division by zero"
    assert result.errors == (result.error,) and not result.ok
    missing = cefmt.sql.compile("nothing").evaluate(EVENT).error
    assert isinstance(missing, cefmt.sql.MissingAttributeError) and missing.attribute == "nothing"
    cast = cefmt.sql.compile("INT(word)").evaluate(EVENT).error
    assert str(cast) == "cannot cast the String 'TRUE' to Integer"
    unknown = cefmt.sql.compile("NOPE(1, 2)").evaluate(EVENT).error
    assert isinstance(unknown, cefmt.sql.MissingFunctionError)
    assert (unknown.function, unknown.arity) == ("NOPE", 2)
    assert str(unknown) == "cannot call NOPE with 2 arguments: no such function"
    wrong = cefmt.sql.compile("ABS(1, 2)").evaluate(EVENT).error
    assert str(wrong) == "cannot call ABS with 2 arguments: ABS takes 1 argument"
    ok = cefmt.sql.compile("TRUE").evaluate(EVENT)
    assert ok == Result(True) and ok.ok and ok.errors == ()


def test_each_evaluation_reports_a_new_error() -> None:
    expr = cefmt.sql.compile("nothing = 1")
    first, second = expr.evaluate(EVENT).error, expr.evaluate(EVENT).error
    assert first is not second and str(first) == str(second)


def test_matches_is_true_only_for_true_without_error() -> None:
    assert cefmt.sql.compile("flag").matches(EVENT) is True
    assert cefmt.sql.compile("count").matches(EVENT) is False  # 7 is not a Boolean
    assert cefmt.sql.compile("'true'").matches(EVENT) is False
    assert cefmt.sql.compile("RIGHT('abc', -1) = 'abc'").matches(EVENT) is False
    assert cefmt.sql.compile("NOT nothing").matches(EVENT) is False
    assert cefmt.sql.compile("nothing OR TRUE").matches(EVENT) is False


# -- inputs ----------------------------------------------------------------------------------------------


def test_a_mapping_or_an_sdk_event_is_read_as_a_cloudevent() -> None:
    expr = cefmt.sql.compile("type = 'a' AND n + 1 = 3")
    attributes = {"specversion": "1.0", "id": "1", "source": "/s", "type": "a", "n": 2, "data": {"x": 1}}
    assert expr.matches(attributes)

    class SdkEvent:
        def get_attributes(self) -> dict[str, object]:
            return {key: value for key, value in attributes.items() if key != "data"}

    assert expr.evaluate(SdkEvent()) == Result(True)


def test_anything_else_raises() -> None:
    with pytest.raises(cefmt.sql.GenericError, match="not int"):
        cefmt.sql.compile("TRUE").evaluate(42)
    with pytest.raises(cefmt.InvalidAttributeError):
        cefmt.sql.compile("TRUE").matches({"specversion": "1.0", "id": "1", "source": "/s", "type": "a", "X": 1})
    with pytest.raises(cefmt.MissingAttributeError):
        cefmt.sql.compile("TRUE").matches({"id": "1"})


def test_the_event_is_not_changed() -> None:
    before = pickle.dumps(EVENT)
    cefmt.sql.compile("CONCAT(UPPER(subject), LOWER(type)) = '' OR count * 2 = 14").evaluate(EVENT)
    assert pickle.dumps(EVENT) == before


# -- the compiled expression -----------------------------------------------------------------------------


def test_an_expression_pickles_and_compiles_again() -> None:
    expr = cefmt.sql.compile("subject LIKE 'orders/%' AND count > 5", max_depth=10, max_string_length=100)
    copy = pickle.loads(pickle.dumps(expr))
    assert copy.text == expr.text and copy.tree == expr.tree and copy.matches(EVENT)
    assert copy._options == expr._options
    assert repr(copy) == "Expression(\"subject LIKE 'orders/%' AND count > 5\")"


def test_deep_expressions_give_the_same_value_in_every_part() -> None:
    """Expressions deeper than one generated function are split into several; the value does not change."""
    for depth in (7, 8, 9, 16, 17, 63):
        text = "count"
        for level in range(depth - 1):
            text = f"({text} + {level % 3})" if level % 2 else f"ABS({text})"
        value, kind = run(text)
        expected = 7 + sum(level % 3 for level in range(depth - 1) if level % 2)
        assert (value, kind) == (expected, None)


def test_an_expression_is_safe_to_share_between_threads() -> None:
    expr = cefmt.sql.compile("subject LIKE 'orders/%' AND INT(seq) * count = 70 AND nothing = 1")
    results: list[tuple[object, ...]] = []

    def work() -> None:
        for _ in range(2000):
            result = expr.evaluate(EVENT)
            results.append((result.value, type(result.error)))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) == {(False, cefmt.sql.MissingAttributeError)} and len(results) == 8000


def test_the_generated_code_holds_no_text_from_the_expression() -> None:
    """Literals and names reach the generated functions as bound constants, never as source text."""
    from cefmt.sql._compiler import compile_tree
    from cefmt.sql._functions import default_functions

    hostile = "x = '\\'); import os; os.system(\\'echo pwned\\') #' OR LOWER(\"__import__('os')\") = y"
    tree = cefmt.sql.compile(hostile).tree
    source = compile_tree(tree, default_functions, 100).source
    assert "import" not in source and "pwned" not in source and "__import__" not in source
    assert run(hostile) == (False, "missingAttribute")
