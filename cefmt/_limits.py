"""Resource limits for decoders: how large, long, deep and wide a message may be before it is read.

Messages are untrusted. Every built-in decoder takes ``limits=`` (a :class:`Limits`, ``None`` meaning
:data:`DEFAULT_LIMITS`) and checks sizes and counts *before* the work they would bound: the size of a
message before it is decoded from UTF-8 or parsed, the number of headers before they are read, the
nesting depth of JSON before the parser recurses, the length of a batch before its events are built.
A message over a limit raises :class:`~cefmt.LimitExceededError`, which names the limit, the value
found and the maximum.

Plugins apply the same record (``cefmt.Limits``):

>>> from cefmt import Limits
>>> limits = Limits(max_message_bytes=1024)
>>> limits.check_message_size(b"{}")
>>> Limits(max_nesting_depth=2).check_json(b'{"data": [[1]]}')
Traceback (most recent call last):
...
cefmt...LimitExceededError: JSON nesting depth 3 exceeds the limit of 2
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Mapping, Sized
from typing import Any

import attrs

from ._errors import InvalidAttributeError, LimitExceededError

__all__ = ["DEFAULT_LIMITS", "Limits"]


def _positive(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 1:
        raise InvalidAttributeError(attribute.name, "must be a positive int", value)


_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'[]{}"')
_STRINGS = re.compile(rb'"[^"]*"')
_WEIGHTS = bytes.maketrans(b"[]", b"\x02\x00")


@attrs.frozen(kw_only=True)
class Limits:
    """How much of a message a decoder reads before it refuses; every field is a positive ``int``.

    The defaults suit events on any common transport (Kafka's default record limit is 1 MiB, most HTTP
    servers cap a header at 8 KiB) with room to spare; raise one for a trusted producer, lower them for
    a public endpoint.

    * ``max_message_bytes`` (16 MiB): an event-format message, a binary-mode body or Kafka value. For
      ``str`` input it counts characters.
    * ``max_batch_length`` (10 000): the events in one batch.
    * ``max_nesting_depth`` (128): arrays and objects inside each other in a JSON document, the event
      object (and a batch's array) included; the data of a structured event may nest 126 deep.
    * ``max_header_count`` (256): headers of a binding's message (all of them, not only ``ce-``).
    * ``max_header_value_length`` (8 KiB): the value of a header cefmt reads (``ce-*``, content type).
    * ``max_attribute_count`` (256): context attributes and extensions of one event in a structured
      message.
    * ``max_container_count`` (100 000): objects and arrays (maps and arrays in msgpack) in one
      message, the event objects of a batch included. A container costs a Python object of 56 to
      200 bytes whatever its size on the wire (``{}`` is two bytes of JSON, one of msgpack), so this
      is what keeps the memory a message can claim to a small multiple of its size.

    >>> Limits().max_batch_length
    10000
    >>> Limits(max_batch_length=0)
    Traceback (most recent call last):
    ...
    cefmt...InvalidAttributeError: attribute 'max_batch_length': must be a positive int (got 0)
    """

    max_message_bytes: int = attrs.field(default=16 * 1024 * 1024, validator=_positive)
    max_batch_length: int = attrs.field(default=10_000, validator=_positive)
    max_nesting_depth: int = attrs.field(default=128, validator=_positive)
    max_header_count: int = attrs.field(default=256, validator=_positive)
    max_header_value_length: int = attrs.field(default=8 * 1024, validator=_positive)
    max_attribute_count: int = attrs.field(default=256, validator=_positive)
    max_container_count: int = attrs.field(default=100_000, validator=_positive)

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> Limits:
        """Limits from a configuration mapping (a parsed JSON, TOML or YAML file): the fields named,
        defaults for the rest. An unknown name or a value that is not an ``int`` is refused with a
        :class:`~cefmt.InvalidDataError` naming it, through cefmt's cattrs converter.

        >>> Limits.from_dict({"max_message_bytes": 1 << 20}).max_message_bytes
        1048576
        """
        from ._typed import structure_data  # noqa: PLC0415 - cattrs only when limits come from a config

        return structure_data(dict(config), cls)  # type: ignore[no-any-return]

    def check_message_size(self, message: Sized, what: str = "message size") -> None:
        """Raise :class:`~cefmt.LimitExceededError` when ``len(message)`` is over ``max_message_bytes``.

        >>> Limits(max_message_bytes=2).check_message_size(b"abc")
        Traceback (most recent call last):
        ...
        cefmt...LimitExceededError: message size 3 exceeds the limit of 2
        """
        size = len(message)
        if size > self.max_message_bytes:
            raise LimitExceededError(what, size, self.max_message_bytes)

    def check_batch_length(self, length: int) -> None:
        """Raise when a batch holds more than ``max_batch_length`` events."""
        if length > self.max_batch_length:
            raise LimitExceededError("batch length", length, self.max_batch_length)

    def check_header_count(self, count: int) -> None:
        """Raise when a message has more than ``max_header_count`` headers."""
        if count > self.max_header_count:
            raise LimitExceededError("header count", count, self.max_header_count)

    def check_header_value(self, value: Sized, name: str) -> None:
        """Raise when the value of header ``name`` is longer than ``max_header_value_length``."""
        length = len(value)
        if length > self.max_header_value_length:
            raise LimitExceededError(f"length of header {name!r}", length, self.max_header_value_length)

    def check_attribute_count(self, count: int) -> None:
        """Raise when a structured event has more than ``max_attribute_count`` members."""
        if count > self.max_attribute_count:
            raise LimitExceededError("attribute count", count, self.max_attribute_count)

    def check_container_count(self, count: int) -> None:
        """Raise when a message holds more than ``max_container_count`` objects and arrays."""
        if count > self.max_container_count:
            raise LimitExceededError("container count", count, self.max_container_count)

    def may_exceed_json(self, size: int) -> bool:
        """Whether JSON text of ``size`` characters could break :meth:`check_json` at all: a level of
        nesting takes one character at least, and an object or array two."""
        return size > self.max_nesting_depth or size > 2 * self.max_container_count

    def check_json(self, raw: bytes | str, *, batch: bool = False) -> None:
        """Raise when JSON text nests deeper than ``max_nesting_depth`` or holds more objects and arrays
        than ``max_container_count``; with ``batch``, also when the outermost array holds more objects
        than ``max_batch_length`` (counted before anything is parsed).

        Run before parsing, in time linear in the size and in C: text no longer than the depth limit
        passes at once; otherwise everything but quotes and brackets is cut out in one ``translate``,
        and a document with no more ``[`` and ``{`` than either limit (nearly every event) passes.
        Strings are dropped next and the containers counted exactly; then innermost ``[]`` pairs are
        removed one level per pass within a budget of work linear in the size, and the rest is measured
        exactly. Invalid JSON may be misjudged here, but then the parser rejects it.

        >>> Limits(max_container_count=2).check_json(b'{"data": [[1], "[[["]}')
        Traceback (most recent call last):
        ...
        cefmt...LimitExceededError: container count 3 exceeds the limit of 2
        """
        limit = self.max_nesting_depth
        if not self.may_exceed_json(len(raw)) and not (batch and len(raw) > 2 * self.max_batch_length):
            return
        if type(raw) is not bytes:
            raw = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
        if b"\\" in raw:  # escapes: drop escaped backslashes first, then escaped quotes
            raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
        brackets = raw.translate(_SQUARE, _NOT_STRUCTURE)  # quotes and brackets, ``{}`` as ``[]``
        openings = brackets.count(b"[")  # containers, and brackets inside strings
        if (
            openings <= limit
            and openings <= self.max_container_count
            and not (batch and openings > self.max_batch_length)
        ):
            return
        # Drop the strings. When every quote is half of a ``""`` pair (counted left to right), no
        # string holds a bracket and the quotes can simply go; otherwise strings are cut out whole.
        unquoted = brackets.translate(None, b'"')
        if len(brackets) - len(unquoted) == 2 * brackets.count(b'""'):
            brackets = unquoted
        else:
            brackets = _STRINGS.sub(b"", brackets.replace(b'""', b""))
        if openings > self.max_container_count:
            self.check_container_count(brackets.count(b"["))
        if batch and openings > self.max_batch_length:
            self.check_batch_length(_items_at_depth_two(brackets))
        if b"[" * (limit + 1) in brackets:  # certainly too deep: measure a bounded prefix
            raise LimitExceededError("JSON nesting depth", max(_depth(brackets[: 1 << 20]), limit + 1), limit)
        # Remove the innermost pairs, one level per pass, while the passes have cost no more than four
        # times the first one (a document deep and narrow would take as many passes as it has levels);
        # then measure what is left.
        passes, budget = 0, 4 * len(brackets)
        while brackets and passes < limit and budget > 0:
            budget -= len(brackets)
            brackets = brackets.replace(b"[]", b"")
            passes += 1
        if not brackets:
            return
        depth = passes + _depth(brackets)
        if depth > limit:
            raise LimitExceededError("JSON nesting depth", depth, limit)


def _depth(brackets: bytes) -> int:
    # After i brackets the depth is 2 * (openings so far) - i: weights 2 and 0, summed in C.
    depth: int = max(map(operator.sub, itertools.accumulate(brackets.translate(_WEIGHTS)), itertools.count(1)))
    return depth


def _items_at_depth_two(brackets: bytes) -> int:
    # The objects and arrays directly inside the outermost array: openings that reach depth 2. The
    # depth after bracket i is 2 * (openings so far) - i, as in _depth; everything runs in C.
    depths = map(operator.sub, itertools.accumulate(brackets.translate(_WEIGHTS)), itertools.count(1))
    return sum(map(operator.and_, map((2).__eq__, depths), map((0x5B).__eq__, brackets)))


#: The limits a decoder applies when it is given ``limits=None``.
DEFAULT_LIMITS = Limits()
