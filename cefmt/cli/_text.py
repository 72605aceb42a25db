"""Text the commands print, made safe for a terminal or a log: no control character gets through raw.

Input can hold anything, and what a command prints about it (a header name, a request line, an
error quoting a value) would otherwise reach the terminal as it came: an escape sequence recolours
the screen, moves the cursor or retitles the window; a CR or LF forges a log line. Every command's
output meant for people goes through :func:`printable`; JSON meant for people through
:func:`printable_json`.
"""

from __future__ import annotations

import re

__all__ = ["excerpt", "printable", "printable_json"]

# C0 controls, DEL and C1 controls (U+009B is a one-character CSI on some terminals), the line and
# paragraph separators, the bidirectional embeddings, overrides and isolates (they reorder what is
# shown), and lone surrogates (they cannot be written as UTF-8 at all).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# In JSON text these characters can only stand inside strings, where \\uXXXX means the same thing;
# the controls below U+0020 are escaped by every JSON encoder already.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character written as an escape, so it prints as one inert line.

    >>> printable("ce-x\\x1b[31m red\\r\\nforged")
    'ce-x\\\\x1b[31m red\\\\r\\\\nforged'
    >>> printable("plain text, é and 日本 stay as they are")
    'plain text, é and 日本 stay as they are'
    """
    return _UNSAFE.sub(_escape, text)


def printable_json(text: str) -> str:
    """JSON text with the characters a terminal acts on written as ``\\uXXXX``: the same JSON value.

    >>> import json
    >>> line = json.dumps({"a": "\\x9b31m"}, ensure_ascii=False)
    >>> printable_json(line), json.loads(printable_json(line)) == json.loads(line)
    ('{"a": "\\\\u009b31m"}', True)
    """
    return _UNSAFE_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def excerpt(text: str, limit: int = 200) -> str:
    """The start of ``text`` as one printable line of at most about ``limit`` characters.

    Runs of white space (line breaks included) become one space; what is cut is marked with ``…``.

    >>> excerpt("first line\\n\\n  second\\tline")
    'first line second line'
    >>> excerpt("x" * 300, 10)
    'xxxxxxxxx…'
    """
    line = " ".join(text.split())
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return printable(line)
