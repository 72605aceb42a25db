"""The built-in functions every CESQL engine must have (CESQL 1.0, section 3.5) and the casting functions
the spec names (``INT``, ``BOOL``, ``STRING``: "cast to Integer using the same semantics of INT").

Each built-in is a :class:`Builtin`: its signature, and either a template the code generator writes
inline (``LENGTH(x)`` is ``len(x)``) or a Python function it calls. A built-in that fails raises
:class:`~cefmt.sql._runtime.Fail` with the value the spec says it still returns.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ._errors import FunctionEvaluationError, MathError
from ._runtime import INT_MAX, INT_MIN, Fail

__all__ = ["BUILTINS", "DEFAULT_MAX_STRING_LENGTH", "Builtin", "builtin_for"]

#: The longest String ``CONCAT`` and ``CONCAT_WS`` build, in characters.
DEFAULT_MAX_STRING_LENGTH = 1 << 20

# "leading and trailing whitespaces (as defined by unicode) ... This does not remove any characters which
# are not unicode whitespace characters, such as control characters" (section 3.5.1): the White_Space
# property. str.strip() alone would also take U+001C..U+001F, which are not White_Space.
UNICODE_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


@attrs.frozen
class Builtin:
    """One built-in overload. ``template`` formats the arguments' code (``{0}``, ``{1}`` ...) inline;
    otherwise ``call`` is called. ``can_fail`` says whether ``call`` may return a value with an error;
    ``converts`` marks the casting functions, whose whole work is the cast of their argument.
    """

    name: str
    args: tuple[type, ...]
    variadic: type | None
    returns: type
    call: Callable[..., object] | None = None
    template: str | None = None
    can_fail: bool = False
    converts: bool = False

    def signature(self) -> str:
        from ._runtime import type_name  # noqa: PLC0415 - keeps the import graph one-way

        params = [type_name(kind) for kind in self.args]
        if self.variadic is not None:
            params.append(type_name(self.variadic) + "...")
        return f"{self.name}({', '.join(params)}) -> {type_name(self.returns)}"


def _fail(name: str, message: str, value: str | int) -> Fail:
    return Fail(_evaluation_error, name, message, value=value)


def _evaluation_error(name: str, message: str) -> FunctionEvaluationError:
    return FunctionEvaluationError(message, function=name)


def left(text: str, count: int) -> str:
    """ "the first y characters of x, or returns x if LENGTH(x) <= y. Returns x if y < 0" and an error."""
    if count < 0:
        raise _fail("LEFT", f"the length {count} is negative", text)
    return text[:count]


def right(text: str, count: int) -> str:
    """The last ``count`` characters; ``x`` itself and an error for a negative count."""
    if count < 0:
        raise _fail("RIGHT", f"the length {count} is negative", text)
    return text[len(text) - count :] if count < len(text) else text


def _start(name: str, text: str, position: int) -> int:
    # "Characters' index starts from 1. If pos is negative, the beginning of the substring is pos
    # characters from the end of the string. ... Returns the empty string and a FunctionEvaluationError
    # if pos > LENGTH(x) OR pos < -LENGTH(x)".
    size = len(text)
    if position > size or position < -size:
        raise _fail(name, f"the position {position} is outside a String of length {size}", "")
    return position - 1 if position > 0 else size + position


def substring(text: str, position: int) -> str:
    """From ``position`` to the end; position 0 gives the empty String."""
    start = _start("SUBSTRING", text, position)
    return "" if position == 0 else text[start:]


def substring_length(text: str, position: int, length: int) -> str:
    """``length`` characters from ``position``, fewer where the String ends first."""
    start = _start("SUBSTRING", text, position)
    if length < 0:
        raise _fail("SUBSTRING", f"the length {length} is negative", "")
    return "" if position == 0 else text[start : start + length]


def absolute(number: int) -> int:
    """``ABS``; for -2147483648 it "returns 2147483647 as well as a MathError"."""
    if number == INT_MIN:
        raise Fail(MathError, "ABS(-2147483648) is outside the 32-bit signed Integer range", value=INT_MAX)
    return -number if number < 0 else number


def make_concat(limit: int) -> tuple[Callable[[tuple[str, ...]], str], Callable[[str, tuple[str, ...]], str]]:
    """``CONCAT`` and ``CONCAT_WS`` that refuse to build a String longer than ``limit`` characters.

    The bound is checked before joining: without it ``CONCAT_WS`` nested in its own delimiter grows a
    String exponentially in the nesting depth.
    """

    def concat(parts: tuple[str, ...]) -> str:
        size = sum(map(len, parts))
        if size > limit:
            raise _fail("CONCAT", f"the result would be {size} characters, over the limit of {limit}", "")
        return "".join(parts)

    def concat_ws(delimiter: str, parts: tuple[str, ...]) -> str:
        size = sum(map(len, parts)) + len(delimiter) * max(len(parts) - 1, 0)
        if size > limit:
            raise _fail("CONCAT_WS", f"the result would be {size} characters, over the limit of {limit}", "")
        return delimiter.join(parts)

    return concat, concat_ws


_S, _I, _B, _A = str, int, bool, object

#: Every built-in overload, by upper-case name. ``CONCAT``/``CONCAT_WS`` are wired by the code generator
#: (they need the compile-time string limit); their entries here carry the signatures.
BUILTINS: dict[str, tuple[Builtin, ...]] = {
    "LENGTH": (Builtin("LENGTH", (_S,), None, _I, template="len({0})"),),
    "CONCAT": (Builtin("CONCAT", (), _S, _S, can_fail=True),),
    "CONCAT_WS": (Builtin("CONCAT_WS", (_S,), _S, _S, can_fail=True),),
    "LOWER": (Builtin("LOWER", (_S,), None, _S, template="{0}.lower()"),),
    "UPPER": (Builtin("UPPER", (_S,), None, _S, template="{0}.upper()"),),
    "TRIM": (Builtin("TRIM", (_S,), None, _S, template="{0}.strip(_whitespace)"),),
    "LEFT": (Builtin("LEFT", (_S, _I), None, _S, call=left, can_fail=True),),
    "RIGHT": (Builtin("RIGHT", (_S, _I), None, _S, call=right, can_fail=True),),
    "SUBSTRING": (
        Builtin("SUBSTRING", (_S, _I), None, _S, call=substring, can_fail=True),
        Builtin("SUBSTRING", (_S, _I, _I), None, _S, call=substring_length, can_fail=True),
    ),
    "ABS": (Builtin("ABS", (_I,), None, _I, call=absolute, can_fail=True),),
    # The casting functions take any value; the cast itself is the whole function.
    "INT": (Builtin("INT", (_A,), None, _I, converts=True),),
    "BOOL": (Builtin("BOOL", (_A,), None, _B, converts=True),),
    "STRING": (Builtin("STRING", (_A,), None, _S, converts=True),),
}


def builtin_for(name: str, arity: int) -> Builtin | None:
    """The built-in overload of ``name`` that takes ``arity`` arguments, if there is one."""
    for overload in BUILTINS.get(name, ()):
        if len(overload.args) == arity or (overload.variadic is not None and arity >= len(overload.args)):
            return overload
    return None
