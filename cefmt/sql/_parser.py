"""Text to syntax tree: a hand-written scanner and a precedence-climbing parser for CESQL 1.0.

The grammar is small (CESQL 1.0, section 2), so a parser library would cost a dependency and speed for
nothing: this one reads an expression in one pass, names the offset of the first problem, and bounds its
own work (``max_length``, ``max_depth``) before the work is done.

Keywords, function names and attribute names are case-insensitive ("Although in the EBNF keywords are
defined using uppercase characters, they are case-insensitive", section 2); attribute names are read
in lower case, function names in upper case.
"""

from __future__ import annotations

from typing import NoReturn

from ._ast import PRECEDENCE, Attribute, Binary, Call, Exists, In, Like, Literal, Logical, Node, Unary
from ._errors import ExpressionLimitError, ParseError

__all__ = ["DEFAULT_MAX_DEPTH", "DEFAULT_MAX_LENGTH", "MAX_DEPTH_CEILING", "parse"]

#: Longest expression text :func:`parse` reads, in characters.
DEFAULT_MAX_LENGTH = 65_536
#: Deepest nesting :func:`parse` accepts: parentheses, operands and arguments each add a level.
DEFAULT_MAX_DEPTH = 64
#: The largest ``max_depth`` allowed: deeper trees would meet Python's own recursion limit.
MAX_DEPTH_CEILING = 200

_KEYWORDS = frozenset({"AND", "OR", "XOR", "NOT", "LIKE", "IN", "EXISTS", "TRUE", "FALSE"})
_SPACE = frozenset(" \t\r\n")
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_DIGITS = frozenset("0123456789")
_SYMBOLS = {"!=": "!=", "<>": "<>", "<=": "<=", ">=": ">="}
_SINGLE = frozenset("=<>+-*/%(),")
_INT_MAX = 2**31 - 1

# Token kinds.
_INT, _STR, _NAME, _KEYWORD, _OP, _END = "integer", "string", "name", "keyword", "operator", "end"


class _Token:
    __slots__ = ("end", "kind", "start", "value")

    def __init__(self, kind: str, value: str, start: int, end: int) -> None:
        self.kind = kind
        self.value = value
        self.start = start
        self.end = end

    def describe(self) -> str:
        if self.kind == _END:
            return "end of expression"
        if self.kind == _STR:
            return "string literal"
        return f"{self.value!r}" if self.kind == _OP else f"{self.kind} {self.value!r}"


def _scan(text: str) -> list[_Token]:
    """Split ``text`` into tokens; one pass, every step consumes at least one character."""
    tokens: list[_Token] = []
    append = tokens.append
    length = len(text)
    at = 0
    while at < length:
        char = text[at]
        if char in _SPACE:
            at += 1
        elif char in _WORD:
            start = at
            while at < length and text[at] in _WORD:
                at += 1
            append(_word(text, start, at))
        elif char in "'\"":
            start = at
            value, at = _string(text, at)
            append(_Token(_STR, value, start, at))
        elif text.startswith(("!=", "<>", "<=", ">="), at):
            append(_Token(_OP, _SYMBOLS[text[at : at + 2]], at, at + 2))
            at += 2
        elif char in _SINGLE:
            append(_Token(_OP, char, at, at + 1))
            at += 1
        else:
            shown = char if char.isprintable() else repr(char)
            raise ParseError(f"unexpected character {shown!r}", text, at)
    append(_Token(_END, "", length, length))
    return tokens


def _word(text: str, start: int, end: int) -> _Token:
    word = text[start:end]
    if word.isdigit():
        return _Token(_INT, word, start, end)
    upper = word.upper()
    if upper in _KEYWORDS:
        return _Token(_KEYWORD, upper, start, end)
    if "_" in word and (not word[0].isalpha() or any(char in _DIGITS for char in word)):
        raise ParseError(
            f"{word!r} is not a name: attribute names are letters and digits, function names letters and '_'",
            text,
            start,
        )
    return _Token(_NAME, word, start, end)


