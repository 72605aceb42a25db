"""``LIKE`` patterns, matched in time linear in the pattern times the text, never by backtracking.

CESQL 1.0, section 3.4.3: ``%`` stands for "zero, one, or multiple characters", ``_`` for "a single
character", any other character for itself (case sensitive); "Both ``%`` and ``_`` can be escaped with
``\\``, in order to be matched literally". A backslash before any other character is a backslash.

A pattern is cut at its ``%`` into pieces that have a fixed length. The first piece must match at the
start, the last at the end, and each middle piece is matched at the leftmost place it fits after the
previous one: taking the leftmost place never loses a match, since it leaves the most text for the
rest. So every piece is searched for once, from left to right: a piece of literal characters with
``str.find``, a piece with ``_`` with a regular expression made of literals and ``.`` only (fixed
length: nothing for the regex engine to backtrack over). A regex like ``^a.*b.*c$`` would be
correct too, but a text that almost matches makes it try every split: polynomial in the number of
``%``, which a hostile pattern makes as large as it likes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["compile_like", "split_pattern"]

Matcher = Callable[[str], bool]


def split_pattern(pattern: str) -> list[list[str | None]]:
    """The pieces of ``pattern`` between its ``%``: lists of literal characters, ``None`` for each ``_``.

    >>> split_pattern("a_%b\\\\%")
    [['a', None], ['b', '%']]
    """
    pieces: list[list[str | None]] = [[]]
    at = 0
    length = len(pattern)
    while at < length:
        char = pattern[at]
        if char == "\\" and at + 1 < length and pattern[at + 1] in "%_":
            pieces[-1].append(pattern[at + 1])
            at += 2
            continue
        if char == "%":
            pieces.append([])
        elif char == "_":
            pieces[-1].append(None)
        else:
            pieces[-1].append(char)
        at += 1
    return pieces


class _Piece:
    """One fixed-length piece: ``text`` when it is all literal, else a compiled regex."""

    __slots__ = ("length", "regex", "text")

    def __init__(self, chars: list[str | None]) -> None:
        self.length = len(chars)
        self.regex: re.Pattern[str] | None = None
        self.text = ""
        if None in chars:
            self.regex = re.compile("".join("." if char is None else re.escape(char) for char in chars), re.DOTALL)
        else:
            self.text = "".join(char for char in chars if char is not None)

    def at(self, value: str, position: int) -> bool:
        """Whether the piece matches ``value`` exactly at ``position`` (which leaves room for it)."""
        if self.regex is None:
            return value.startswith(self.text, position)
        return self.regex.match(value, position) is not None

    def find(self, value: str, start: int, end: int) -> int:
        """The leftmost position in ``start..end-length`` where the piece matches, or -1."""
        if self.regex is None:
            return value.find(self.text, start, end)
        found = self.regex.search(value, start, end)
        return -1 if found is None else found.start()


def compile_like(pattern: str) -> Matcher:
    """A function telling whether a String matches ``pattern``.

    >>> matches = compile_like("a%b\\\\_c%")
    >>> matches("a..b_c!"), matches("ab_c"), matches("abxc")
    (True, True, False)
    """
    raw = split_pattern(pattern)
    pieces = [_Piece(chars) for chars in raw]
    if len(pieces) == 1:
        only = pieces[0]
        if only.regex is None:
            text = only.text
            return lambda value: value == text
        regex, length = only.regex, only.length
        return lambda value: len(value) == length and regex.match(value) is not None
    first, middle, last = pieces[0], [piece for piece in pieces[1:-1] if piece.length], pieces[-1]
    fixed = first.length + last.length + sum(piece.length for piece in middle)

    def matches(value: str) -> bool:
        size = len(value)
        if size < fixed:
            return False
        if first.length and not first.at(value, 0):
            return False
        end = size - last.length
        if last.length and not last.at(value, end):
            return False
        position = first.length
        for piece in middle:
            found = piece.find(value, position, end)
            if found < 0:
                return False
            position = found + piece.length
        return True

    return matches
