"""Untyped event data as the record holds it: a JSON value nobody can change, compared type-aware.

An event's untyped data is ``None``, ``bytes``, ``str`` or a JSON value: ``dict`` with ``str`` keys,
``list``, ``int``, a finite ``float``, ``bool``, ``None`` inside. Data given in code is checked and
copied once (so the caller, who keeps the original, cannot change the event through it); data a cefmt
decoder parsed is a JSON value already and has no other owner. Either way the event keeps plain
containers that only it holds, which encoders write at full speed, and a reader gets them through
:class:`FrozenDict` and :class:`FrozenList`: ``dict`` and ``list`` subclasses that refuse to change and
freeze what they hold as it is reached, so reading the top of a large document costs little.

Equality is type-aware all the way down (``True`` is not ``1``, ``1`` is not ``1.0``), so that
``decode(encode(event)) == event`` means nothing changed on the way.
"""

from __future__ import annotations

import math
from collections.abc import ItemsView, Iterable, Iterator, ValuesView
from typing import Any, NoReturn

from ._errors import InvalidAttributeError, UsageError
from ._pure import FALLBACK, SPEEDUPS

__all__ = ["FrozenDict", "FrozenList", "check_data", "data_equal", "thaw", "view"]

_IMMUTABLE = "event data cannot be changed; make a new event with event.evolve(data=...)"


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise UsageError(_IMMUTABLE)


class FrozenDict(dict[str, Any]):
    """A JSON object in event data as a reader sees it: a ``dict`` (it serializes, compares and iterates as
    one) that cannot change, and whose objects and arrays cannot either.

    A view over the event's own data: its members are frozen as they are reached (so reading the top of
    a large document costs little), and :meth:`thaw` gives a plain deep copy to change as you like.

    >>> data = FrozenDict({"n": 1, "items": [{"sku": "a"}]})
    >>> data["items"][0]["sku"], isinstance(data["items"][0], dict)
    ('a', True)
    >>> data["items"][0]["sku"] = "b"
    Traceback (most recent call last):
    ...
    cefmt...UsageError: event data cannot be changed; make a new event with event.evolve(data=...)
    """

    __slots__ = ()
    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __getitem__(self, key: str) -> Any:
        value = dict.__getitem__(self, key)
        kind = type(value)
        if kind is dict or kind is list:  # reached for the first time: frozen now, and kept so
            value = view(value)
            dict.__setitem__(self, key, value)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:  # through __getitem__, which freezes what it gives
            return self[key]
        return default

    def __iter__(self) -> Iterator[str]:
        return dict.__iter__(self)

    def items(self) -> ItemsView[str, Any]:  # type: ignore[override]
        return ItemsView(self)

    def values(self) -> ValuesView[Any]:  # type: ignore[override]
        return ValuesView(self)

    def copy(self) -> FrozenDict:
        return self

    def thaw(self) -> dict[str, Any]:
        """A plain, deep, changeable copy."""
        return thaw(self)  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (thaw(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: Any) -> FrozenDict:
        return self


class FrozenList(list[Any]):
    """A JSON array in event data as a reader sees it: a ``list`` that cannot change, nor its objects and
    arrays (frozen as they are reached, like :class:`FrozenDict`).

    >>> FrozenList([1, 2]).append(3)
    Traceback (most recent call last):
    ...
    cefmt...UsageError: event data cannot be changed; make a new event with event.evolve(data=...)
    """

    __slots__ = ()
    __setitem__ = __delitem__ = append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __iadd__ = __imul__ = _refuse

    def __init__(self, items: Iterable[Any] = ()) -> None:
        list.extend(self, items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return FrozenList(self[position] for position in range(*index.indices(len(self))))
        value = list.__getitem__(self, index)
        kind = type(value)
        if kind is dict or kind is list:
            value = view(value)
            list.__setitem__(self, index, value)
        return value

    def __iter__(self) -> Iterator[Any]:
        for index in range(len(self)):
            yield self[index]

    def __reversed__(self) -> Iterator[Any]:
        for index in range(len(self) - 1, -1, -1):
            yield self[index]

    def copy(self) -> FrozenList:
        return self

    def thaw(self) -> list[Any]:
        """A plain, deep, changeable copy."""
        return thaw(self)  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (thaw(self),))

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: Any) -> FrozenList:
        return self


def view(value: Any) -> Any:
    """A JSON value as readers get it: a frozen view over its top level (children frozen when reached).

    >>> type(view({"a": [1]})["a"]).__name__
    'FrozenList'
    """
    kind = type(value)
    if kind is dict:
        return FrozenDict(value)
    if kind is list:
        return FrozenList(value)
    return value


def thaw(value: Any) -> Any:
    """A plain deep copy of a JSON value (frozen or not): ``dict`` and ``list`` all the way down.

    >>> thaw(FrozenDict({"a": [1]}))["a"].append(2)
    """
    if isinstance(value, dict):
        return {key: thaw(item) for key, item in dict.items(value)}
    if isinstance(value, list):
        return [thaw(item) for item in list.__iter__(value)]
    return value


