"""The error hierarchy: every failure cefmt reports is a :class:`CloudEventError`.

Errors carry what went wrong as attributes and build their message from them, so callers can react to
``exc.attribute`` or ``exc.key`` without parsing text. The base class derives from :class:`ValueError`,
so code written as ``except ValueError`` keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

__all__ = [
    "CloudEventError",
    "CodecConflictError",
    "DataMarshallerError",
    "DataUnmarshallerError",
    "EncodeError",
    "InvalidAttributeError",
    "InvalidDataError",
    "KeyMapperError",
    "LimitExceededError",
    "MalformedMessageError",
    "MissingAttributeError",
    "PluginLoadError",
    "UnknownCodecError",
    "UnsupportedSpecVersionError",
    "UsageError",
]


class CloudEventError(ValueError):
    """Base class of every error raised by cefmt.

    ``location`` says where in a message the problem sits (``"header 'ce-time'"``, ``"batch item 3"``)
    when a decoder knows it; it is ``None`` for events built in code.
    """

    location: str | None = None

    def __init__(self, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.location = location

    def at(self: _Error, location: str) -> _Error:
        """A copy of this error with ``location`` prefixed (outermost first); this one is left as it is.

        Decoders use it to say where in a message an error sits: ``raise exc.at("batch item 3") from exc``.

        >>> error = MalformedMessageError("bad")
        >>> str(error.at("batch item 3")), str(error)
        ('batch item 3: bad', 'bad')
        """
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.args = self.args
        copy.location = location if self.location is None else f"{location}, {self.location}"
        return copy

    def __str__(self) -> str:
        text = super().__str__()
        return text if self.location is None else f"{self.location}: {text}"

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuilt from its facts, not its constructor's arguments (which differ per class): an error
        # raised in a worker process reaches the parent whole.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(kind: type[CloudEventError], args: tuple[object, ...], facts: dict[str, object]) -> CloudEventError:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(facts)
    return error


_Error = TypeVar("_Error", bound=CloudEventError)


class InvalidAttributeError(CloudEventError):
    """A context attribute breaks a rule of the CloudEvents type system or of its spec version.

    >>> InvalidAttributeError("time", "not an RFC 3339 timestamp", "lunchtime").rule
    'not an RFC 3339 timestamp'
    """

    def __init__(self, attribute: str, rule: str, value: object = None) -> None:
        self.attribute = attribute
        self.rule = rule
        self.value = value
        shown = "" if value is None else f" (got {_short(value)})"
        super().__init__(f"attribute {attribute!r}: {rule}{shown}")


class MissingAttributeError(InvalidAttributeError):
    """A required context attribute is absent."""

    def __init__(self, attribute: str, specversion: str) -> None:
        super().__init__(attribute, f"is required by CloudEvents {specversion} and is missing")
        self.specversion = specversion


class UnsupportedSpecVersionError(CloudEventError):
    """The ``specversion`` is not one cefmt (or the chosen codec) implements."""

    def __init__(self, specversion: object, supported: Sequence[str]) -> None:
        self.specversion = specversion
        self.supported = tuple(supported)
        super().__init__(f"unsupported specversion {_short(specversion)}; supported: {', '.join(self.supported)}")


class UsageError(CloudEventError, TypeError):
    """A cefmt function was called the wrong way: an argument of the wrong type, one event given to a
    batch mode, an option a codec does not take. Also a :class:`TypeError`.

    >>> issubclass(UsageError, TypeError), issubclass(UsageError, ValueError)
    (True, True)
    """


class EncodeError(CloudEventError):
    """An event is valid but a codec cannot write it: data its format cannot carry (a string with a
    lone surrogate, a value JSON has no form for), or an attribute value the transport cannot send.

    ``codec`` names the codec or step that refused (``"json"``, ``"http binary"``) when it is known.
    The foreign exception, when there was one, is chained as ``__cause__``.

    >>> str(EncodeError("data holds a lone surrogate", codec="json"))
    'json: data holds a lone surrogate'
    """

    def __init__(self, message: str, *, codec: str | None = None) -> None:
        self.codec = codec
        super().__init__(message, location=codec)


class InvalidDataError(CloudEventError):
    """An event's data does not fit the type it was read as (``data_type=``, ``event.data_as(T)``), or
    typed data has no JSON form. Names the event, the type and each field path inside the data.

    ``event_id`` and ``data_type`` say which event and type; ``problems`` lists ``"path: reason"``.

    >>> str(InvalidDataError("7", "Order", ["data.items[2].qty: expected int, got 'x'"]))
    "event '7': data does not fit Order: data.items[2].qty: expected int, got 'x'"
    """

    def __init__(self, event_id: str | None, data_type: str, problems: list[str]) -> None:
        self.event_id = event_id
        self.data_type = data_type
        self.problems = problems
        where = f"event {event_id!r}: " if event_id is not None else ""
        super().__init__(f"{where}data does not fit {data_type}: {'; '.join(problems)}")


class MalformedMessageError(CloudEventError):
    """A message cannot be read: bad JSON or msgpack, a bad header encoding, wrong member types.

    The original exception, when there was one, is chained as ``__cause__``.
    """


class LimitExceededError(MalformedMessageError):
    """A message is larger, longer or deeper than the configured limit; raised before the work is done."""

    def __init__(self, limit: str, value: int, maximum: int) -> None:
        self.limit = limit
        self.value = value
        self.maximum = maximum
        super().__init__(f"{limit} {value} exceeds the limit of {maximum}")


class _UserFunctionFailed:
    """What the errors raised for a user's own function share: its name and what went wrong."""

    function: str
    reason: str

    def _describe(self, role: str, function: object, reason: str) -> str:
        self.function = _name_of(function)
        self.reason = reason
        return f"the {role} {self.function} failed: {reason}"


