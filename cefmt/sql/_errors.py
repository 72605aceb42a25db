"""The CESQL error kinds (CESQL 1.0, section 3.3), each a :class:`cefmt.CloudEventError`.

An evaluation *returns* its error beside its value (:class:`~cefmt.sql.Result`); only :func:`cefmt.sql.compile`
*raises*, with a :class:`ParseError`. Every class carries ``kind``, the name the CESQL test kit uses for it.
"""

from __future__ import annotations

from cefmt._errors import CloudEventError

__all__ = [
    "CastError",
    "ExpressionLimitError",
    "FunctionDefinitionError",
    "FunctionEvaluationError",
    "GenericError",
    "MathError",
    "MissingAttributeError",
    "MissingFunctionError",
    "ParseError",
    "SQLError",
]


class SQLError(CloudEventError):
    """Base class of the CESQL errors; ``kind`` names the spec's error type (``"math"``, ``"cast"`` ...).

    >>> issubclass(SQLError, CloudEventError)
    True
    """

    kind = "generic"


class GenericError(SQLError):
    """CESQL's *GenericError*: any error the other kinds do not cover (a bad input object, for one)."""

    kind = "generic"


class ParseError(SQLError):
    """The expression text is not CESQL. ``position`` is the 0-based offset of the offending character.

    >>> err = ParseError("unexpected ')'", "a = )", 4)
    >>> str(err), err.position
    ("unexpected ')' at position 4: a = )", 4)
    """

    kind = "parse"

    def __init__(self, reason: str, expression: str, position: int) -> None:
        self.reason = reason
        self.expression = expression
        self.position = position
        super().__init__(f"{reason} at position {position}: {_excerpt(expression, position)}")


class ExpressionLimitError(ParseError):
    """The expression is longer or nests deeper than the limit given to :func:`cefmt.sql.compile`.

    ``limit`` is the keyword (``"max_length"`` or ``"max_depth"``), ``value`` what was found (at least),
    ``maximum`` the limit.
    """

    def __init__(self, limit: str, value: int, maximum: int, expression: str, position: int) -> None:
        self.limit = limit
        self.value = value
        self.maximum = maximum
        super().__init__(f"{limit} {value} exceeds the limit of {maximum}", expression, position)


class MathError(SQLError):
    """A division or remainder by zero, or an Integer result outside the signed 32-bit range."""

    kind = "math"


class CastError(SQLError):
    """A value cannot be converted to the type an operator or function needs (``INT('abc')``)."""

    kind = "cast"


class MissingAttributeError(SQLError):
    """The expression reads an attribute the event does not have; ``attribute`` names it.

    Not to be confused with :class:`cefmt.MissingAttributeError`, which a *required* attribute raises when
    an event is built.
    """

    kind = "missingAttribute"

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute
        super().__init__(f"the event has no attribute {attribute!r}")


class MissingFunctionError(SQLError):
    """No function of that name takes that many arguments, or its plugin failed to load.

    ``function`` is the upper-case name, ``arity`` the number of arguments in the call.
    """

    kind = "missingFunction"

    def __init__(self, function: str, arity: int, reason: str) -> None:
        self.function = function
        self.arity = arity
        self.reason = reason
        super().__init__(f"cannot call {function} with {arity} argument{'' if arity == 1 else 's'}: {reason}")


class FunctionEvaluationError(SQLError):
    """A function could not do its work (``LEFT('abc', -1)``); ``function`` names it.

    A user-defined function may raise this itself, with ``value=`` the result it still returns (CESQL 1.0,
    section 3.5.3: a function returns a value of its type even when it fails):

    >>> FunctionEvaluationError("negative length", value="").value
    ''
    """

    kind = "functionEvaluation"

    def __init__(self, message: str, *, function: str | None = None, value: str | int | bool | None = None) -> None:
        self.function = function
        self.value = value
        super().__init__(message if function is None else f"{function}: {message}")


class FunctionDefinitionError(SQLError):
    """A user-defined function cannot be registered: a bad name or type, a clash with a built-in, or an
    overload the spec forbids (CESQL 1.0, section 3.5: the engine "MUST reject" a set of definitions that
    a call could not be dispatched among). ``function`` is the upper-case name.
    """

    def __init__(self, function: str, reason: str) -> None:
        self.function = function
        self.reason = reason
        super().__init__(f"function {function}: {reason}")


def _excerpt(expression: str, position: int, width: int = 60) -> str:
    """The text around ``position``, at most ``width`` characters, control characters escaped."""
    start = max(0, position - width // 2)
    piece = expression[start : start + width]
    shown = "".join(char if char.isprintable() else repr(char)[1:-1] for char in piece)
    return f"{'...' if start > 0 else ''}{shown}{'...' if start + width < len(expression) else ''}"
