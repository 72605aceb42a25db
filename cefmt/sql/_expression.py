"""Compiled expressions: :func:`compile` once, then :meth:`Expression.evaluate` or ``matches`` per event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from cefmt._errors import InvalidAttributeError

from ._ast import Attribute, Node, unparse
from ._builtins import DEFAULT_MAX_STRING_LENGTH
from ._compiler import compile_tree, unresolved_errors
from ._errors import MissingFunctionError, ParseError, SQLError
from ._functions import FunctionRegistry, default_functions
from ._parser import DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH, MAX_DEPTH_CEILING, parse
from ._runtime import ZERO, Fail, Value

__all__ = ["Expression", "Result", "compile", "evaluate"]


@attrs.frozen
class Result:
    """What an evaluation gives (CESQL 1.0, section 1): a value (String, Integer or Boolean) and the error
    that stopped it, if any. With an error the value is the zero value of the expression's type ("",
    0 or false), or what a failing function at the top of the expression still returns.

    Unpacks as a pair:

    >>> value, error = Result(True)
    >>> value, error
    (True, None)
    """

    value: Value
    error: SQLError | None = None

    @property
    def ok(self) -> bool:
        """Whether the evaluation had no error."""
        return self.error is None

    @property
    def errors(self) -> tuple[SQLError, ...]:
        """The spec's *error list*: empty, or the one error (evaluation fails fast)."""
        return () if self.error is None else (self.error,)

    def __iter__(self) -> Any:
        return iter((self.value, self.error))


_TRUE, _FALSE = Result(True), Result(False)
_set_value, _set_error = Result.__dict__["value"].__set__, Result.__dict__["error"].__set__


def _result(value: Value) -> Result:
    # Result(value) without the frozen class's __init__, a third of an evaluation's cost.
    result = Result.__new__(Result)
    _set_value(result, value)
    _set_error(result, None)
    return result


def _limit(name: str, value: object, ceiling: int | None = None) -> int:
    if type(value) is not int or value < 1 or (ceiling is not None and value > ceiling):
        rule = "must be a positive int" if ceiling is None else f"must be an int from 1 to {ceiling}"
        raise InvalidAttributeError(name, rule, value)
    return value


class Expression:
    """A compiled CESQL expression. Build one with :func:`compile`; it is immutable, thread-safe and
    picklable (it pickles as its text and options and compiles again where it is unpickled, finding
    the functions registered there).

    ``matches(event)`` is true only for a Boolean ``true`` without error (section 1.2: "If the output
    value is not a Boolean, or any errors are returned, the event MUST NOT pass the filter"); it is the
    generated function itself, called with no wrapper in between.

    >>> expr = compile("type LIKE 'com.example.%' AND EXISTS subject")
    >>> from cefmt import CloudEvent
    >>> expr.matches(CloudEvent(type="com.example.created", source="/s", subject="a"))
    True
    >>> expr.evaluate(CloudEvent(type="com.example.created", source="/s"))
    Result(value=False, error=None)
    """

    __slots__ = ("_options", "_value", "_zero", "matches", "text", "tree", "unresolved")

    text: str
    tree: Node
    matches: Callable[[Any], bool]
    unresolved: tuple[MissingFunctionError, ...]

    def __init__(self, text: str, tree: Node, options: dict[str, Any]) -> None:
        compiled = compile_tree(tree, options["functions"] or default_functions, options["max_string_length"])
        self.text = text
        self.tree = tree
        self.matches = compiled.matches
        self.unresolved = unresolved_errors(compiled)
        self._value = compiled.value
        # "In cases where the return type of the subexpression cannot be determined by the CESQL engine,
        # the CESQL engine MUST assume a return type of Boolean" (section 3.2).
        # An attribute alone has no type the engine can tell before it sees an event.
        self._zero = False if isinstance(tree, Attribute) else ZERO.get(compiled.kind, False)
        self._options = options

    def evaluate(self, event: Any) -> Result:
        """The value of the expression for ``event`` and the error, if any (never raises for an
        evaluation error; a non-event argument raises :class:`~cefmt.CloudEventError`).

        >>> from cefmt import CloudEvent
        >>> compile("INT(ttl) / 0").evaluate(CloudEvent(type="t", source="/s", ttl="5"))
        Result(value=0, error=MathError('division by zero'))
        """
        try:
            value = self._value(event)
        except Fail as failure:
            if failure.root and failure.value is not None:
                return Result(failure.value, failure.error())
            return Result(self._zero, failure.error())
        if value is True:
            return _TRUE
        if value is False:
            return _FALSE
        return _result(value)

    @property
    def canonical(self) -> str:
        """The expression in canonical form: upper-case keywords, single spaces, needed parentheses.

        >>> compile("a=1 and not(b)").canonical
        'a = 1 AND NOT b'
        """
        return unparse(self.tree)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        options = dict(self._options)
        return (_restore, (self.text, options))


def _restore(text: str, options: dict[str, Any]) -> Expression:
    return compile(text, **options)


def compile(  # the verb of this module, as re.compile is re's
    text: str,
    *,
    max_length: int = DEFAULT_MAX_LENGTH,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_string_length: int = DEFAULT_MAX_STRING_LENGTH,
    functions: FunctionRegistry | None = None,
    strict: bool = False,
) -> Expression:
    """Parse and compile a CESQL expression; raises :class:`~cefmt.sql.ParseError` (naming the position)
    when the text is not CESQL.

    * ``max_length`` (65 536): characters of text read; longer text raises
      :class:`~cefmt.sql.ExpressionLimitError` before it is parsed.
    * ``max_depth`` (64, at most 200): how deeply the expression nests (parentheses, operands, arguments);
      a chain of one logical operator counts as one level.
    * ``max_string_length`` (1 MiB): the longest String ``CONCAT``/``CONCAT_WS`` build; longer gives a
      FunctionEvaluationError.
    * ``functions``: the :class:`~cefmt.sql.FunctionRegistry` for user-defined functions
      (:data:`~cefmt.sql.default_functions` when ``None``).
    * ``strict``: raise :class:`~cefmt.sql.MissingFunctionError` now for a call that cannot be dispatched,
      instead of reporting it from every evaluation as the spec has it.

    >>> compile("subject = 'x' OR ttl > 10").canonical
    "subject = 'x' OR ttl > 10"
    """
    options = {
        "max_length": _limit("max_length", max_length),
        "max_depth": _limit("max_depth", max_depth, MAX_DEPTH_CEILING),
        "max_string_length": _limit("max_string_length", max_string_length),
        "functions": functions,
        "strict": strict,
    }
    tree = parse(text, max_length=max_length, max_depth=max_depth)
    expression = Expression(text, tree, options)
    if strict and expression.unresolved:
        raise expression.unresolved[0]
    return expression


def evaluate(text: str, event: Any, **options: Any) -> Result:
    """Compile ``text`` and evaluate it once. Unlike :func:`compile`, a parse error does not raise: it is
    returned as the result's error with the value ``false``, as the CESQL test kit expects.

    >>> from cefmt import CloudEvent
    >>> evaluate("x LIKE 123", CloudEvent(type="t", source="/s")).error.kind
    'parse'
    """
    try:
        expression = compile(text, **options)
    except ParseError as exc:
        return Result(False, exc)
    return expression.evaluate(event)
