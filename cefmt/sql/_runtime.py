"""What compiled expressions call at run time: the type system, its casts, and the failure signal.

CESQL has three primitive types (CESQL 1.0, section 3.1): String, Integer (signed 32-bit) and Boolean,
held here as ``str``, ``int`` and ``bool``. Every attribute value reaches an expression as one of them:
"If the value of the attribute or extension is not one of the primitive CESQL types, it MUST be
represented by the String type" (section 3.2), so Binary values arrive as Base64 and Timestamps as
RFC 3339 text, their canonical strings.

Evaluation fails fast (section 4.1, which section 1.2 asks filters to follow): the first error stops
the work. The helpers signal it by raising :class:`Fail`, which carries how to build the error and,
for a function, the value the function still returns; the expression turns it into a
:class:`~cefmt.sql.Result`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NoReturn

from cefmt._timestamp import format_timestamp
from cefmt._types import canonical_string

from ._errors import CastError, FunctionEvaluationError, MathError, MissingAttributeError, SQLError

__all__ = ["INT_MAX", "INT_MIN", "TYPE_NAMES", "ZERO", "Fail", "Value", "cast_function", "type_name"]

Value = str | int | bool

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1

#: The zero value of each type (CESQL 1.0, section 3.1), what a failed operation returns.
ZERO: dict[type, Value] = {str: "", int: 0, bool: False}
TYPE_NAMES = {str: "String", int: "Integer", bool: "Boolean", object: "Any"}

PRIMITIVES = frozenset({str, int, bool})


def type_name(kind: type) -> str:
    """The CESQL name of a Python type: ``String``, ``Integer``, ``Boolean`` (``Any`` for ``object``)."""
    return TYPE_NAMES[kind]


class Fail(Exception):  # a control-flow signal, never seen outside the package
    """Evaluation stopped with an error; ``make(*args)`` builds it, ``value`` is a function's own result.

    ``root`` is set when the failing function call is the whole expression: only then is its ``value``
    the expression's value; anywhere else the enclosing operator returns its zero value.
    """

    __slots__ = ("args_", "make", "root", "value")

    def __init__(self, make: Callable[..., SQLError], *args: Any, value: Value | None = None) -> None:
        self.make = make
        self.args_ = args
        self.value = value
        self.root = False

    def error(self) -> SQLError:
        return self.make(*self.args_)


# -- reading attributes --------------------------------------------------------------------------------


def missing(name: str) -> NoReturn:
    """Stop: the event has no attribute ``name``."""
    raise Fail(MissingAttributeError, name)


def extension_value(value: object, name: str) -> Value:
    """An extension value that is not a ``str``/``int``/``bool`` as CESQL sees it (absent: stop)."""
    if value is None:
        raise Fail(MissingAttributeError, name)
    if isinstance(value, datetime):
        return format_timestamp(value)
    return canonical_string(value)  # type: ignore[arg-type]


def time_text(value: object) -> str:
    return value if type(value) is str else format_timestamp(value)  # type: ignore[arg-type]


# -- casts (CESQL 1.0, section 3.7) ------------------------------------------------------------------------


def _cast_error(value: Value, target: type) -> CastError:
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    if type(value) is str:
        return CastError(f"cannot cast the String {shown} to {TYPE_NAMES[target]}")
    return CastError(f"cannot cast {shown} to {TYPE_NAMES[target]}")


def str_to_int(text: str) -> int:
    """String -> Integer: "interpreting the string as a 32 bit base 10 integer. The string MAY begin with
    a leading sign '+' or '-'. If the result will overflow or the string is not a valid integer an error
    is returned along with a value of 0."
    """
    if len(text) < 10 and text.isdigit() and text.isascii():
        return int(text)
    digits = text[1:] if text[:1] in ("+", "-") else text
    # isdigit() alone would take other scripts' digits and superscripts; the length check keeps int()
    # from reading a huge string.
    if digits.isascii() and digits.isdigit() and len(digits.lstrip("0")) <= 10:
        number = int(text)
        if INT_MIN <= number <= INT_MAX:
            return number
    raise Fail(_cast_error, text, int)


def str_to_bool(text: str) -> bool:
    """String -> Boolean: ``true``/``false`` in any case; anything else is a cast error (and ``false``)."""
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise Fail(_cast_error, text, bool)


def any_to_str(value: Value) -> str:
    if type(value) is str:
        return value
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def any_to_int(value: Value) -> int:
    if type(value) is str:
        return str_to_int(value)
    if value is True or value is False:
        return 1 if value else 0
    return value  # type: ignore[return-value]


def any_to_bool(value: Value) -> bool:
    if value is True or value is False:
        return value
    if type(value) is int:
        return value != 0
    return str_to_bool(value)  # type: ignore[arg-type]


_TO: dict[type, Callable[[Value], Value]] = {str: any_to_str, int: any_to_int, bool: any_to_bool}


def cast_function(target: type) -> Callable[[Value], Value]:
    """The cast of any value to ``target`` (``str``, ``int`` or ``bool``); ``object`` keeps the value."""
    if target is object:
        return _identity
    cast: Callable[[Value], Value] = _TO[target]
    return cast


def _identity(value: Value) -> Value:
    return value


# -- operators -------------------------------------------------------------------------------------------


def equals(left: Value, right: Value) -> bool:
    """``left = right`` where the right operand's type is known only now: the left is cast to it.

    Section 3.7: "use the y type to search, in the set of ambiguous operators, every definition of the
    operator using the y type as the right parameter type ... cast x to the type of the left parameter".
    """
    return _TO[right.__class__](left) == right


def member(value: Value, items: tuple[Value, ...]) -> bool:
    """``value IN items``, each item cast to the type of ``value`` (section 3.7: "For the IN operator ...
    the left argument MUST be used as the target type to eventually cast the set elements")."""
    cast = _TO[value.__class__]
    found = False
    for item in items:  # every item is cast, so that a bad one is an error wherever it sits in the set
        if cast(item) == value:
            found = True
    return found


def member_of_literals(value: Value, sets: dict[type, frozenset[Value] | Fail]) -> bool:
    """``value IN`` a set of literals cast ahead of time to each type ``value`` may have."""
    prepared = sets[value.__class__]
    if isinstance(prepared, Fail):
        raise Fail(prepared.make, *prepared.args_)
    return value in prepared


def exclusive_or(*operands: bool) -> bool:
    """XOR over a chain: true when an odd number of operands are true."""
    return sum(operands) % 2 == 1


def overflow(op: str) -> NoReturn:
    raise Fail(MathError, f"the result of {op} is outside the 32-bit signed Integer range")


def divide(left: int, right: int) -> int:
    """Integer division rounded towards zero; "Returns 0 and a MathError if y = 0" (section 3.4.2)."""
    if right == 0:
        raise Fail(MathError, "division by zero")
    quotient = abs(left) // abs(right)
    if (left < 0) != (right < 0):
        quotient = -quotient
    if quotient > INT_MAX:  # INT_MIN / -1
        return overflow("/")
    return quotient


def remainder(left: int, right: int) -> int:
    """The remainder "where the result has the same sign as x"; zero divisor: 0 and a MathError."""
    if right == 0:
        raise Fail(MathError, "remainder of a division by zero")
    result = abs(left) % abs(right)
    return -result if left < 0 else result


def raise_prepared(fail: Fail, *evaluated: object) -> NoReturn:
    """Stop with a failure known at compile time, once the operands before it are evaluated."""
    raise Fail(fail.make, *fail.args_)


def evaluation_error(function: str, message: str) -> FunctionEvaluationError:
    return FunctionEvaluationError(message, function=function)