class DataMarshallerError(_UserFunctionFailed, EncodeError):
    """A ``data_marshaller`` or ``envelope_marshaller`` given to an SDK-style function (:mod:`cefmt.http`,
    :mod:`cefmt.kafka`) raised, or returned something that cannot be sent. The SDK's
    ``DataMarshallerError`` plays the same part. The function's own exception is the ``__cause__``.
    Attributes: ``function`` (its name), ``reason``.

    >>> str(DataMarshallerError("data_marshaller", len, "TypeError: object of type 'int' has no len()"))
    "the data_marshaller len failed: TypeError: object of type 'int' has no len()"
    """

    def __init__(self, role: str, function: object, reason: str) -> None:
        EncodeError.__init__(self, self._describe(role, function, reason))


class DataUnmarshallerError(_UserFunctionFailed, MalformedMessageError):
    """A ``data_unmarshaller`` or ``envelope_unmarshaller`` given to an SDK-style function raised, or
    returned something an event cannot hold. The SDK's ``DataUnmarshallerError`` plays the same part; a
    :class:`MalformedMessageError`, since a receiver answers it as it answers a message it cannot read.
    The function's own exception is the ``__cause__``. Attributes: ``function``, ``reason``.
    """

    def __init__(self, role: str, function: object, reason: str) -> None:
        MalformedMessageError.__init__(self, self._describe(role, function, reason))


class KeyMapperError(_UserFunctionFailed, EncodeError):
    """A Kafka ``key_mapper`` raised, or returned something that is not a record key (bytes, ``str``
    or ``None``). The SDK's ``KeyMapperError`` plays the same part. Attributes: ``function``, ``reason``.
    """

    def __init__(self, function: object, reason: str) -> None:
        EncodeError.__init__(self, self._describe("key_mapper", function, reason))


class UnknownCodecError(CloudEventError, LookupError):
    """No codec is registered for a ``(specversion, transport, mode)`` key."""

    def __init__(self, key: tuple[str, str, str], available: Sequence[tuple[str, str, str]]) -> None:
        self.key = key
        self.available = tuple(available)
        listing = ", ".join("/".join(k) for k in self.available) or "none"
        super().__init__(f"no codec registered for {'/'.join(key)}; available: {listing}")


class PluginLoadError(CloudEventError):
    """The plugin providing a codec could not be imported or does not provide ``encode``/``decode``."""

    def __init__(self, key: tuple[str, str, str], distribution: str, target: str, reason: str) -> None:
        self.key = key
        self.distribution = distribution
        self.target = target
        self.reason = reason
        super().__init__(
            f"codec {'/'.join(key)} from distribution {distribution!r} ({target}) failed to load: {reason}"
        )


class CodecConflictError(CloudEventError):
    """Two different installed distributions claim the same codec key."""

    def __init__(self, key: tuple[str, str, str], providers: Sequence[str]) -> None:
        self.key = key
        self.providers = tuple(providers)
        super().__init__(
            f"codec {'/'.join(key)} is provided by more than one distribution: "
            f"{', '.join(self.providers)}; uninstall one, or choose with cefmt.register()"
        )


def _name_of(function: object) -> str:
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    module = getattr(function, "__module__", None)
    if not isinstance(name, str):
        return _short(function, 60)
    return f"{module}.{name}" if module not in (None, "builtins", "__main__") else name


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