def _string(text: str, start: int) -> tuple[str, int]:
    """The value of the string literal at ``start`` and the offset after it.

    A backslash pairs with the character after it: ``\\'`` in a ``'``-quoted literal (``\\"`` in a
    ``"``-quoted one) stands for the quote, and any other pair stands for itself, so that ``LIKE``
    patterns keep their ``\\%`` and ``\\_``.
    """
    mark = text[start]
    pieces: list[str] = []
    at = start + 1
    quote_at = text.find(mark, at)
    while quote_at >= 0:
        # Each search starts where the last one stopped, so a literal full of backslashes is still read
        # in one pass.
        slash_at = text.find("\\", at, quote_at)
        if slash_at < 0:
            pieces.append(text[at:quote_at])
            return "".join(pieces), quote_at + 1
        pieces.append(text[at:slash_at])
        following = text[slash_at + 1]
        pieces.append(mark if following == mark else text[slash_at : slash_at + 2])
        at = slash_at + 2
        if at > quote_at:
            quote_at = text.find(mark, at)
    raise ParseError(f"unterminated string literal (no closing {mark})", text, start)


def parse(text: str, *, max_length: int = DEFAULT_MAX_LENGTH, max_depth: int = DEFAULT_MAX_DEPTH) -> Node:
    """Parse CESQL text into a tree, or raise :class:`~cefmt.sql.ParseError` naming the offset.

    >>> parse("subject LIKE 'a%' AND EXISTS ttl")  # doctest: +NORMALIZE_WHITESPACE
    Logical(op='AND', operands=(Like(operand=Attribute(name='subject'), pattern='a%', negated=False),
                                Exists(name='ttl')))
    >>> parse("a = )")
    Traceback (most recent call last):
    ...
    cefmt...ParseError: expected an expression, found ')' at position 4: a = )
    """
    if type(text) is not str:
        raise ParseError(f"an expression is text (str), not {type(text).__name__}", "", 0)
    if len(text) > max_length:
        raise ExpressionLimitError("max_length", len(text), max_length, text[:200], max_length)
    parser = _Parser(text, _scan(text), max_depth)
    tree = parser.expression(0, 0)
    token = parser.peek()
    if token.kind != _END:
        parser.fail(f"unexpected {token.describe()} after a complete expression", token)
    return tree


