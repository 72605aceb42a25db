"""The syntax tree of a CESQL expression, and the printer that turns a tree back into canonical text.

Nodes are frozen ``attrs`` records that compare by structure (``position`` is left out of equality), so
``parse(unparse(tree)) == tree`` is a property the tests check. Chains of one logical operator are kept
flat (``a AND b AND c`` is one :class:`Logical` node): AND, OR and XOR are associative, short-circuiting
and failing fast alike whichever way a chain is grouped, and a flat chain keeps a long filter shallow.
"""

from __future__ import annotations

import attrs

__all__ = [
    "PRECEDENCE",
    "Attribute",
    "Binary",
    "Call",
    "Exists",
    "In",
    "Like",
    "Literal",
    "Logical",
    "Node",
    "Unary",
    "quote",
    "unparse",
]

#: Binding strength of each operator, tightest last. CESQL 1.0, section 3.6 orders them: "Function
#: invocations; Unary operators; LIKE operator; EXISTS operator; IN operator; Binary operators (*, /, % /
#: +, - / comparisons / AND, OR, XOR)". Operators of equal precedence are "evaluated left to right".
PRECEDENCE = {
    "AND": 1, "OR": 1, "XOR": 1,
    "=": 2, "!=": 2, "<>": 2, "<": 2, "<=": 2, ">": 2, ">=": 2,
    "+": 3, "-": 3,
    "*": 4, "/": 4, "%": 4,
    "LIKE": 5, "IN": 5,
    "NOT": 6, "NEG": 6,
}  # fmt: skip
_PRIMARY = 7


def _depth(*children: Node) -> int:
    return 1 + max((child.depth for child in children), default=0)


@attrs.frozen
class Literal:
    """A String, Integer or Boolean written in the expression: ``'abc'``, ``-5``, ``TRUE``."""

    value: str | int | bool
    position: int = attrs.field(default=0, eq=False, repr=False)
    depth: int = attrs.field(default=1, eq=False, init=False, repr=False)


@attrs.frozen
class Attribute:
    """A context attribute or extension read by name (lower case): ``subject``, ``myext``."""

    name: str
    position: int = attrs.field(default=0, eq=False, repr=False)
    depth: int = attrs.field(default=1, eq=False, init=False, repr=False)


@attrs.frozen
class Exists:
    """``EXISTS name``: whether the event has the attribute."""

    name: str
    position: int = attrs.field(default=0, eq=False, repr=False)
    depth: int = attrs.field(default=1, eq=False, init=False, repr=False)


@attrs.frozen
class Unary:
    """``NOT x`` (``op`` is ``"NOT"``) or ``-x`` (``op`` is ``"NEG"``)."""

    op: str
    operand: Node
    position: int = attrs.field(default=0, eq=False, repr=False)
    depth: int = attrs.field(eq=False, init=False, repr=False)

    @depth.default
    def _(self) -> int:
        return _depth(self.operand)


@attrs.frozen
class Binary:
    """An arithmetic or comparison operator between two operands; ``<>`` is kept apart from ``!=``."""

    op: str
    left: Node
    right: Node
    position: int = attrs.field(default=0, eq=False, repr=False)
    depth: int = attrs.field(eq=False, init=False, repr=False)

    @depth.default
    def _(self) -> int:
        return _depth(self.left, self.right)


@attrs.frozen
class Logical:
    """``AND``, ``OR`` or ``XOR`` over two or more operands, left to right."""

    op: str
    operands: tuple[Node, ...]
    position: int = attrs.field(default=0, eq=False, repr=False)
    depth: int = attrs.field(eq=False, init=False, repr=False)

    @depth.default
    def _(self) -> int:
        return _depth(*self.operands)


@attrs.frozen
class Like:
    """``x [NOT] LIKE 'pattern'``; the pattern is kept as written (escapes included)."""

    operand: Node
    pattern: str
    negated: bool = False
    position: int = attrs.field(default=0, eq=False, repr=False)
    depth: int = attrs.field(eq=False, init=False, repr=False)

    @depth.default
    def _(self) -> int:
        return _depth(self.operand)


