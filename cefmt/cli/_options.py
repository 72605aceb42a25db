"""Argument types that refuse what makes no sense (a negative port, a zero timeout) as usage errors.

Each is an ``argparse`` ``type=``: a bad value ends the command with a usage message and exit status 2
before anything runs.
"""

from __future__ import annotations

import argparse
import math
import re

__all__ = ["count", "header", "non_negative", "port", "seconds"]

# RFC 9110 section 5.6.2: a field name is a token, 1*tchar.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A field value holds no control character but the tab (CR or LF would end the header, NUL is refused).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Headers that describe the message itself, or the connection: cefmt sets them for each request.
_RESERVED = {"content-length", "content-type", "transfer-encoding", "host", "connection", "expect", "te", "upgrade"}


def _integer(text: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(text)


def count(text: str) -> int:
    """A whole number of at least 1 (events, bytes, connections).

    >>> count("3")
    3
    >>> count("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be at least 1, got 0
    """
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative(text: str) -> int:
    """A whole number of at least 0 (retries).

    >>> non_negative("0")
    0
    """
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def port(text: str) -> int:
    """A TCP port, 0 to 65535 (0: any free port).

    >>> port("8080")
    8080
    >>> port("70000")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: a port is 0 to 65535, got 70000
    """
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, got {value}")
    return value


def seconds(text: str) -> float:
    """A duration in seconds, more than 0 and finite.

    >>> seconds("2.5")
    2.5
    >>> seconds("nan")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: expected a number of seconds above 0, got 'nan'
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return value


def header(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` (or ``NAME: VALUE``) as a header to add to every request, checked.

    The name must be an HTTP token, the value must hold no line break or other control character (it
    could add a header or split the request), and headers that cefmt sets itself are refused.

    >>> header("Authorization=Bearer abc")
    ('Authorization', 'Bearer abc')
    >>> header("X-Trace: 7")
    ('X-Trace', '7')
    >>> header("X-Evil=a\\r\\nHost: elsewhere")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: header 'X-Evil': the value holds a control character (line break, NUL, ...)
    """
    separators = [index for index in (text.find("="), text.find(":")) if index > 0]
    if not separators:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    cut = min(separators)
    name, value = text[:cut].strip(), text[cut + 1 :].strip()
    if not _TOKEN.fullmatch(name):
        raise argparse.ArgumentTypeError(f"{name!r} is not a header name (letters, digits and !#$%&'*+-.^_`|~)")
    if _CONTROL.search(value):
        raise argparse.ArgumentTypeError(f"header {name!r}: the value holds a control character (line break, NUL, ...)")
    if not value.isascii():
        raise argparse.ArgumentTypeError(f"header {name!r}: the value must be ASCII text")
    lowered = name.lower()
    if lowered in _RESERVED:
        raise argparse.ArgumentTypeError(f"header {name!r} is set by cefmt for each request")
    if lowered.startswith("ce-"):
        raise argparse.ArgumentTypeError(f"header {name!r}: event attributes come from the events, not from --header")
    return name, value
