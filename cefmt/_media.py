"""Media types: parse a ``Content-Type`` once, then answer "is it JSON?", "is it text?", "which charset?"."""

from __future__ import annotations

from typing import NamedTuple

from ._memo import Memo

__all__ = ["MediaType", "is_json_media_type", "is_text_media_type", "parse_media_type"]

# Charsets a text body may be decoded with. A message names its charset, so the list is closed:
# what a message says never picks an arbitrary codec.
_CHARSETS = {
    "utf-8": "utf-8", "utf8": "utf-8", "us-ascii": "ascii", "ascii": "ascii",
    "iso-8859-1": "latin-1", "latin1": "latin-1", "latin-1": "latin-1",
    "utf-16": "utf-16", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be",
}  # fmt: skip


class MediaType(NamedTuple):
    """A parsed media type: ``essence`` is ``type/subtype`` in lower case; ``params`` keys are lower case."""

    essence: str
    params: tuple[tuple[str, str], ...]

    def param(self, name: str) -> str | None:
        """The value of parameter ``name`` (lower-case name), or ``None``."""
        for key, value in self.params:
            if key == name:
                return value
        return None

    @property
    def is_json(self) -> bool:
        """JSON per the JSON event format: ``application/json``, ``text/json`` or a ``+json`` suffix."""
        return self.essence in ("application/json", "text/json") or self.essence.endswith("+json")

    @property
    def is_event_format(self) -> bool:
        """A CloudEvents format's own media type (``application/cloudevents+json``, a batch type ...).

        A binding reads such a Content-Type as "the whole event is in the body" (structured or batch
        mode), so it cannot also be the type of an event's data in binary mode.
        """
        return self.essence.startswith(("application/cloudevents+", "application/cloudevents-batch+"))

    @property
    def charset(self) -> str | None:
        """The Python codec for the ``charset`` parameter when it is one cefmt decodes, else ``None``."""
        value = self.param("charset")
        return None if value is None else _CHARSETS.get(value.lower())

    @property
    def is_text(self) -> bool:
        """Text that binary-mode decoding hands over as ``str``: ``text/*``, XML, or any declared charset."""
        essence = self.essence
        return (
            essence.startswith("text/")
            or essence == "application/xml"
            or essence.endswith("+xml")
            or self.param("charset") is not None
        )


def parse_media_type(value: str) -> MediaType:
    """Parse a ``Content-Type`` value leniently; parameters keep their value, quotes removed.

    >>> parse_media_type('Text/Plain; Charset="utf-8"').param("charset")
    'utf-8'
    """
    return _PARSED[value]


def _parse(value: str) -> MediaType:
    essence, _, rest = value.partition(";")
    params: list[tuple[str, str]] = []
    while rest:
        part, _, rest = rest.partition(";")
        name, eq, raw = part.partition("=")
        if eq:
            params.append((name.strip().lower(), raw.strip().strip('"')))
    return MediaType(essence.strip().lower(), tuple(params))


_PARSED: Memo[str, MediaType] = Memo(_parse)


def is_json_media_type(value: str | None) -> bool:
    """Whether a ``datacontenttype`` declares JSON data.

    >>> is_json_media_type("application/cloudevents+json"), is_json_media_type("text/plain")
    (True, False)
    """
    return value is not None and _IS_JSON[value]


_IS_JSON: Memo[str, bool] = Memo(lambda value: parse_media_type(value).is_json)


def is_text_media_type(value: str | None) -> bool:
    """Whether a ``datacontenttype`` declares text data (see :attr:`MediaType.is_text`)."""
    return value is not None and parse_media_type(value).is_text