@attrs.frozen
class In:
    """``x [NOT] IN (y1, y2, ...)``."""

    operand: Node
    items: tuple[Node, ...]
    negated: bool = False
    position: int = attrs.field(default=0, eq=False, repr=False)
    depth: int = attrs.field(eq=False, init=False, repr=False)

    @depth.default
    def _(self) -> int:
        return _depth(self.operand, *self.items)


@attrs.frozen
class Call:
    """A function invocation; ``name`` is upper case."""

    name: str
    args: tuple[Node, ...]
    position: int = attrs.field(default=0, eq=False, repr=False)
    depth: int = attrs.field(eq=False, init=False, repr=False)

    @depth.default
    def _(self) -> int:
        return _depth(*self.args)


Node = Literal | Attribute | Exists | Unary | Binary | Logical | Like | In | Call


def quote(value: str) -> str:
    """``value`` as a CESQL string literal, single-quoted where it can be.

    Inside a literal, a backslash followed by the delimiting quote stands for the quote and any other
    backslash stands for itself (CESQL 1.0, section 2.2: ``"'" ( [^'] | "\\'" )* "'"``). So a value whose
    run of backslashes meets a quote or the end of the text with an odd length cannot be written with
    that quote; such a value raises ``ValueError`` when neither quote can carry it (a trailing backslash,
    for one).

    >>> quote("it's"), quote('say "hi"')
    ("'it\\\\'s'", '\\'say "hi"\\'')
    """
    for mark in ("'", '"'):
        if _representable(value, mark):
            return mark + value.replace(mark, "\\" + mark) + mark
    raise ValueError(f"no CESQL string literal can hold {value!r}")


def _representable(value: str, mark: str) -> bool:
    run = 0
    for char in value:
        if char == "\\":
            run += 1
            continue
        if char == mark and run % 2:
            return False
        run = 0
    return run % 2 == 0


def unparse(node: Node) -> str:
    """Canonical CESQL text for a tree: upper-case keywords and functions, single spaces, and parentheses
    only where precedence needs them (mixed AND/OR/XOR chains always get them, for the reader).

    >>> from cefmt.sql._parser import parse
    >>> unparse(parse("a=1 and (b or not c)"))
    'a = 1 AND (b OR NOT c)'
    """
    return _unparse(node, 0)


def _unparse(node: Node, minimum: int) -> str:
    text, level = _render(node)
    return f"({text})" if level < minimum else text


def _render(node: Node) -> tuple[str, int]:
    if isinstance(node, Literal):
        value = node.value
        if value is True or value is False:
            return ("TRUE" if value else "FALSE"), _PRIMARY
        if isinstance(value, int):
            return str(value), _PRIMARY
        return quote(value), _PRIMARY
    if isinstance(node, Attribute):
        return node.name, _PRIMARY
    if isinstance(node, Exists):
        return f"EXISTS {node.name}", _PRIMARY
    if isinstance(node, Call):
        return f"{node.name}({', '.join(_unparse(arg, 1) for arg in node.args)})", _PRIMARY
    if isinstance(node, Unary):
        level = PRECEDENCE[node.op]
        operand = _unparse(node.operand, level)
        if node.op == "NOT":
            return f"NOT {operand}", level
        # "- 5" is minus applied to 5, "-5" the literal: a space keeps the two apart.
        gap = " " if operand[:1].isdigit() or operand[:1] in "+-" else ""
        return f"-{gap}{operand}", level
    if isinstance(node, Binary):
        level = PRECEDENCE[node.op]
        return f"{_unparse(node.left, level)} {node.op} {_unparse(node.right, level + 1)}", level
    if isinstance(node, Logical):
        level = PRECEDENCE[node.op]
        return f" {node.op} ".join(_unparse(operand, level + 1) for operand in node.operands), level
    if isinstance(node, Like):
        level = PRECEDENCE["LIKE"]
        keyword = "NOT LIKE" if node.negated else "LIKE"
        return f"{_unparse(node.operand, level)} {keyword} {quote(node.pattern)}", level
    level = PRECEDENCE["IN"]
    keyword = "NOT IN" if node.negated else "IN"
    items = ", ".join(_unparse(item, 1) for item in node.items)
    return f"{_unparse(node.operand, level)} {keyword} ({items})", level
