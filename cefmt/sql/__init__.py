"""CloudEvents SQL (CESQL 1.0): filter and compute over CloudEvents with SQL-like expressions.

Parse once, evaluate many times. An evaluation gives a value and, possibly, the error the spec defines
for it; ``matches`` is the filter: true only for a Boolean ``true`` without error.

>>> import cefmt.sql
>>> from cefmt import CloudEvent
>>> expr = cefmt.sql.compile("type LIKE 'com.example.%' AND INT(ttl) > 3")
>>> expr.matches(CloudEvent(type="com.example.created", source="/s", ttl="10"))
True
>>> expr.evaluate(CloudEvent(type="com.example.created", source="/s"))
Result(value=False, error=MissingAttributeError("the event has no attribute 'ttl'"))

User-defined functions come from the ``cefmt.sql.functions`` entry-point group or from
:func:`register_function`. ``docs/sql.md`` has the language, the type system and the error rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ._builtins import DEFAULT_MAX_STRING_LENGTH
from ._errors import (
    CastError,
    ExpressionLimitError,
    FunctionDefinitionError,
    FunctionEvaluationError,
    GenericError,
    MathError,
    MissingAttributeError,
    MissingFunctionError,
    ParseError,
    SQLError,
)
from ._expression import Expression, Result, compile, evaluate
from ._functions import ENTRY_POINT_GROUP, Function, FunctionInfo, FunctionRegistry, default_functions
from ._parser import DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH, MAX_DEPTH_CEILING

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_LENGTH",
    "DEFAULT_MAX_STRING_LENGTH",
    "ENTRY_POINT_GROUP",
    "MAX_DEPTH_CEILING",
    "CastError",
    "Expression",
    "ExpressionLimitError",
    "Function",
    "FunctionDefinitionError",
    "FunctionEvaluationError",
    "FunctionInfo",
    "FunctionRegistry",
    "GenericError",
    "MathError",
    "MissingAttributeError",
    "MissingFunctionError",
    "ParseError",
    "Result",
    "SQLError",
    "compile",
    "default_functions",
    "evaluate",
    "functions",
    "register_function",
    "unregister_function",
]


def register_function(
    name: str,
    call: Callable[..., object],
    *,
    args: Iterable[type] = (),
    variadic: type | None = None,
    returns: type,
) -> Function:
    """Register a user-defined function at run time in :data:`default_functions` (one overload per call).

    Types are ``str`` (String), ``int`` (Integer), ``bool`` (Boolean) and, for parameters, ``object`` (any
    value, unconverted). Arguments are cast to the declared types before ``call`` runs; an exception from
    ``call`` becomes a :class:`FunctionEvaluationError`. Expressions compiled afterwards see the function.

    >>> register_function("ENDS_WITH", str.endswith, args=(str, str), returns=bool).signature("ENDS_WITH")
    'ENDS_WITH(String, String) -> Boolean'
    >>> from cefmt import CloudEvent
    >>> compile("ENDS_WITH(type, '.created')").matches(CloudEvent(type="order.created", source="/s"))
    True
    >>> unregister_function("ENDS_WITH")
    """
    return default_functions.register(name, call, args=args, variadic=variadic, returns=returns)


def unregister_function(name: str) -> None:
    """Remove every run-time overload of ``name`` from :data:`default_functions` (no error when there is none).

    >>> unregister_function("NEVER_REGISTERED")
    """
    default_functions.unregister(name)


def functions() -> list[FunctionInfo]:
    """Every CESQL function: the built-ins, then user-defined ones with the distribution providing each
    (reads entry-point metadata only; nothing is imported).

    >>> [info.name for info in functions()][:3]
    ['LENGTH', 'CONCAT', 'CONCAT_WS']
    """
    return default_functions.functions()
