"""Syntax tree to Python: each expression becomes two small generated functions, ``value(event)`` and
``matches(event)``, so that evaluating it costs about what the same test written by hand in Python costs.

What the generator writes is fixed templates, names it makes itself (``_t3``, ``_k5``) and integer
constants: every value from the expression (strings, integers, LIKE matchers, IN sets) and every function
reaches the generated code as a name bound in its namespace, never as source text, so no expression can
inject code. Static types decide the casts at compile time where they are known (a literal, a core
attribute); the rest (extensions, whose type is the event's) are cast at run time.

Types are Python classes: ``str``, ``int``, ``bool`` for the CESQL types and ``object`` for a value whose
type is known only when the event is (an extension attribute, the result of a call that cannot be
dispatched).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from cefmt._event import CloudEvent

from ._ast import Attribute, Binary, Call, Exists, In, Like, Literal, Logical, Node, Unary
from ._builtins import UNICODE_WHITESPACE, make_concat
from ._errors import GenericError, MissingFunctionError
from ._functions import FunctionRegistry
from ._like import compile_like, split_pattern
from ._runtime import (
    INT_MAX,
    INT_MIN,
    PRIMITIVES,
    Fail,
    Value,
    any_to_bool,
    any_to_int,
    any_to_str,
    cast_function,
    divide,
    equals,
    exclusive_or,
    extension_value,
    member,
    member_of_literals,
    missing,
    overflow,
    raise_prepared,
    remainder,
    str_to_bool,
    str_to_int,
    time_text,
)

__all__ = ["Compiled", "as_event", "compile_tree"]

_REQUIRED = frozenset({"id", "source", "type", "specversion"})
_OPTIONAL = frozenset({"datacontenttype", "subject"})
# Each generated function holds at most this many tree levels; deeper parts move into functions of their
# own, which keeps generated expressions far from CPython's limit of 200 nested parentheses.
_LEVELS_PER_FUNCTION = 8
_CAST_NAMES = {str: "_any_to_str", int: "_any_to_int", bool: "_any_to_bool"}
_EXTENSIONS = "_ext_items"


def as_event(value: object) -> CloudEvent:
    """The event to evaluate against: a :class:`~cefmt.CloudEvent`, or one built from a mapping of
    attributes or from an object with ``get_attributes()`` (another SDK's event). ``data`` is ignored:
    CESQL does not read it.
    """
    if isinstance(value, CloudEvent):
        return value
    getter = getattr(value, "get_attributes", None)
    if callable(getter):
        value = getter()
    if hasattr(value, "items") and hasattr(value, "keys"):
        attributes = {name: item for name, item in value.items() if name not in ("data", "data_base64")}
        return CloudEvent.from_attributes(attributes)
    raise GenericError(f"an expression reads a cefmt.CloudEvent or a mapping of attributes, not {type(value).__name__}")


def _schema(event: CloudEvent, name: str) -> Value:
    # CloudEvents 0.3 calls the attribute schemaurl, 1.0 dataschema; the record keeps one field for both.
    if (name == "schemaurl") == (event.specversion == "0.3"):
        if event.dataschema is None:
            missing(name)
        return event.dataschema
    if name != "schemaurl" or name not in event.extensions:
        missing(name)
    value = event.extensions[name]
    if type(value) in PRIMITIVES:
        return value  # type: ignore[return-value]
    return extension_value(value, name)


def _schema_exists(event: CloudEvent, name: str) -> bool:
    if (name == "schemaurl") == (event.specversion == "0.3"):
        return event.dataschema is not None
    return name == "schemaurl" and name in event.extensions


def _as_root(call: Callable[..., Value]) -> Callable[..., Value]:
    """``call`` marking its own failures as the expression's: its value is then the expression's value."""

    def root(*args: Value) -> Value:
        try:
            return call(*args)
        except Fail as failure:
            failure.root = True
            raise

    return root


_BASE: dict[str, object] = {
    "__builtins__": builtins,
    "_Event": CloudEvent,
    "_Fail": Fail,
    "_as_event": as_event,
    "_missing": missing,
    "_extension_value": extension_value,
    "_PRIMITIVES": PRIMITIVES,
    "_time_text": time_text,
    "_schema": _schema,
    "_schema_exists": _schema_exists,
    "_any_to_str": any_to_str,
    "_any_to_int": any_to_int,
    "_any_to_bool": any_to_bool,
    "_str_to_int": str_to_int,
    "_str_to_bool": str_to_bool,
    "_overflow": overflow,
    "_divide": divide,
    "_remainder": remainder,
    "_equals": equals,
    "_member": member,
    "_member_of_literals": member_of_literals,
    "_xor": exclusive_or,
    "_raise_prepared": raise_prepared,
    "_whitespace": UNICODE_WHITESPACE,
}


class Compiled:
    """The generated functions of one expression, and what the compiler learnt on the way."""

    __slots__ = ("kind", "matches", "source", "unresolved", "value")

    def __init__(
        self,
        value: Callable[[Any], Value],
        matches: Callable[[Any], bool],
        kind: type,
        unresolved: tuple[Fail, ...],
        source: str,
    ) -> None:
        self.value = value
        self.matches = matches
        self.kind = kind
        self.unresolved = unresolved
        self.source = source


def compile_tree(tree: Node, functions: FunctionRegistry, max_string_length: int) -> Compiled:
    """Generate, compile and bind the functions for ``tree``."""
    generator = _Generator(functions, max_string_length)
    code, kind = generator.code(tree, root=True)
    prologue = f"{_EXTENSIONS} = ev.extensions._items\n    " if _EXTENSIONS in code else ""
    # A Boolean expression's code gives a bool already; anything else must be exactly True to match.
    verdict = code if kind is bool else f"{code} is True"
    source = "\n".join(generator.hoisted) + (
        "\ndef _value(ev):\n"
        "    if ev.__class__ is not _Event:\n"
        "        ev = _as_event(ev)\n"
        f"    {prologue}return {code}\n"
        "\ndef _matches(ev):\n"
        "    if ev.__class__ is not _Event:\n"
        "        ev = _as_event(ev)\n"
        "    try:\n"
        f"        {prologue.replace(chr(10) + '    ', chr(10) + '        ')}return {verdict}\n"
        "    except _Fail:\n"
        "        return False\n"
    )
    namespace = dict(_BASE)
    namespace.update(generator.names)
    try:
        exec(builtins.compile(source, "<cesql>", "exec"), namespace)  # generated from fixed templates (see above)
    except (RecursionError, MemoryError) as exc:
        raise GenericError("the expression is too large for Python to compile") from exc
    return Compiled(
        namespace["_value"],  # type: ignore[arg-type]
        namespace["_matches"],  # type: ignore[arg-type]
        kind,
        tuple(generator.unresolved),
        source,
    )


class _Generator:
    def __init__(self, functions: FunctionRegistry, max_string_length: int) -> None:
        self.functions = functions
        self.max_string_length = max_string_length
        self.names: dict[str, object] = {}
        self.hoisted: list[str] = []
        self.unresolved: list[Fail] = []
        self.counter = 0
        self._concat: tuple[Callable[..., str], Callable[..., str]] | None = None

    def new(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, value: object) -> str:
        name = self.new("_k")
        self.names[name] = value
        return name

    # -- casts -------------------------------------------------------------------------------------------

    def cast(self, code: str, source: type, target: type) -> str:
        """``code`` (of type ``source``) converted to ``target`` by CESQL 1.0, section 3.7."""
        if target is object or source is target:
            return code
        if source is object:
            temp = self.new("_t")
            return f"({temp} if ({temp} := {code}).__class__ is {target.__name__} else {_CAST_NAMES[target]}({temp}))"
        if source is int:
            return f"str({code})" if target is str else f"({code} != 0)"
        if source is bool:
            return f"(1 if {code} else 0)" if target is int else f"('true' if {code} else 'false')"
        return f"_str_to_int({code})" if target is int else f"_str_to_bool({code})"

    # -- nodes -------------------------------------------------------------------------------------------

    def code(self, node: Node, root: bool = False) -> tuple[str, type]:
        code, kind = self._node(node, root)
        if not root and node.depth % _LEVELS_PER_FUNCTION == 0:
            name = self.new("_part")
            prologue = f"{_EXTENSIONS} = ev.extensions._items\n    " if _EXTENSIONS in code else ""
            self.hoisted.append(f"def {name}(ev):\n    {prologue}return {code}\n")
            code = f"{name}(ev)"
        return code, kind

    def _node(self, node: Node, root: bool) -> tuple[str, type]:
        if isinstance(node, Literal):
            return self.const(node.value), type(node.value)
        if isinstance(node, Attribute):
            return self.attribute(node.name)
        if isinstance(node, Exists):
            return self.exists(node.name), bool
        if isinstance(node, Unary):
            code, kind = self.code(node.operand)
            if node.op == "NOT":
                return f"(not {self.cast(code, kind, bool)})", bool
            temp = self.new("_t")
            number = self.cast(code, kind, int)
            return f"({temp} if ({temp} := -{number}) <= {INT_MAX} else _overflow('-'))", int
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Logical):
            parts = []
            for operand in node.operands:
                code, kind = self.code(operand)
                parts.append(self.cast(code, kind, bool))
            if node.op == "XOR":
                return (f"({parts[0]} != {parts[1]})" if len(parts) == 2 else f"_xor({', '.join(parts)})"), bool
            return f"({f' {node.op.lower()} '.join(parts)})", bool
        if isinstance(node, Like):
            return self.like(node), bool
        if isinstance(node, In):
            return self.member(node), bool
        return self.call(node, root)

    def attribute(self, name: str) -> tuple[str, type]:
        if name in _REQUIRED:
            return f"ev.{name}", str
        temp = self.new("_t")
        key = self.const(name)
        if name in _OPTIONAL:
            return f"({temp} if ({temp} := ev.{name}) is not None else _missing({key}))", str
        if name == "time":
            return f"(_time_text({temp}) if ({temp} := ev.time) is not None else _missing({key}))", str
        if name == "dataschema":
            return f"_schema(ev, {key})", str
        if name == "schemaurl":
            return f"_schema(ev, {key})", object
        return (
            f"({temp} if ({temp} := {_EXTENSIONS}.get({key})).__class__ in _PRIMITIVES "
            f"else _extension_value({temp}, {key}))"
        ), object

    def exists(self, name: str) -> str:
        # Section 3.4.4: "EXISTS MUST always return true for the REQUIRED context attributes".
        if name in _REQUIRED:
            return "True"
        if name in _OPTIONAL or name == "time":
            return f"(ev.{name} is not None)"
        if name in ("dataschema", "schemaurl"):
            return f"_schema_exists(ev, {self.const(name)})"
        return f"({self.const(name)} in {_EXTENSIONS})"

    def binary(self, node: Binary) -> tuple[str, type]:
        op = node.op
        left, left_kind = self.code(node.left)
        right, right_kind = self.code(node.right)
        if op in ("=", "!=", "<>"):
            # "=" is defined for String, Integer and Boolean pairs: the right operand's type picks the
            # definition and the left operand is cast to it (section 3.7, the ambiguous binary case).
            if right_kind is object:
                test = f"_equals({left}, {right})"
            else:
                test = f"({self.cast(left, left_kind, right_kind)} == {right})"
            return (test if op == "=" else f"(not {test})"), bool
        left = self.cast(left, left_kind, int)
        right = self.cast(right, right_kind, int)
        if op in ("<", "<=", ">", ">="):
            return f"({left} {op} {right})", bool
        if op == "/":
            return f"_divide({left}, {right})", int
        if op == "%":
            return f"_remainder({left}, {right})", int
        temp = self.new("_t")
        return f"({temp} if {INT_MIN} <= ({temp} := {left} {op} {right}) <= {INT_MAX} else _overflow('{op}'))", int

    def like(self, node: Like) -> str:
        code, kind = self.code(node.operand)
        text = self.cast(code, kind, str)
        pieces = split_pattern(node.pattern)
        plain = None
        if all(char is not None for piece in pieces for char in piece):
            plain = ["".join(char for char in piece if char is not None) for piece in pieces]
        if plain is not None and len(plain) == 1:
            test = f"({text} == {self.const(plain[0])})"
        elif plain is not None and len(plain) == 2 and not plain[1]:
            test = f"{text}.startswith({self.const(plain[0])})" if plain[0] else f"({text} is not None)"
        elif plain is not None and len(plain) == 2 and not plain[0]:
            test = f"{text}.endswith({self.const(plain[1])})"
        elif plain is not None and len(plain) == 3 and not plain[0] and not plain[2]:
            test = f"({self.const(plain[1])} in {text})"
        else:
            test = f"{self.const(compile_like(node.pattern))}({text})"
        return f"(not {test})" if node.negated else test

    def member(self, node: In) -> str:
        code, kind = self.code(node.operand)
        if all(isinstance(item, Literal) for item in node.items):
            values = tuple(item.value for item in node.items)  # type: ignore[union-attr]
            if kind is object:
                sets = {target: _prepare(values, target) for target in (str, int, bool)}
                strings = sets[str]
                if isinstance(strings, Fail):
                    test = f"_member_of_literals({code}, {self.const(sets)})"
                else:  # the usual case, a String, without a call
                    temp = self.new("_t")
                    test = (
                        f"({temp} in {self.const(strings)} if ({temp} := {code}).__class__ is str "
                        f"else _member_of_literals({temp}, {self.const(sets)}))"
                    )
            else:
                prepared = _prepare(values, kind)
                if isinstance(prepared, Fail):
                    test = f"_raise_prepared({self.const(prepared)}, {code})"
                else:
                    test = f"({code} in {self.const(prepared)})"
        else:
            items = [self.code(item) for item in node.items]
            if kind is object:
                test = f"_member({code}, ({', '.join(item for item, _ in items)},))"
            else:
                cast = [self.cast(item, item_kind, kind) for item, item_kind in items]
                test = f"({code} in ({', '.join(cast)},))"
        return f"(not {test})" if node.negated else test

    def call(self, node: Call, root: bool) -> tuple[str, type]:
        resolved = self.functions.resolve(node.name, len(node.args))
        if resolved.failure is not None:
            # "When a function invocation cannot be dispatched, the return value is false, and a
            # MissingFunctionError is also returned" (section 3.5).
            self.unresolved.append(resolved.failure)
            return f"_raise_prepared({self.const(resolved.failure)})", object
        args = [self.code(arg) for arg in node.args]
        builtin = resolved.builtin
        if builtin is not None:
            if builtin.converts:
                code, kind = args[0]
                return self.cast(code, kind, builtin.returns), builtin.returns
            params = [builtin.args[i] if i < len(builtin.args) else builtin.variadic for i in range(len(args))]
            values = [self.cast(code, kind, param) for (code, kind), param in zip(args, params, strict=True)]  # type: ignore[arg-type]
            if builtin.template is not None:
                return builtin.template.format(*values), builtin.returns
            if builtin.name in ("CONCAT", "CONCAT_WS"):
                if self._concat is None:
                    self._concat = make_concat(self.max_string_length)
                concat, concat_ws = self._concat
                if builtin.name == "CONCAT":
                    function: Callable[..., Value] = concat
                    values = [f"({''.join(value + ', ' for value in values)})"]
                else:
                    function = concat_ws
                    values = [values[0], f"({''.join(value + ', ' for value in values[1:])})"]
            else:
                function = builtin.call  # type: ignore[assignment]
            name = self.const(_as_root(function) if root else function)
            return f"{name}({', '.join(values)})", builtin.returns
        user = resolved.function
        assert user is not None and resolved.invoke is not None
        params = [user.args[i] if i < len(user.args) else user.variadic for i in range(len(args))]
        values = [self.cast(code, kind, param) for (code, kind), param in zip(args, params, strict=True)]  # type: ignore[arg-type]
        name = self.const(_as_root(resolved.invoke) if root else resolved.invoke)
        return f"{name}({', '.join(values)})", user.returns


def _prepare(values: tuple[Value, ...], target: type) -> frozenset[Value] | Fail:
    """The literals of an IN set cast to ``target`` ahead of time, or the failure the first bad one gives."""
    cast = cast_function(target)
    try:
        return frozenset(cast(value) for value in values)
    except Fail as failure:
        return failure


def unresolved_errors(compiled: Compiled) -> tuple[MissingFunctionError, ...]:
    """The errors of the calls in an expression that cannot be dispatched."""
    return tuple(failure.error() for failure in compiled.unresolved)  # type: ignore[misc]
