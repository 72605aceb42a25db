"""User-defined CESQL functions: the :class:`Function` record and the registry that finds them.

"An engine SHOULD also allow users to define their custom functions" (CESQL 1.0, section 3.5). Functions
come from two places, like codecs: the ``cefmt.sql.functions`` entry-point group (the entry point's name
is the function's name, its value a :class:`Function` or a list of overloads) and
:meth:`FunctionRegistry.register` at run time, which takes precedence over entry points for a name.

Entry-point metadata is read on the first lookup of a name that is not built in, never at import; a
plugin is imported when an expression first calls one of its functions. A plugin that fails to import
(or claims a name another distribution claims too) makes only its own names undispatchable, each with a
:class:`~cefmt.sql.MissingFunctionError` that names the distribution and the cause; the failure is not
remembered, so installing the missing dependency fixes it without a restart.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ._builtins import BUILTINS, Builtin, builtin_for
from ._errors import FunctionDefinitionError, FunctionEvaluationError, MissingFunctionError, SQLError
from ._runtime import INT_MAX, INT_MIN, TYPE_NAMES, ZERO, Fail, Value, type_name

if TYPE_CHECKING:
    from importlib import metadata

__all__ = ["ENTRY_POINT_GROUP", "Function", "FunctionInfo", "FunctionRegistry", "Resolved", "default_functions"]

#: The entry-point group user-defined CESQL functions are declared in.
ENTRY_POINT_GROUP = "cefmt.sql.functions"

_NAME = re.compile(r"[A-Za-z][A-Za-z_]*")
_PARAMETER_TYPES = (str, int, bool, object)
_RETURN_TYPES = (str, int, bool)
_RUNTIME = "<registered at run time>"
_ARTICLE = {str: "a", int: "an", bool: "a"}


def _check_type(name: str, role: str, kind: object, allowed: tuple[type, ...]) -> None:
    if not any(kind is candidate for candidate in allowed):
        names = ", ".join(f"{candidate.__name__} ({TYPE_NAMES[candidate]})" for candidate in allowed)
        raise FunctionDefinitionError(name, f"{role} must be one of {names}, not {kind!r}")


def _types_tuple(kinds: Iterable[type]) -> tuple[type, ...]:
    return tuple(kinds)


@attrs.frozen
class Function:
    """A CESQL function implemented in Python, with its declared CESQL types.

    ``args`` are the types of the fixed parameters and ``variadic`` the type of any further ones (``None``:
    not variadic); ``str``, ``int`` and ``bool`` stand for String, Integer and Boolean, and ``object`` takes
    any value unconverted. ``returns`` is ``str``, ``int`` or ``bool``. Arguments are cast to the declared
    types before ``call`` sees them (section 3.7), so ``call`` receives exactly what it declared.

    >>> Function(str.startswith, args=(str, str), returns=bool).accepts(2)
    True
    """

    call: Callable[..., object] = attrs.field()
    args: tuple[type, ...] = attrs.field(default=(), kw_only=True, converter=_types_tuple)
    variadic: type | None = attrs.field(default=None, kw_only=True)
    returns: type = attrs.field(kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not callable(self.call):
            raise FunctionDefinitionError("?", f"call must be callable, not {self.call!r}")
        for kind in self.args:
            _check_type("?", "a parameter type", kind, _PARAMETER_TYPES)
        if self.variadic is not None:
            _check_type("?", "the variadic type", self.variadic, _PARAMETER_TYPES)
        _check_type("?", "the return type", self.returns, _RETURN_TYPES)

    def accepts(self, arity: int) -> bool:
        """Whether a call with ``arity`` arguments dispatches to this definition."""
        return arity == len(self.args) or (self.variadic is not None and arity > len(self.args))

    def signature(self, name: str) -> str:
        """``NAME(String, Integer...) -> Boolean``."""
        params = [type_name(kind) for kind in self.args]
        if self.variadic is not None:
            params.append(type_name(self.variadic) + "...")
        return f"{name}({', '.join(params)}) -> {type_name(self.returns)}"


@attrs.frozen
class FunctionInfo:
    """One row of :func:`cefmt.sql.functions`: a function name, who provides it, and its state.

    ``signatures`` is empty for an entry point that is not loaded yet (listing imports nothing).
    """

    name: str
    distribution: str
    target: str
    loaded: bool
    signatures: tuple[str, ...] = ()
    error: str | None = None


@attrs.frozen
class _Provider:
    distribution: str
    target: str
    entry_point: metadata.EntryPoint


@attrs.frozen
class Resolved:
    """What a call compiles to: a built-in, a wrapped user function, or the failure it will report."""

    builtin: Builtin | None = None
    function: Function | None = None
    invoke: Callable[..., Value] | None = None
    failure: Fail | None = None


def check_overloads(name: str, overloads: Iterable[Function]) -> tuple[Function, ...]:
    """``overloads`` as a tuple, if a call can always tell them apart (CESQL 1.0, section 3.5).

    "A function name MAY have at most one variadic overload definition and only if the number of initial
    fixed arguments is greater than the maximum arity of all other function definitions for that function
    name"; fixed arities must differ.
    """
    found = tuple(overloads)
    if not found:
        raise FunctionDefinitionError(name, "no definition given")
    fixed = [len(item.args) for item in found if item.variadic is None]
    variadic = [item for item in found if item.variadic is not None]
    if len(set(fixed)) != len(fixed):
        raise FunctionDefinitionError(name, "two definitions take the same number of arguments")
    if len(variadic) > 1:
        raise FunctionDefinitionError(name, "more than one variadic definition")
    if variadic and fixed and len(variadic[0].args) <= max(fixed):
        raise FunctionDefinitionError(
            name,
            f"the variadic definition has {len(variadic[0].args)} fixed parameters; with a definition of "
            f"{max(fixed)} it needs more than {max(fixed)}, or a call could match both",
        )
    return found


def _function_failed(name: str, reason: str, cause: BaseException | None = None) -> FunctionEvaluationError:
    error = FunctionEvaluationError(reason, function=name)
    error.__cause__ = cause
    return error


def _failed_with(error: FunctionEvaluationError) -> FunctionEvaluationError:
    return error


def _valid_result(value: object, returns: type) -> bool:
    if type(value) is not returns:
        return False
    return returns is not int or INT_MIN <= value <= INT_MAX  # type: ignore[operator]


def wrap(name: str, function: Function) -> Callable[..., Value]:
    """``function.call`` made total: any exception becomes a FunctionEvaluationError, and a result of the
    wrong type the zero value of the declared type (section 3.5.3: for user defined functions that "fail
    to provide a valid return value for their return type the CESQL engine MUST return the zero value for
    the return type of the function, along with a FunctionEvaluationError").
    """
    call, returns = function.call, function.returns
    zero = ZERO[returns]

    def invoke(*args: Value) -> Value:
        try:
            value = call(*args)
        except FunctionEvaluationError as exc:
            kept = exc.value if _valid_result(exc.value, returns) else zero
            if exc.function is None:
                exc.function = name
                exc.args = (f"{name}: {exc}",)
            raise Fail(_failed_with, exc, value=kept) from None
        except Exception as exc:  # noqa: BLE001 - a user function's failure is the spec's functionEvaluation error
            raise Fail(_function_failed, name, f"raised {type(exc).__name__}: {exc}", exc, value=zero) from None
        if _valid_result(value, returns):
            return value  # type: ignore[return-value]
        wanted = f"{_ARTICLE[returns]} {type_name(returns)}"
        raise Fail(_function_failed, name, f"returned {value!r}, not {wanted}", value=zero) from None

    return invoke


def _missing(name: str, arity: int, reason: str, cause: BaseException | None = None) -> Fail:
    return Fail(_missing_error, name, arity, reason, cause)


def _missing_error(name: str, arity: int, reason: str, cause: BaseException | None) -> MissingFunctionError:
    error = MissingFunctionError(name, arity, reason)
    error.__cause__ = cause
    return error


def _takes(name: str, overloads: Iterable[Function | Builtin]) -> str:
    """``LEFT takes 2 arguments``, ``CONCAT_WS takes 1 or more arguments``, ``F takes 0 or 2 arguments``."""
    counts = [f"{len(item.args)} or more" if item.variadic is not None else str(len(item.args)) for item in overloads]
    return f"{name} takes {' or '.join(counts)} argument{'' if counts == ['1'] else 's'}"


class FunctionRegistry:
    """User-defined functions by name. :data:`cefmt.sql.default_functions` serves :func:`cefmt.sql.compile`;
    make your own ``FunctionRegistry()`` for isolation and pass it as ``functions=``.

    >>> registry = FunctionRegistry(group="cefmt.example-none")
    >>> registry.register("HAS_PREFIX", str.startswith, args=(str, str), returns=bool).signature("HAS_PREFIX")
    'HAS_PREFIX(String, String) -> Boolean'
    >>> registry.resolve("has_prefix", 2).function.returns
    <class 'bool'>
    """

    def __init__(self, group: str = ENTRY_POINT_GROUP) -> None:
        self.group = group
        self._lock = threading.RLock()
        self._runtime: dict[str, dict[int | None, Function]] = {}
        self._providers: dict[str, list[_Provider]] | None = None
        self._malformed: list[tuple[str, str, str]] = []
        self._loaded: dict[str, tuple[Function, ...]] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its run-time registrations; entry points are found again where it is unpickled.
        return (_rebuild, (self.group, self._runtime))

    # -- registration ------------------------------------------------------------------------------------

    def register(
        self,
        name: str,
        call: Callable[..., object],
        *,
        args: Iterable[type] = (),
        variadic: type | None = None,
        returns: type,
    ) -> Function:
        """Add a function at run time (one overload per call); it takes precedence over entry points.

        Registering the same name and arity again replaces that overload. Raises
        :class:`~cefmt.sql.FunctionDefinitionError` for a name that is not a CESQL function name, a built-in
        name, a type outside the CESQL types, or overloads a call could not tell apart.
        """
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise FunctionDefinitionError(str(name), "a function name is letters and '_', starting with a letter")
        upper = name.upper()
        if upper in BUILTINS:
            raise FunctionDefinitionError(upper, "is a built-in function; built-ins cannot be replaced")
        try:
            function = Function(call, args=tuple(args), variadic=variadic, returns=returns)
        except FunctionDefinitionError as exc:
            raise FunctionDefinitionError(upper, exc.reason) from None
        with self._lock:
            overloads = dict(self._runtime.get(upper, {}))
            overloads[None if variadic is not None else len(function.args)] = function
            check_overloads(upper, overloads.values())
            self._runtime[upper] = overloads
        return function

    def unregister(self, name: str) -> None:
        """Remove every run-time overload of ``name`` (its entry point, if any, is visible again)."""
        with self._lock:
            self._runtime.pop(name.upper(), None)

    def refresh(self) -> None:
        """Forget discovered entry points and loaded plugins (run-time registrations stay)."""
        with self._lock:
            self._providers = None
            self._loaded.clear()

    # -- lookup ------------------------------------------------------------------------------------------

    def resolve(self, name: str, arity: int) -> Resolved:
        """What a call of ``name`` with ``arity`` arguments dispatches to (never raises: a call that cannot
        be dispatched resolves to the :class:`~cefmt.sql.MissingFunctionError` it reports when evaluated).
        """
        upper = name.upper()
        builtin = builtin_for(upper, arity)
        if builtin is not None:
            return Resolved(builtin=builtin)
        if upper in BUILTINS:
            return Resolved(failure=_missing(upper, arity, _takes(upper, BUILTINS[upper])))
        overloads = self._runtime.get(upper)
        if overloads is not None:
            found: Iterable[Function] = overloads.values()
        else:
            loaded = self._load(upper, arity)
            if isinstance(loaded, Fail):
                return Resolved(failure=loaded)
            found = loaded
        candidates = tuple(found)
        for function in candidates:
            if function.accepts(arity):
                return Resolved(function=function, invoke=wrap(upper, function))
        return Resolved(failure=_missing(upper, arity, _takes(upper, candidates)))

    def _discover(self) -> dict[str, list[_Provider]]:
        providers = self._providers
        if providers is not None:
            return providers
        with self._lock:
            if self._providers is not None:
                return self._providers
            from importlib import metadata  # noqa: PLC0415 - metadata is read on first use only

            found: dict[str, list[_Provider]] = {}
            malformed: list[tuple[str, str, str]] = []
            for entry in metadata.entry_points(group=self.group):
                distribution = entry.dist.name if entry.dist is not None else "<unknown distribution>"
                if not _NAME.fullmatch(entry.name):
                    malformed.append((entry.name, distribution, entry.value))
                    continue
                entries = found.setdefault(entry.name.upper(), [])
                if not any(p.distribution == distribution and p.target == entry.value for p in entries):
                    entries.append(_Provider(distribution, entry.value, entry))
            self._malformed = malformed
            self._providers = found
            return found

    def _load(self, name: str, arity: int) -> tuple[Function, ...] | Fail:
        loaded = self._loaded.get(name)
        if loaded is not None:
            return loaded
        providers = self._discover().get(name)
        if not providers:
            return _missing(name, arity, "no such function")
        if len(providers) > 1:
            names = ", ".join(sorted(f"{p.distribution} ({p.target})" for p in providers))
            return _missing(name, arity, f"more than one distribution provides it: {names}")
        provider = providers[0]
        with self._lock:
            loaded = self._loaded.get(name)
            if loaded is not None:
                return loaded
            try:
                target = provider.entry_point.load()
                overloads = check_overloads(name, _as_functions(target))
            except Exception as exc:  # noqa: BLE001 - whatever a plugin's import raises is reported by name
                reason = (
                    f"the plugin from distribution {provider.distribution!r} ({provider.target}) failed to load: "
                    f"{type(exc).__name__}: {exc}"
                )
                return _missing(name, arity, reason, exc)
            self._loaded[name] = overloads
            return overloads

    # -- listing -----------------------------------------------------------------------------------------

    def functions(self) -> list[FunctionInfo]:
        """Every function: built-ins, then user-defined ones by name (metadata only: nothing is imported)."""
        rows = [
            FunctionInfo(name, "cefmt", "built-in", True, tuple(b.signature() for b in overloads))
            for name, overloads in BUILTINS.items()
        ]
        providers = self._discover()
        for name in sorted(set(providers) | set(self._runtime)):
            if name in self._runtime:
                signatures = tuple(f.signature(name) for f in self._runtime[name].values())
                rows.append(FunctionInfo(name, _RUNTIME, _RUNTIME, True, signatures))
                continue
            entries = providers[name]
            error = None
            if name in BUILTINS:
                error = f"{name} is a built-in function; the plugin's definition is not used"
            elif len(entries) > 1:
                error = "more than one distribution provides it: " + ", ".join(sorted(p.distribution for p in entries))
            loaded = self._loaded.get(name)
            signatures = tuple(f.signature(name) for f in loaded) if loaded else ()
            for provider in entries:
                rows.append(
                    FunctionInfo(name, provider.distribution, provider.target, loaded is not None, signatures, error)
                )
        for name, distribution, target in self._malformed:
            reason = f"entry point name {name!r} is not a function name (letters and '_', starting with a letter)"
            rows.append(FunctionInfo(name, distribution, target, False, (), reason))
        return rows


def _as_functions(target: object) -> tuple[Function, ...]:
    if isinstance(target, Function):
        return (target,)
    if isinstance(target, (list, tuple)) and all(isinstance(item, Function) for item in target):
        return tuple(target)
    raise SQLError(f"the entry point gives {type(target).__name__}, not a cefmt.sql.Function or a list of them")


def _rebuild(group: str, runtime: dict[str, dict[int | None, Function]]) -> FunctionRegistry:
    registry = FunctionRegistry(group)
    registry._runtime = {name: dict(overloads) for name, overloads in runtime.items()}
    return registry


#: The registry :func:`cefmt.sql.compile` and :func:`cefmt.sql.register_function` use by default.
default_functions = FunctionRegistry()
