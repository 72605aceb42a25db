"""A small, slow, independent CESQL interpreter: the oracle the property tests hold the compiler to.

It walks the syntax tree and follows the spec's text directly (fail fast: the first error stops the
evaluation; the value is then the zero value of the whole expression's type, or a failing top-level
function's own value). LIKE is matched by dynamic programming over the whole text, the casts with a
regular expression, the functions by their definitions in section 3.5. It shares no code with
``cefmt.sql`` beyond the syntax tree and the function registry's definitions.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any

from cefmt import CloudEvent
from cefmt._timestamp import format_timestamp
from cefmt.sql import FunctionEvaluationError
from cefmt.sql._ast import Attribute, Binary, Call, Exists, In, Like, Literal, Logical, Node, Unary

Value = str | int | bool
LOW, HIGH = -(2**31), 2**31 - 1
CORE_STRINGS = {"id", "source", "type", "specversion", "datacontenttype", "subject", "time", "dataschema"}
ZERO: dict[type, Value] = {str: "", int: 0, bool: False}
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)


class Failure(Exception):
    def __init__(self, kind: str, node: Node | None = None, value: Value | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.node = node
        self.value = value


def attributes_of(event: CloudEvent) -> dict[str, Value]:
    """What the expression sees: every attribute as a String, Integer or Boolean."""
    seen: dict[str, Value] = {}
    for key, value in event.get_attributes().items():
        name = "schemaurl" if key == "dataschema" and event.specversion == "0.3" else key
        if isinstance(value, datetime):
            seen[name] = format_timestamp(value)
        elif isinstance(value, bytes):
            seen[name] = base64.b64encode(value).decode()
        else:
            seen[name] = value
    return seen


def to_int(value: Value) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if re.fullmatch(r"[+-]?[0-9]+", value) and LOW <= int(value) <= HIGH:
        return int(value)
    raise Failure("cast")


def to_bool(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Failure("cast")


def to_str(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


CAST = {int: to_int, bool: to_bool, str: to_str, object: lambda value: value}


def like(text: str, pattern: str) -> bool:
    tokens: list[tuple[str, str]] = []
    index = 0
    while index < len(pattern):
        if pattern[index] == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "%_":
            tokens.append(("lit", pattern[index + 1]))
            index += 2
            continue
        char = pattern[index]
        tokens.append(("many", "") if char == "%" else ("one", "") if char == "_" else ("lit", char))
        index += 1
    # matched[j]: the text read so far matches the first j tokens.
    matched = [True] + [False] * len(tokens)
    for j, (kind, _) in enumerate(tokens):
        matched[j + 1] = matched[j] and kind == "many"
    for char in text:
        row = [False] * (len(tokens) + 1)
        for j, (kind, literal) in enumerate(tokens):
            if kind == "many":
                row[j + 1] = row[j] or matched[j + 1]
            else:
                row[j + 1] = matched[j] and (kind == "one" or literal == char)
        matched = row
    return matched[-1]


def checked(number: int) -> int:
    if not LOW <= number <= HIGH:
        raise Failure("math")
    return number


class Reference:
    def __init__(self, functions: Any) -> None:
        self.functions = functions

    def static_type(self, node: Node) -> type:
        if isinstance(node, Literal):
            return type(node.value)
        if isinstance(node, Attribute):
            return str if node.name in CORE_STRINGS else object
        if isinstance(node, (Exists, Logical, Like, In)):
            return bool
        if isinstance(node, Unary):
            return bool if node.op == "NOT" else int
        if isinstance(node, Binary):
            return int if node.op in "+-*/%" else bool
        resolved = self.functions.resolve(node.name, len(node.args))
        if resolved.builtin is not None:
            return resolved.builtin.returns
        if resolved.function is not None:
            return resolved.function.returns
        return object

    def evaluate(self, tree: Node, event: CloudEvent) -> tuple[Value, str | None]:
        self.attributes = attributes_of(event)
        try:
            return self.value(tree), None
        except Failure as failure:
            if failure.node is tree and failure.value is not None:
                return failure.value, failure.kind
            if isinstance(tree, Attribute):
                return False, failure.kind
            return ZERO.get(self.static_type(tree), False), failure.kind

    def value(self, node: Node) -> Value:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Attribute):
            if node.name not in self.attributes:
                raise Failure("missingAttribute")
            return self.attributes[node.name]
        if isinstance(node, Exists):
            return node.name in self.attributes
        if isinstance(node, Unary):
            if node.op == "NOT":
                return not to_bool(self.value(node.operand))
            return checked(-to_int(self.value(node.operand)))
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Logical):
            if node.op == "XOR":
                return sum(to_bool(self.value(operand)) for operand in node.operands) % 2 == 1
            for operand in node.operands:
                truth = to_bool(self.value(operand))
                if truth == (node.op == "OR"):
                    return truth
            return node.op == "AND"
        if isinstance(node, Like):
            return like(to_str(self.value(node.operand)), node.pattern) != node.negated
        if isinstance(node, In):
            return self.member(node) != node.negated
        return self.call(node)

    def binary(self, node: Binary) -> Value:
        if node.op in ("=", "!=", "<>"):
            left = self.value(node.left)
            right_type = self.static_type(node.right)
            if right_type is object:  # the right value's own type decides, once it is known
                right = self.value(node.right)
                equal = CAST[type(right)](left) == right
            else:
                cast_left = CAST[right_type](left)
                equal = cast_left == self.value(node.right)
            return equal if node.op == "=" else not equal
        left = to_int(self.value(node.left))
        right = to_int(self.value(node.right))
        if node.op in ("<", "<=", ">", ">="):
            return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[node.op]
        if node.op in "/%":
            if right == 0:
                raise Failure("math")
            quotient = int(abs(left) / abs(right)) if abs(left) < 2**52 else abs(left) // abs(right)
            quotient = quotient if (left < 0) == (right < 0) else -quotient
            return checked(quotient) if node.op == "/" else left - right * quotient
        return checked({"+": left + right, "-": left - right, "*": left * right}[node.op])

    def member(self, node: In) -> bool:
        value = self.value(node.operand)
        target = self.static_type(node.operand)
        if target is object or all(isinstance(item, Literal) for item in node.items):
            items = [self.value(item) for item in node.items]
            equal = [CAST[type(value)](item) == value for item in items]  # every item is cast
        else:
            equal = [CAST[target](self.value(item)) == value for item in node.items]
        return any(equal)

    def call(self, node: Call) -> Value:
        resolved = self.functions.resolve(node.name, len(node.args))
        if resolved.failure is not None:
            raise Failure("missingFunction")
        definition = resolved.builtin or resolved.function
        params = [
            definition.args[i] if i < len(definition.args) else definition.variadic for i in range(len(node.args))
        ]
        name = node.name
        if resolved.builtin is not None and resolved.builtin.converts:
            return CAST[resolved.builtin.returns](self.value(node.args[0]))
        args = [CAST[param](self.value(arg)) for arg, param in zip(node.args, params, strict=True)]
        if resolved.function is not None:
            try:
                result = resolved.function.call(*args)
            except FunctionEvaluationError as exc:
                raise Failure(
                    "functionEvaluation",
                    node,
                    exc.value if type(exc.value) is resolved.function.returns else ZERO[resolved.function.returns],
                ) from None
            except Exception:  # noqa: BLE001 - the reference maps any failure of a function as the spec says
                raise Failure("functionEvaluation", node, ZERO[resolved.function.returns]) from None
            returns = resolved.function.returns
            if type(result) is not returns or (returns is int and not LOW <= result <= HIGH):
                raise Failure("functionEvaluation", node, ZERO[returns])
            return result
        return self.builtin(name, args, node)

    def builtin(self, name: str, args: list[Any], node: Node) -> Value:
        if name == "LENGTH":
            return len(args[0])
        if name in ("CONCAT", "CONCAT_WS"):
            text = "".join(args) if name == "CONCAT" else args[0].join(args[1:])
            if len(text) > 1 << 20:
                raise Failure("functionEvaluation", node, "")
            return text
        if name == "LOWER":
            return args[0].lower()
        if name == "UPPER":
            return args[0].upper()
        if name == "TRIM":
            return args[0].strip(WHITE_SPACE)
        if name in ("LEFT", "RIGHT"):
            text, count = args
            if count < 0:
                raise Failure("functionEvaluation", node, text)
            if count >= len(text):
                return text
            return text[:count] if name == "LEFT" else text[len(text) - count :]
        if name == "SUBSTRING":
            text, position = args[0], args[1]
            if position > len(text) or position < -len(text) or (len(args) == 3 and args[2] < 0):
                raise Failure("functionEvaluation", node, "")
            if position == 0:
                return ""
            start = position - 1 if position > 0 else len(text) + position
            return text[start:] if len(args) == 2 else text[start : start + args[2]]
        if name == "ABS":
            if args[0] == LOW:
                raise Failure("math", node, HIGH)
            return abs(args[0])
        raise AssertionError(name)
