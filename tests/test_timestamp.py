from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cefmt import InvalidAttributeError, Timestamp, _timestamp
from cefmt._timestamp import format_timestamp, parse_timestamp, to_timestamp

from .strategies import timestamps


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2018-04-05T17:31:00Z", "2018-04-05T17:31:00Z"),
        ("2018-04-05t17:31:00z", "2018-04-05T17:31:00Z"),
        ("2018-04-05T17:31:00.000000000Z", "2018-04-05T17:31:00Z"),
        ("2018-04-05T17:31:00.1Z", "2018-04-05T17:31:00.100Z"),
        ("2018-04-05T17:31:00.123456789+02:00", "2018-04-05T17:31:00.123456789+02:00"),
        ("2018-04-05T17:31:00.123456-01:30", "2018-04-05T17:31:00.123456-01:30"),
        ("2018-04-05T17:31:00.1234567890000Z", "2018-04-05T17:31:00.123456789Z"),
        ("2018-04-05T17:31:00+00:00", "2018-04-05T17:31:00Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
    ],
)
def test_parse_and_canonical_text(text: str, canonical: str) -> None:
    assert str(parse_timestamp(text)) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "lunchtime", "2018-04-05T18:31Z", "2018-04-05T18:31:00X", "2018-04-05T18:31:00+25:00",
        "2018-04-05T18:31:00+xx:00", "2018-04-05T18:31:00+05", "2018-04-05 18:31:00Z", "2018-02-30T00:00:00Z",
        "2018-04-05T24:00:00Z", "2016-12-31T23:59:60Z", "2018-04-05T18:31:00.1234567891Z",
        "２０１８-04-05T18:31:00Z", "2018-04-05T18:31:00Z ",
    ],
)  # fmt: skip
def test_rejects_what_rfc3339_does_not_allow(text: str) -> None:
    with pytest.raises(InvalidAttributeError) as info:
        parse_timestamp(text)
    assert info.value.attribute == "time"


def test_nanoseconds_are_kept_and_compared() -> None:
    a = parse_timestamp("2018-04-05T17:31:00.123456789Z")
    b = parse_timestamp("2018-04-05T17:31:00.123456788Z")
    assert (a.microsecond, a.nanosecond) == (123456, 789)
    assert a != b and b < a and a > b and a >= b and b <= a
    assert a == parse_timestamp("2018-04-05T19:31:00.123456789+02:00")  # instants compare
    assert hash(a) == hash(parse_timestamp("2018-04-05T19:31:00.123456789+02:00"))


def test_equal_to_plain_datetime_only_without_nanoseconds() -> None:
    plain = datetime(2018, 4, 5, 17, 31, tzinfo=timezone.utc)
    assert parse_timestamp("2018-04-05T17:31:00Z") == plain
    assert hash(parse_timestamp("2018-04-05T17:31:00Z")) == hash(plain)
    assert parse_timestamp("2018-04-05T17:31:00.000000001Z") != plain


def test_arithmetic_keeps_nanoseconds() -> None:
    t = parse_timestamp("2018-04-05T17:31:00.000000007Z")
    assert str(t + timedelta(seconds=1)) == "2018-04-05T17:31:01.000000007Z"
    assert (t - timedelta(microseconds=1)).nanosecond == 7


def test_from_datetime_needs_an_offset() -> None:
    with pytest.raises(InvalidAttributeError, match="naive"):
        to_timestamp(datetime(2020, 1, 1))
    with pytest.raises(InvalidAttributeError, match="whole minutes"):
        to_timestamp(datetime(2020, 1, 1, tzinfo=timezone(timedelta(seconds=30))))
    with pytest.raises(InvalidAttributeError, match="must be a Timestamp"):
        to_timestamp(1234567890)


@given(timestamps())
def test_text_and_pickle_round_trip(value: Timestamp) -> None:
    again = parse_timestamp(format_timestamp(value))
    assert again == value and again.utcoffset() == value.utcoffset() and again.nanosecond == value.nanosecond
    copied = pickle.loads(pickle.dumps(value))
    assert type(copied) is Timestamp and copied == value and str(copied) == str(value)


# The parser reads the common form (UTC, up to six fraction digits) through datetime.fromisoformat.
# These strings sit next to that form, one character off in every way that matters; the parser must
# accept exactly what the RFC 3339 pattern accepts and give the same instant either way.
_NEAR_CANONICAL = st.lists(
    st.sampled_from([*"0123456789-:.,TtZz +W", "\u0663", "\uff11"]), min_size=18, max_size=28
).map("".join)


def _reference_parse(text: str) -> tuple[datetime, int] | None:
    match = _timestamp._RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    nanos = int((fraction or "0")[:9].ljust(9, "0"))
    if not zulu and (int(off_h) > 23 or int(off_m) > 59):
        return None
    try:
        offset = timedelta(0) if zulu else (-1 if sign == "-" else 1) * timedelta(hours=int(off_h), minutes=int(off_m))
        zone = timezone(offset)
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), nanos // 1000, zone)
    except ValueError:
        return None
    if fraction and fraction[9:].strip("0"):  # finer than a nanosecond: refused, not rounded
        return None
    return moment, nanos % 1000


@given(st.one_of(_NEAR_CANONICAL, timestamps().map(str), st.builds(
    lambda base, cut, char: base[:cut] + char + base[cut + 1 :],
    timestamps().map(str), st.integers(0, 27), st.sampled_from([*"0-:.,TtZz +W9", "\u0663"]),
)))  # fmt: skip
def test_fast_path_accepts_exactly_rfc3339(text: str) -> None:
    expected = _reference_parse(text)
    try:
        parsed = parse_timestamp(text)
    except InvalidAttributeError:
        assert expected is None, text
        return
    assert expected is not None, text
    moment, nanosecond = expected
    assert datetime.__eq__(parsed, moment) and parsed.nanosecond == nanosecond
    assert parsed.utcoffset() == moment.utcoffset()
    assert parse_timestamp(str(parsed)) == parsed


@pytest.mark.parametrize(
    "text",
    ["2024-05-01T12:30:45.Z", "2024-W01-1T12:30:45Z", "2024-05-01 12:30:45Z", "2024-05-01T12:30:45,123Z",
     "2024-05-01T123045.12345Z", "2024-05-01T12:30:4\u0663Z", "2024-05-01T24:00:00Z", "2024-02-30T00:00:00Z"],
)  # fmt: skip
def test_fast_path_refuses_what_fromisoformat_alone_would_take(text: str) -> None:
    with pytest.raises(InvalidAttributeError):
        parse_timestamp(text)
