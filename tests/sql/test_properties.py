"""Properties of cefmt.sql over generated expressions and events: the printer and the parser agree, the
compiled code agrees with an independent interpreter (tests/sql/reference.py), and nothing raises a
foreign exception."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import cefmt.sql
from cefmt import CloudEvent
from cefmt.sql import ParseError, SQLError
from cefmt.sql._ast import (
    Attribute,
    Binary,
    Call,
    Exists,
    In,
    Like,
    Literal,
    Logical,
    Node,
    Unary,
    _representable,
    unparse,
)
from cefmt.sql._functions import FunctionRegistry
from cefmt.sql._like import compile_like
from cefmt.sql._parser import parse
from tests.sql.reference import Reference, like
from tests.strategies import extension_values

NAMES = ["id", "source", "type", "specversion", "subject", "time", "datacontenttype", "dataschema", "schemaurl",
         "num", "flag", "word", "blob", "stamp", "digits", "nothing", "x1"]  # fmt: skip
EXTENSIONS = ["num", "flag", "word", "blob", "stamp", "digits"]
FUNCTIONS = [("LENGTH", 1), ("CONCAT", 0), ("CONCAT", 3), ("CONCAT_WS", 1), ("CONCAT_WS", 3), ("LOWER", 1),
             ("UPPER", 1), ("TRIM", 1), ("LEFT", 2), ("RIGHT", 2), ("SUBSTRING", 2), ("SUBSTRING", 3),
             ("ABS", 1), ("INT", 1), ("BOOL", 1), ("STRING", 1), ("ABS", 2), ("NOPE", 1), ("TWICE", 1),
             ("FAILS", 1)]  # fmt: skip

REGISTRY = FunctionRegistry(group="cefmt.sql.test-none")
REGISTRY.register("TWICE", lambda number: number * 2, args=(int,), returns=int)
REGISTRY.register("FAILS", lambda text: text[100], args=(str,), returns=str)

text_chars = st.sampled_from(list("ab%_\\'\" 1-TtRrUuEe\u00e9\U0001f600\n"))
strings = st.text(text_chars, max_size=8).filter(lambda text: _representable(text, "'") or _representable(text, '"'))
integers = st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, 1, -1, 2**31 - 1, -(2**31), 65536]))
literals = st.one_of(st.booleans(), integers, strings).map(Literal)
leaves = st.one_of(literals, st.sampled_from(NAMES).map(Attribute), st.sampled_from(NAMES).map(Exists))


def _logical(op: str, operands: list[Node]) -> Logical:
    # The parser keeps chains of one operator flat; a generated tree must look the same to round-trip.
    flat: list[Node] = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, Logical) and operand.op == op else [operand])
    return Logical(op, tuple(flat))


def _call(spec: tuple[str, int], args: list[Node]) -> Call:
    name, arity = spec
    return Call(name, tuple((args * arity)[:arity]) if args else tuple(Literal(1) for _ in range(arity)))


def _branches(inner: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Unary, st.sampled_from(["NOT", "NEG"]), inner),
        st.builds(
            Binary, st.sampled_from(["=", "!=", "<>", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"]), inner, inner
        ),
        st.builds(_logical, st.sampled_from(["AND", "OR", "XOR"]), st.lists(inner, min_size=2, max_size=3)),
        st.builds(Like, inner, strings, st.booleans()),
        st.builds(In, inner, st.lists(inner, min_size=1, max_size=3).map(tuple), st.booleans()),
        st.builds(_call, st.sampled_from(FUNCTIONS), st.lists(inner, max_size=3)),
    )


trees = st.recursive(leaves, _branches, max_leaves=12)


@st.composite
def events(draw: st.DrawFn) -> CloudEvent:
    extensions: dict[str, Any] = {}
    for name in EXTENSIONS:
        if draw(st.booleans()):
            extensions[name] = draw(
                st.one_of(extension_values, st.sampled_from(["5", "-3", "true", "FALSE", "0", "x"]))
            )
    optional = {
        "subject": draw(st.sampled_from([None, "a%b", "5", "true"])),
        "time": draw(st.sampled_from([None, "2020-01-01T00:00:00.5+01:00"])),
        "dataschema": draw(st.sampled_from([None, "https://x.example/s"])),
    }
    return CloudEvent(
        type=draw(st.sampled_from(["t", "com.example.a", "10"])),
        source="/s",
        id=draw(st.sampled_from(["1", "-7", "abc"])),
        specversion=draw(st.sampled_from(["1.0", "0.3"])),
        **{key: value for key, value in optional.items() if value is not None},
        **extensions,
    )


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(trees)
@example(Unary("NEG", Literal(5)))
@example(Unary("NEG", Literal(-5)))
@example(Binary("-", Literal(1), Literal(-2)))
@example(Like(Unary("NOT", Attribute("a")), "x"))
@example(_logical("OR", [_logical("AND", [Attribute("a"), Attribute("b")]), Attribute("c")]))
def test_printing_and_parsing_round_trip(tree: Node) -> None:
    text = unparse(tree)
    assert parse(text, max_depth=200) == tree, text
    assert unparse(parse(text, max_depth=200)) == text


@SETTINGS
@given(trees, events())
def test_the_compiled_code_agrees_with_the_reference_interpreter(tree: Node, event: CloudEvent) -> None:
    text = unparse(tree)
    expression = cefmt.sql.compile(text, functions=REGISTRY, max_depth=200)
    result = expression.evaluate(event)
    expected = Reference(REGISTRY).evaluate(tree, event)
    got = (result.value, None if result.error is None else result.error.kind)
    assert got == expected and type(got[0]) is type(expected[0]), text
    assert type(result.value) in (str, int, bool)
    assert result.error is None or isinstance(result.error, SQLError)
    assert expression.matches(event) is (result.value is True and result.error is None)


@SETTINGS
@given(st.text(st.sampled_from(list("ab1()', %_\\=<>!-+*/NOTANDLIKEINEXISTS\"")), max_size=40), events())
def test_any_text_compiles_or_raises_a_parse_error(text: str, event: CloudEvent) -> None:
    try:
        expression = cefmt.sql.compile(text)
    except ParseError:
        return
    result = expression.evaluate(event)
    assert result.error is None or isinstance(result.error, SQLError)
    assert parse(expression.canonical) == expression.tree


@settings(max_examples=1000, deadline=None)
@given(st.text(st.sampled_from(list("ab%_\\")), max_size=10), st.text(st.sampled_from(list("ab%_\\")), max_size=12))
@example("%a%a%a%b", "a" * 12)
@example("a\\", "a\\")
@example("\\%", "\\x")
def test_like_agrees_with_dynamic_programming(pattern: str, text: str) -> None:
    assert compile_like(pattern)(text) is like(text, pattern)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["+", "-", "*", "/", "%", "<", "<=", ">", ">=", "=", "<>"]), integers, integers)
@example("%", -7, 2)
@example("%", 7, -2)
@example("/", -(2**31), -1)
def test_arithmetic_agrees_with_the_reference(op: str, left: int, right: int) -> None:
    tree = Binary(op, Literal(left), Literal(right))
    got = cefmt.sql.compile(unparse(tree)).evaluate(EVENT)
    assert (got.value, None if got.error is None else got.error.kind) == Reference(REGISTRY).evaluate(tree, EVENT)


EVENT = CloudEvent(type="t", source="/s", num=7, word="5")

_WRAPPERS = [
    lambda node: Unary("NOT", node),
    lambda node: Unary("NEG", node),
    lambda node: Binary("+", node, Literal(1)),
    lambda node: Binary("=", Attribute("num"), node),
    lambda node: Call("ABS", (node,)),
    lambda node: Call("LENGTH", (node,)),
    lambda node: Logical("AND", (Literal(True), node)),
    lambda node: In(node, (Literal(1), Attribute("word"))),
    lambda node: Like(node, "1%"),
]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([Attribute("num"), Attribute("word"), Literal(3), Attribute("nothing")]),
       st.lists(st.sampled_from(range(len(_WRAPPERS))), min_size=6, max_size=60))  # fmt: skip
def test_deep_trees_agree_with_the_reference(leaf: Node, wrappers: list[int]) -> None:
    """Trees deeper than one generated function (8 levels) are split into several; nothing changes."""
    tree = leaf
    for index in wrappers:
        tree = _WRAPPERS[index](tree)
    got = cefmt.sql.compile(unparse(tree), max_depth=200).evaluate(EVENT)
    assert (got.value, None if got.error is None else got.error.kind) == Reference(REGISTRY).evaluate(tree, EVENT)
