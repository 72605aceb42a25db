"""Bounded memos: what cefmt works out once per distinct small key, such as a Content-Type value."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

__all__ = ["Memo"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(dict[K, V]):
    """A dict that works out a missing value with ``compute`` and keeps at most ``size`` of them.

    Keys come from messages, so the bound keeps a stream of ever-new ones from growing it; past the
    bound, values are worked out and not kept. A hit costs one dict lookup. When ``compute`` raises,
    nothing is kept and the error reaches the caller.

    >>> lengths = Memo(len, size=1)
    >>> lengths["abc"], lengths["de"], list(lengths)
    (3, 2, ['abc'])
    """

    __slots__ = ("_compute", "_size")

    def __init__(self, compute: Callable[[K], V], size: int = 256) -> None:
        super().__init__()
        self._compute = compute
        self._size = size

    def __missing__(self, key: K) -> V:
        value = self._compute(key)
        if len(self) < self._size:
            self[key] = value
        return value