class _Parser:
    """Precedence climbing over the token list; ``depth`` counts the nesting being parsed."""

    def __init__(self, text: str, tokens: list[_Token], max_depth: int) -> None:
        self.text = text
        self.tokens = tokens
        self.at = 0
        self.max_depth = max_depth

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        if token.kind != _END:
            self.at += 1
        return token

    def fail(self, reason: str, token: _Token) -> NoReturn:
        raise ParseError(reason, self.text, token.start)

    def expect(self, value: str, what: str) -> _Token:
        token = self.take()
        if token.kind != _OP or token.value != value:
            self.fail(f"expected {what}, found {token.describe()}", token)
        return token

    def checked(self, node: Node) -> Node:
        if node.depth > self.max_depth:
            raise ExpressionLimitError("max_depth", node.depth, self.max_depth, self.text, node.position)
        return node

    def expression(self, minimum: int, depth: int) -> Node:
        """An expression whose operators all bind at least as tightly as ``minimum``."""
        if depth >= self.max_depth:
            token = self.peek()
            raise ExpressionLimitError("max_depth", depth + 1, self.max_depth, self.text, token.start)
        left = self.prefix(depth)
        chain: list[Node] = []  # the operands of a chain of one logical operator, gathered then built once
        chain_op = ""
        while True:
            token = self.peek()
            if token.kind == _KEYWORD:
                op = token.value
                if op == "NOT":
                    following = self.peek(1)
                    if following.kind != _KEYWORD or following.value not in ("LIKE", "IN"):
                        self.fail("NOT after an operand must be followed by LIKE or IN", following)
                    op = following.value
                elif op not in ("LIKE", "IN", "AND", "OR", "XOR"):
                    self.fail(f"expected an operator, found {token.describe()}", token)
            elif token.kind == _OP and token.value not in ("(", ")", ","):
                op = token.value
            else:
                break
            level = PRECEDENCE[op]
            if level < minimum:
                break
            if op in ("LIKE", "IN"):
                left = self.postfix(left, op, depth)
                continue
            self.take()
            right = self.expression(level + 1, depth + 1)
            if op not in ("AND", "OR", "XOR"):
                left = self.checked(Binary(op, left, right, token.start))
                continue
            if op != chain_op:
                if chain:
                    left = self.chain(chain_op, chain)
                chain_op, chain = op, _operands(op, left)
            chain.extend(_operands(op, right))
        return self.chain(chain_op, chain) if chain else left

    def chain(self, op: str, operands: list[Node]) -> Node:
        return self.checked(Logical(op, tuple(operands), operands[0].position))

    def postfix(self, operand: Node, op: str, depth: int) -> Node:
        start = self.take()
        negated = start.value == "NOT"
        if negated:
            self.take()
        if op == "LIKE":
            pattern = self.take()
            if pattern.kind != _STR:
                # CESQL 1.0, section 3.4.3: "The pattern of the LIKE operator ... MUST be a valid string
                # literal without casting, otherwise the parser MUST return a parse error."
                self.fail(f"LIKE needs a string literal pattern, found {pattern.describe()}", pattern)
            return self.checked(Like(operand, pattern.value, negated, start.start))
        self.expect("(", "'(' opening the IN set")
        items = self.items(depth + 1, "IN set")
        if not items:
            self.fail("an IN set needs at least one element", self.tokens[self.at - 1])
        return self.checked(In(operand, tuple(items), negated, start.start))

    def items(self, depth: int, what: str) -> list[Node]:
        """Comma-separated expressions up to the closing ')' (which is consumed)."""
        items: list[Node] = []
        if self.peek().kind == _OP and self.peek().value == ")":
            self.take()
            return items
        while True:
            items.append(self.expression(1, depth))
            token = self.take()
            if token.kind == _OP and token.value == ")":
                return items
            if token.kind != _OP or token.value != ",":
                self.fail(f"expected ',' or ')' in the {what}, found {token.describe()}", token)

    def prefix(self, depth: int) -> Node:
        token = self.take()
        kind, value = token.kind, token.value
        if kind == _INT:
            return self.integer(value, token.start, token)
        if kind == _STR:
            return Literal(value, token.start)
        if kind == _NAME:
            following = self.peek()
            if following.kind == _OP and following.value == "(":
                return self.call(token, depth)
            if not value.isalnum():
                self.fail(f"{value!r} is not an attribute name (letters and digits only)", token)
            return Attribute(value.lower(), token.start)
        if kind == _KEYWORD:
            if value in ("TRUE", "FALSE"):
                return Literal(value == "TRUE", token.start)
            if value == "NOT":
                operand = self.expression(PRECEDENCE["NOT"], depth + 1)
                return self.checked(Unary("NOT", operand, token.start))
            if value == "EXISTS":
                name = self.take()
                if name.kind != _NAME or not name.value.isalnum():
                    self.fail(f"EXISTS needs an attribute name, found {name.describe()}", name)
                return Exists(name.value.lower(), token.start)
        if kind == _OP:
            following = self.peek()
            if value in "+-" and following.kind == _INT and following.start == token.end:
                # A sign written against the digits is part of the literal (section 2.2:
                # integer-literal ::= ( '+' | '-' )? digit+), so -2147483648 is a valid Integer.
                self.take()
                return self.integer(value + following.value, token.start, token)
            if value == "-":
                operand = self.expression(PRECEDENCE["NEG"], depth + 1)
                return self.checked(Unary("NEG", operand, token.start))
            if value == "(":
                inner = self.expression(0, depth + 1)
                self.expect(")", f"')' to close the '(' opened at {token.start}")
                return inner
        return self.fail(f"expected an expression, found {token.describe()}", token)

    def integer(self, text: str, start: int, token: _Token) -> Literal:
        # Checked on the digit count before int() reads them: a literal of a million digits costs nothing.
        digits = text.lstrip("+-").lstrip("0") or "0"
        limit = _INT_MAX + 1 if text.startswith("-") else _INT_MAX
        if len(digits) > 10 or int(digits) > limit:
            self.fail("integer literal out of the 32-bit signed range", token)
        return Literal(int(text), start)

    def call(self, name: _Token, depth: int) -> Call:
        if not name.value.replace("_", "").isalpha() or not name.value[0].isalpha():
            self.fail(f"{name.value!r} is not a function name (letters and '_', starting with a letter)", name)
        self.take()  # the "("
        args = self.items(depth + 1, f"arguments of {name.value.upper()}")
        node = Call(name.value.upper(), tuple(args), name.start)
        self.checked(node)
        return node


def _operands(op: str, node: Node) -> list[Node]:
    """``node`` as operands of an ``op`` chain: its own operands when it is one already (a parenthesized
    chain of the same operator joins the outer one)."""
    return list(node.operands) if isinstance(node, Logical) and node.op == op else [node]