class NotAJsonValue(InvalidAttributeError):
    """Data holds a value of a type JSON does not have (it may still be typed data: see the record)."""


class TypedContainer:
    """A ``list`` or ``dict`` of the user's own types held as typed data (written in its JSON form by
    the converter), told apart from untyped JSON containers; ``event.data`` gives ``value``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TypedContainer) and bool(self.value == other.value)

    def __hash__(self) -> int:
        raise TypeError("unhashable type: 'TypedContainer'")

    def __repr__(self) -> str:
        return repr(self.value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (TypedContainer, (self.value,))


def typed(value: Any) -> Any:
    """``value`` as the record holds typed data: containers wrapped, anything else as it is."""
    return TypedContainer(value) if isinstance(value, (list, dict, tuple)) else value


def check_data(value: Any, *, max_depth: int = 256) -> Any:
    """A JSON value given in code, checked and copied (plain ``dict`` and ``list`` that only the event holds).

    Refused with :class:`~cefmt.InvalidAttributeError` naming the place: a key that is not a ``str``,
    NaN or an infinity, a string that is not valid Unicode (a lone surrogate), anything that is not a
    JSON value, nesting deeper than ``max_depth``. A ``tuple`` is a JSON array, as the CloudEvents SDK
    sends it.

    >>> check_data({"a": (1, 2.5)})
    {'a': [1, 2.5]}
    >>> check_data({"a": [float("nan")]})
    Traceback (most recent call last):
    ...
    cefmt...InvalidAttributeError: attribute 'data': data.a[0] is NaN or infinite, which JSON has no form for (got nan)
    """
    if _C_CHECK is not None:
        copy = _C_CHECK(value, max_depth)
        if copy is not FALLBACK:
            return copy
    return _checked(value, "data", 0, max_depth)


def _checked(value: Any, path: str, depth: int, max_depth: int) -> Any:
    kind = type(value)
    if kind is str:
        if not value.isascii():
            _check_text(value, path)
        return value
    if kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if not math.isfinite(value):
            raise InvalidAttributeError("data", f"{path} is NaN or infinite, which JSON has no form for", value)
        return value
    if depth >= max_depth:
        raise InvalidAttributeError("data", f"{path} nests deeper than {max_depth} levels")
    if isinstance(value, dict):
        items = {}
        for key, item in value.items():
            if type(key) is not str:
                raise InvalidAttributeError(
                    "data", f"{path} has a key that is not a string; JSON object keys are strings", key
                )
            if not key.isascii():
                _check_text(key, f"{path} key")
            items[key] = _checked(item, f"{path}.{key}", depth + 1, max_depth)
        return items  # a plain dict: the C JSON encoder writes it at full speed; readers get a view
    if isinstance(value, (list, tuple)):
        return [_checked(item, f"{path}[{index}]", depth + 1, max_depth) for index, item in enumerate(value)]
    if isinstance(value, (str, int, float)):  # subclasses (an IntEnum, a str subclass) as their plain value
        plain = str(value) if isinstance(value, str) else int(value) if isinstance(value, int) else float(value)
        return _checked(plain, path, depth, max_depth)
    raise NotAJsonValue(
        "data",
        f"{path} is a {kind.__name__}, which is not a JSON value (objects, arrays, strings, numbers, booleans, null)",
    )


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidAttributeError(
            "data", f"{path} holds a lone surrogate ({text[exc.start : exc.end]!r}), which is not valid Unicode"
        ) from None


def data_equal(left: Any, right: Any) -> bool:
    """Type-aware equality of two events' data: ``True`` is not ``1``, ``1`` is not ``1.0``.

    >>> data_equal({"a": [1]}, {"a": [1]}), data_equal({"a": True}, {"a": 1})
    (True, False)
    """
    if left is right:
        return True
    left_json, right_json = isinstance(left, (dict, list)), isinstance(right, (dict, list))
    if left_json or right_json:
        if not (left_json and right_json):
            return False
        if isinstance(left, dict):
            if not isinstance(right, dict) or left.keys() != right.keys():
                return False
            return all(data_equal(item, right[key]) for key, item in left.items())
        if isinstance(right, dict) or len(left) != len(right):
            return False
        return all(data_equal(a, b) for a, b in zip(left, right, strict=True))
    if _scalar_kind(left) is not _scalar_kind(right):
        return False
    return bool(left == right)


def _scalar_kind(value: Any) -> type:
    # Plain JSON scalars compare by their own type; anything else (typed data) by the user's __eq__.
    kind = type(value)
    return kind if kind in (bool, int, float, str, bytes, type(None)) else object


# The compiled copy, when built: the same plain copy for a value of exact JSON types, FALLBACK for the
# rest (subclasses, tuples, anything to report), which _checked handles.
_C_CHECK = SPEEDUPS.check_data if SPEEDUPS is not None else None
