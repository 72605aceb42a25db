"""The CloudEvents *Timestamp* type: an aware ``datetime`` that keeps nanoseconds.

CloudEvents 1.0, Type System: "Timestamp - Date and time expression using the Gregorian Calendar.
String encoding: RFC 3339." Python's ``datetime`` stops at microseconds, while RFC 3339 text (and Go,
Java and .NET producers) carry nanoseconds; :class:`Timestamp` is a ``datetime`` with the three
missing digits kept beside it, so nothing is lost between text and back.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from ._errors import InvalidAttributeError, UsageError
from ._memo import Memo
from ._pure import FALLBACK, PURE, SPEEDUPS

__all__ = ["Timestamp", "format_timestamp", "parse_timestamp", "to_timestamp"]

# RFC 3339 section 5.6 date-time; ``T`` and ``Z`` may be lower case (section 5.6, NOTE). Digits are
# spelled [0-9] because \d would accept other scripts' digits.
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)

_UTC = timezone.utc
_MINUTE = timedelta(minutes=1)
_new_datetime = datetime.__new__
_fromisoformat = datetime.fromisoformat
_FAST_ISO = sys.version_info >= (3, 11) and not PURE  # fromisoformat reads "Z" from 3.11 on
# Offsets in minutes, each zone made once: at most 2,879 exist, so the memo keeps them all.
_ZONES: Memo[int, timezone] = Memo(lambda minutes: timezone(timedelta(minutes=minutes)), size=3000)
_ZONES[0] = _UTC
_TWO_DIGITS = tuple("%02d" % n for n in range(100))  # noqa: UP031


def _zone(minutes: int) -> timezone:
    return _ZONES[minutes]


class Timestamp(datetime):
    """An aware ``datetime`` with nanosecond precision and a fixed UTC offset.

    ``nanosecond`` holds the digits below the microsecond (0-999), as pandas does; ``str()`` gives the
    canonical RFC 3339 text. Equality and ordering compare instants, nanoseconds included. Adding a
    ``timedelta``, ``replace()`` and ``astimezone()`` keep the nanoseconds; the difference of two
    Timestamps is a ``timedelta``, which stops at microseconds. A Timestamp always has a UTC offset:
    datetime's constructors that would make one without (``Timestamp.now()``, ``utcnow()``) refuse.

    >>> t = Timestamp.parse("2018-04-05T17:31:00.123456789+02:00")
    >>> t.microsecond, t.nanosecond, str(t)
    (123456, 789, '2018-04-05T17:31:00.123456789+02:00')
    """

    __slots__ = ("_nanosecond",)
    _nanosecond: int

    def __new__(cls, *args: Any, nanosecond: int = 0, **kwargs: Any) -> Timestamp:
        self = super().__new__(cls, *args, **kwargs)
        if not 0 <= nanosecond <= 999:
            raise ValueError("nanosecond must be in 0..999")
        if self.utcoffset() is None:
            # datetime's own constructors (now(), today(), combine(), fromisoformat() ...) come here
            # too: a result without an offset is refused, with the way to get one.
            raise UsageError("a Timestamp names its UTC offset: give tzinfo (Timestamp.now(timezone.utc), say)")
        self._nanosecond = nanosecond
        return self

    @property
    def nanosecond(self) -> int:
        """Nanoseconds below the microsecond, 0-999."""
        return self._nanosecond

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        """Parse RFC 3339 text; see :func:`parse_timestamp`."""
        return parse_timestamp(text)

    def rfc3339(self) -> str:
        """The canonical RFC 3339 text (``Z`` for UTC, 0/3/6/9 fraction digits)."""
        return format_timestamp(self)

    def __str__(self) -> str:
        return format_timestamp(self)

    def __repr__(self) -> str:
        return f"Timestamp({format_timestamp(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (parse_timestamp, (format_timestamp(self),))

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return self.__reduce__()

    # datetime's methods that build a new datetime from this one know nothing of the nanoseconds: each
    # is overridden to carry them.

    def replace(self, *args: Any, nanosecond: int | None = None, **kwargs: Any) -> Timestamp:
        """A copy with fields replaced, as ``datetime.replace``; ``nanosecond`` is kept unless given.

        >>> str(Timestamp.parse("2018-04-05T17:31:00.123456789Z").replace(year=2020))
        '2020-04-05T17:31:00.123456789Z'
        """
        base = datetime(
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.microsecond,
            self.tzinfo,
            fold=self.fold,
        ).replace(*args, **kwargs)
        return Timestamp(
            base.year, base.month, base.day, base.hour, base.minute, base.second, base.microsecond, base.tzinfo,
            fold=base.fold, nanosecond=self._nanosecond if nanosecond is None else nanosecond,
        )  # fmt: skip

    def astimezone(self, tz: tzinfo | None = None) -> Timestamp:
        """The same instant in another zone (the local one without ``tz``), nanoseconds kept.

        >>> from datetime import timezone
        >>> str(Timestamp.parse("2018-04-05T17:31:00.123456789+02:00").astimezone(timezone.utc))
        '2018-04-05T15:31:00.123456789Z'
        """
        base = datetime.astimezone(self, tz)
        return Timestamp(
            base.year, base.month, base.day, base.hour, base.minute, base.second, base.microsecond, base.tzinfo,
            fold=base.fold, nanosecond=self._nanosecond,
        )  # fmt: skip

    def __add__(self, other: timedelta) -> Timestamp:
        result = datetime.__add__(self, other)
        if isinstance(result, Timestamp):
            result._nanosecond = self._nanosecond
        return result

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        result = datetime.__sub__(self, other)
        if isinstance(result, Timestamp):
            result._nanosecond = self._nanosecond
        return result

    def _key(self, other: object) -> tuple[int, int] | None:
        if isinstance(other, Timestamp):
            return (self._nanosecond, other._nanosecond)
        if isinstance(other, datetime):
            return (self._nanosecond, 0)
        return None

    def __eq__(self, other: object) -> bool:
        pair = self._key(other)
        if pair is None:
            return NotImplemented
        return datetime.__eq__(self, other) is True and pair[0] == pair[1]

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        base = datetime.__hash__(self)
        return base if self._nanosecond == 0 else hash((base, self._nanosecond))

    def __lt__(self, other: object) -> bool:
        pair = self._key(other)
        if pair is None:
            return NotImplemented
        assert isinstance(other, datetime)
        return datetime.__lt__(self, other) or (datetime.__eq__(self, other) is True and pair[0] < pair[1])

    def __le__(self, other: object) -> bool:
        result = self.__lt__(other)
        return result if result is NotImplemented else result or self.__eq__(other)

    def __gt__(self, other: object) -> bool:
        result = self.__le__(other)
        return result if result is NotImplemented else not result

    def __ge__(self, other: object) -> bool:
        result = self.__lt__(other)
        return result if result is NotImplemented else not result


def parse_timestamp(text: str, attribute: str = "time") -> Timestamp:
    """Parse an RFC 3339 ``date-time`` into a :class:`Timestamp`, keeping up to nine fraction digits.

    Fraction digits beyond nine are accepted only when they are zeros (anything else would be lost).

    >>> parse_timestamp("2018-04-05T17:31:00Z").year
    2018
    """
    if _C_PARSE is not None and type(text) is str:
        stamp = _C_PARSE(text)
        if stamp is not FALLBACK:
            return stamp  # type: ignore[no-any-return]
    if (
        _FAST_ISO and type(text) is str and 20 <= len(text) <= 27 and text[-1] == "Z" and text[10] in "Tt"
        and text[4] == "-" and text[7] == "-" and text[13] == ":" and text[16] == ":"
        and (len(text) == 20 or (text[19] == "." and len(text) > 21))
    ):  # fmt: skip
        # The common case: UTC, at most six fraction digits. With the separators where RFC 3339 puts
        # them, what datetime.fromisoformat (Python 3.11+) accepts is exactly RFC 3339 (it rejects
        # anything but ASCII digits between them), read in C. Anything it refuses goes on below, to be
        # parsed or reported.
        try:
            parsed = _fromisoformat(text)
        except ValueError:
            pass
        else:
            stamp = _new_datetime(
                Timestamp, parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute, parsed.second,
                parsed.microsecond, parsed.tzinfo,
            )  # fmt: skip
            stamp._nanosecond = 0
            return stamp
    match = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidAttributeError(attribute, "is not an RFC 3339 timestamp", text)
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    nanos = 0
    if fraction:
        if len(fraction) > 9:
            if fraction[9:].strip("0"):
                raise InvalidAttributeError(attribute, "has more than nanosecond precision", text)
            fraction = fraction[:9]
        nanos = int(fraction.ljust(9, "0"))
    if zulu:
        zone: tzinfo = _UTC
    else:
        hours, minutes = int(off_h), int(off_m)
        if hours > 23 or minutes > 59:
            raise InvalidAttributeError(attribute, "has a UTC offset out of range", text)
        offset = hours * 60 + minutes
        zone = _zone(-offset if sign == "-" else offset)
    try:
        # datetime.__new__ directly: Timestamp.__new__ takes keywords and costs four times as much.
        stamp = _new_datetime(
            Timestamp, int(year), int(month), int(day), int(hour), int(minute), int(second), nanos // 1000, zone
        )
    except ValueError as exc:  # day 31 of a 30-day month, hour 24, leap second 60
        raise InvalidAttributeError(attribute, f"is not a valid date and time ({exc})", text) from exc
    stamp._nanosecond = nanos % 1000
    return stamp


def to_timestamp(value: object, attribute: str = "time") -> Timestamp:
    """Accept a :class:`Timestamp`, an aware ``datetime`` or RFC 3339 text; return a :class:`Timestamp`.

    A ``datetime`` keeps its instant and its UTC offset (as a fixed offset); naive ones are refused,
    since the spec's Timestamp always names its offset.

    >>> from datetime import datetime, timezone
    >>> str(to_timestamp(datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc)))
    '2020-01-02T03:04:05Z'
    """
    if type(value) is Timestamp and value.tzinfo is _UTC:
        return value  # others are checked below: a Timestamp can be built naive or with any tzinfo
    if isinstance(value, str):
        return parse_timestamp(value, attribute)
    if isinstance(value, datetime):
        zone = value.tzinfo
        if zone is not _UTC:
            offset = value.utcoffset()
            if offset is None:
                raise InvalidAttributeError(attribute, "is a naive datetime; a UTC offset is required", value)
            if offset % _MINUTE:
                raise InvalidAttributeError(attribute, "has a UTC offset that is not whole minutes", value)
            zone = _zone(offset // _MINUTE)
        stamp = _new_datetime(
            Timestamp, value.year, value.month, value.day, value.hour, value.minute, value.second,
            value.microsecond, zone,
        )  # fmt: skip
        stamp._nanosecond = value.nanosecond if isinstance(value, Timestamp) else 0
        return stamp
    raise InvalidAttributeError(attribute, "must be a Timestamp: an aware datetime or RFC 3339 text", value)


def format_timestamp(value: datetime) -> str:
    """Canonical RFC 3339 text: ``Z`` for UTC, and 0, 3, 6 or 9 fraction digits, the fewest exact.

    >>> format_timestamp(Timestamp.parse("2018-04-05T17:31:00.120+01:00"))
    '2018-04-05T17:31:00.120+01:00'
    """
    if _C_FORMAT is not None:
        text = _C_FORMAT(value)
        if text is not FALLBACK:
            return text  # type: ignore[no-any-return]
    if type(value) is Timestamp:
        nanos = value.microsecond * 1000 + value._nanosecond
    else:
        nanos = value.microsecond * 1000 + (value.nanosecond if isinstance(value, Timestamp) else 0)
    zone = value.tzinfo
    if zone is _UTC:
        suffix = "Z"
    else:
        offset = value.utcoffset()
        minutes = 0 if offset is None else offset // _MINUTE
        if minutes == 0:
            suffix = "Z"
        else:
            sign = "-" if minutes < 0 else "+"
            hours, minutes = divmod(abs(minutes), 60)
            suffix = "%s%02d:%02d" % (sign, hours, minutes)  # noqa: UP031
    if not nanos:
        fraction = ""
    elif nanos % 1_000_000 == 0:
        fraction = ".%03d" % (nanos // 1_000_000)  # noqa: UP031
    elif nanos % 1000 == 0:
        fraction = ".%06d" % (nanos // 1000)  # noqa: UP031
    else:
        fraction = ".%09d" % nanos  # noqa: UP031
    # Two-digit fields from a table and one f-string of plain strings: a third faster than formatting
    # each number (a hot path of every encoder).
    year = value.year
    return (
        f"{year if year > 999 else '%04d' % year}-{_TWO_DIGITS[value.month]}-{_TWO_DIGITS[value.day]}"  # noqa: UP031
        f"T{_TWO_DIGITS[value.hour]}:{_TWO_DIGITS[value.minute]}:{_TWO_DIGITS[value.second]}{fraction}{suffix}"
    )


# The compiled parser and formatter, when built: the same results for what they take (RFC 3339 text in
# ASCII; a Timestamp in UTC), FALLBACK for the rest.
_C_PARSE = _C_FORMAT = None
if SPEEDUPS is not None and SPEEDUPS.configure(
    "timestamp", (Timestamp, Timestamp.__dict__["_nanosecond"], _UTC, _ZONES)
):  # fmt: skip
    _C_PARSE, _C_FORMAT = SPEEDUPS.parse_timestamp, SPEEDUPS.format_timestamp
