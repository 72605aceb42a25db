"""Typed event data through cattrs: the user's own types in, their JSON form on the wire, and back.

:func:`make_converter` builds a ``cattrs.Converter`` set up for event data: strict about the JSON
types it reads (``"5"`` is not an ``int``, ``5.5`` is not an ``int``, unknown keys are refused), Timestamps
and ``datetime`` as RFC 3339 text, ``bytes`` as Base64, and pydantic models through their own
``model_validate``/``model_dump`` when pydantic is installed (duck-typed: pydantic is never imported
here). :data:`cefmt.converter` is the default instance; pass your own with ``converter=`` wherever
data is structured or unstructured. cattrs builds and caches one function per type, so a typed
decode costs one call on top of the untyped one.

cattrs is imported on first use, not when cefmt is.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import InvalidAttributeError, InvalidDataError, MalformedMessageError, UsageError
from ._frozen import check_data
from ._timestamp import Timestamp, format_timestamp, to_timestamp

if TYPE_CHECKING:
    import cattrs

__all__ = [
    "default_converter",
    "from_capture",
    "make_converter",
    "structure_data",
    "to_capture",
    "unstructure_data",
]

T = TypeVar("T")

#: What ``data_type=`` takes: one type for every event, or a map from event ``type`` to data type.
DataTypes = Any


def make_converter(*, forbid_extra_keys: bool = True) -> cattrs.Converter:
    """A new cattrs converter set up for event data, to configure and pass as ``converter=``.

    >>> import attrs
    >>> @attrs.frozen
    ... class Reading:
    ...     sensor: str
    ...     celsius: float
    >>> converter = make_converter()
    >>> converter.structure({"sensor": "s1", "celsius": 21}, Reading)
    Reading(sensor='s1', celsius=21.0)
    """
    import cattrs  # noqa: PLC0415 - imported on first use of typed data, not with cefmt

    # Without cattrs' detailed validation: a third faster on data that fits. Data that does not is read
    # again by a detailed copy of the converter (structure_data), for the paths of every problem.
    converter = cattrs.Converter(forbid_extra_keys=forbid_extra_keys, detailed_validation=False)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(float, _strict_float)
    converter.register_structure_hook(str, _strict(str))
    converter.register_structure_hook(bool, _strict(bool))
    converter.register_structure_hook(bytes, _bytes_from_base64)
    converter.register_unstructure_hook(bytes, lambda value: base64.b64encode(value).decode("ascii"))
    for kind in (datetime, Timestamp):
        converter.register_structure_hook(kind, _timestamp)
        converter.register_unstructure_hook(kind, format_timestamp)
    converter.register_structure_hook_func(_is_pydantic_model, _pydantic_structure)
    converter.register_unstructure_hook_func(_is_pydantic_instance_type, _pydantic_unstructure)
    return converter


def _strict(kind: type) -> Callable[[Any, type], Any]:
    def structure(value: Any, _: type) -> Any:
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}, got {_shown(value)}")
        return value

    return structure


def _strict_int(value: Any, _: type) -> int:
    if type(value) is not int:
        raise TypeError(f"expected int, got {_shown(value)}")
    return value


def _strict_float(value: Any, _: type) -> float:
    if type(value) is float:
        return value
    if type(value) is int:  # JSON writes 21.0 as 21
        return float(value)
    raise TypeError(f"expected float, got {_shown(value)}")


def _bytes_from_base64(value: Any, _: type) -> bytes:
    if type(value) is not str:
        raise TypeError(f"expected Base64 text, got {_shown(value)}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"expected Base64 text, got {_shown(value)}") from exc


def _timestamp(value: Any, _: type) -> Timestamp:
    try:
        return to_timestamp(value, "data")
    except InvalidAttributeError as exc:
        raise ValueError(f"expected an RFC 3339 timestamp, got {_shown(value)}") from exc


def _is_pydantic_model(kind: Any) -> bool:
    return isinstance(kind, type) and hasattr(kind, "model_validate") and hasattr(kind, "model_dump")


def _is_pydantic_instance_type(kind: Any) -> bool:
    return _is_pydantic_model(kind)


def _pydantic_structure(value: Any, kind: Any) -> Any:
    return kind.model_validate(value)


def _pydantic_unstructure(value: Any) -> Any:
    return value.model_dump(mode="json")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_DEFAULT: cattrs.Converter | None = None
_DEFAULT_LOCK = threading.Lock()


def default_converter() -> cattrs.Converter:
    """The converter behind :data:`cefmt.converter`, made on first use."""
    global _DEFAULT
    if _DEFAULT is None:
        with _DEFAULT_LOCK:
            if _DEFAULT is None:
                _DEFAULT = make_converter()
    return _DEFAULT


def unstructure_data(value: Any, converter: cattrs.Converter | None = None) -> Any:
    """Typed data in its JSON form (checked, frozen), as every encoder writes it.

    >>> import attrs
    >>> @attrs.frozen
    ... class Point:
    ...     x: int
    ...     y: int
    >>> unstructure_data(Point(1, 2))
    {'x': 1, 'y': 2}
    """
    plain = (converter or default_converter()).unstructure(value)
    try:
        return check_data(plain)
    except InvalidAttributeError as exc:
        raise InvalidDataError(None, type(value).__name__, [f"has no JSON form: {exc.rule}"]) from exc


def structure_data(
    plain: Any, data_type: Any, converter: cattrs.Converter | None = None, *, event_id: str | None = None
) -> Any:
    """Plain (JSON) data as ``data_type``; a payload that does not fit raises :class:`InvalidDataError`
    naming ``event_id``, the type and every field path at fault.

    >>> structure_data([1, 2], list[int])
    [1, 2]
    >>> try:
    ...     structure_data({"x": "1"}, dict[str, int], event_id="e1")
    ... except InvalidDataError as error:
    ...     print(error)
    event 'e1': data does not fit dict[str, int]: data['x']: expected int, got '1'
    """
    import cattrs  # noqa: PLC0415 - see make_converter

    chosen = converter or default_converter()
    try:
        return chosen.structure(plain, data_type)
    except cattrs.StructureHandlerNotFoundError as exc:
        raise UsageError(f"cefmt's converter cannot structure {_type_name(data_type)}: {exc}") from exc
    except cattrs.BaseValidationError as exc:
        raise _misfit(exc, data_type, event_id) from exc
    except (TypeError, ValueError, AttributeError, KeyError, cattrs.ForbiddenExtraKeysError) as exc:
        if not getattr(chosen, "detailed_validation", True):
            # A converter without detailed validation stops at the first problem, without its path: a
            # detailed copy (its hooks included) reads the data again to say where every problem is.
            try:
                chosen.copy(detailed_validation=True).structure(plain, data_type)
            except cattrs.BaseValidationError as detailed:
                raise _misfit(detailed, data_type, event_id) from detailed
            except (TypeError, ValueError, AttributeError, KeyError, cattrs.ForbiddenExtraKeysError):
                pass
        raise InvalidDataError(event_id, _type_name(data_type), [f"data: {_reason(exc, data_type)}"]) from exc


def _misfit(exc: Any, data_type: Any, event_id: str | None) -> InvalidDataError:
    import cattrs  # noqa: PLC0415 - see make_converter

    problems = cattrs.transform_error(exc, path="data", format_exception=_reason)
    return InvalidDataError(event_id, _type_name(data_type), [_arranged(p) for p in problems])


def _reason(exc: BaseException, kind: Any) -> str:
    if isinstance(exc, TypeError) and str(exc).startswith("expected "):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"required field {exc} is missing"
    if type(exc).__name__ == "ForbiddenExtraKeysError":
        return f"unknown fields: {', '.join(sorted(getattr(exc, 'extra_fields', ())))}"
    expected = f"expected {_type_name(kind)}: " if kind is not None else ""
    return f"{expected}{exc}"


def _arranged(problem: str) -> str:
    # cattrs writes "reason @ path"; cefmt writes "path: reason", as the issue reads it.
    reason, at, path = problem.rpartition(" @ ")
    return f"{path}: {reason}" if at else problem


def _type_name(kind: Any) -> str:
    return (
        kind.__name__
        if isinstance(kind, type) and not getattr(kind, "__args__", None)
        else repr(kind).replace("typing.", "")
    )


def type_for(data_types: Any, event_type: str) -> Any:
    """The data type ``data_type=`` names for an event of ``event_type``: the one type, or the map's
    entry; ``None`` when the map has none."""
    if isinstance(data_types, Mapping):
        return data_types.get(event_type)
    return data_types


# -- captured messages (cefmt.codec.Capture) ------------------------------------------------------------------

_CAPTURE: cattrs.Converter | None = None


def _capture_converter() -> cattrs.Converter:
    # Captured lines may carry members of their own (a note, a timestamp): they are ignored.
    global _CAPTURE
    if _CAPTURE is None:
        _CAPTURE = make_converter(forbid_extra_keys=False)
    return _CAPTURE


def from_capture(doc: Mapping[str, Any], record_type: type[T], what: str) -> T:
    """One captured message's JSON object (one line of a stream) as ``record_type``, an attrs class whose
    ``bytes`` fields are Base64 in the line; a line that does not fit is a
    :class:`~cefmt.MalformedMessageError` naming ``what`` and the member at fault.

    >>> import attrs
    >>> @attrs.frozen
    ... class Line:
    ...     body_base64: bytes
    >>> from_capture({"body_base64": "aGk=", "note": "x"}, Line, "message")
    Line(body_base64=b'hi')
    """
    try:
        return structure_data(dict(doc), record_type, _capture_converter())  # type: ignore[no-any-return]
    except InvalidDataError as exc:
        problems = [problem.replace("data.", "", 1).replace("data", what, 1) for problem in exc.problems]
        raise MalformedMessageError(f"{what} line: {'; '.join(problems)}") from exc


def to_capture(record: Any) -> dict[str, Any]:
    """A captured message's record as its JSON-ready object (``bytes`` as Base64), for one stream line.

    >>> import attrs
    >>> @attrs.frozen
    ... class Line:
    ...     body_base64: bytes
    >>> to_capture(Line(b"hi"))
    {'body_base64': 'aGk='}
    """
    return _capture_converter().unstructure(record)  # type: ignore[no-any-return]
