"""The module-level verbs, bound to :data:`cefmt.default_registry`, typed for the transports cefmt ships.

At run time :func:`encode` and :func:`decode` are the default registry's own bound methods (one dispatch
path, nothing added to a call). For a type checker they are overloaded on the names of the built-in
and first-party transports and modes, so ``encode(event, "http", "binary")`` is an
:class:`~cefmt.http.HTTPMessage`, ``decode(body, "json", "structured")`` a :class:`~cefmt.CloudEvent`,
and a misspelt transport or mode is an error before the code runs. A transport known only at run time
(a third-party plugin, a name read from a file) goes through :meth:`cefmt.Registry.encode` and
:meth:`cefmt.Registry.decode` (``cefmt.default_registry.encode(...)``), which take any name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from ._errors import MalformedMessageError, UsageError
from ._registry import CodecInfo, default_registry

if TYPE_CHECKING:
    from cattrs import Converter

    from cefmt_plugins.kafka import KafkaMessage, KeyMapper

    from ._event import CloudEvent
    from ._http import HTTPMessage
    from ._limits import Limits

__all__ = [
    "BatchFormat",
    "Binding",
    "Format",
    "Mode",
    "Transport",
    "codecs",
    "decode",
    "decode_event",
    "decode_events",
    "encode",
    "register",
    "unregister",
]

#: Event formats that have a batch form: ``mode="batch"`` writes a list of events as one document.
BatchFormat = Literal["json", "msgpack", "protobuf", "xml", "arrow", "parquet"]
#: Every event format cefmt and its first-party plugins name (``encode(event, "json")`` gives bytes).
Format = Literal["json", "msgpack", "protobuf", "xml", "avro", "avro-compact", "cbor"]
#: Protocol bindings other than HTTP and Kafka, from the first-party plugins.
Binding = Literal["amqp", "rabbitmq", "mqtt", "nats", "websocket"]
#: Every transport name the overloads of :func:`encode` and :func:`decode` know.
Transport = Literal["http", "kafka", Format, BatchFormat, Binding]
#: Content modes.
Mode = Literal["binary", "structured", "batch"]


if TYPE_CHECKING:
    # -- encode ------------------------------------------------------------------------------------------

    @overload
    def encode(
        event: CloudEvent, transport: Literal["http"], mode: Literal["binary"], *, converter: Converter | None = ...
    ) -> HTTPMessage: ...
    @overload
    def encode(
        event: CloudEvent,
        transport: Literal["http"],
        mode: Literal["structured"] = ...,
        *,
        format: str = ...,
        converter: Converter | None = ...,
    ) -> HTTPMessage: ...
    @overload
    def encode(
        event: Iterable[CloudEvent],
        transport: Literal["http"],
        mode: Literal["batch"],
        *,
        format: str = ...,
        converter: Converter | None = ...,
    ) -> HTTPMessage: ...
    @overload
    def encode(
        event: CloudEvent,
        transport: Literal["kafka"],
        mode: Literal["binary"],
        *,
        key: bytes | str | None = ...,
        key_mapper: KeyMapper | None = ...,
        converter: Converter | None = ...,
    ) -> KafkaMessage: ...
    @overload
    def encode(
        event: CloudEvent,
        transport: Literal["kafka"],
        mode: Literal["structured"] = ...,
        *,
        format: str = ...,
        key: bytes | str | None = ...,
        key_mapper: KeyMapper | None = ...,
        converter: Converter | None = ...,
    ) -> KafkaMessage: ...
    @overload
    def encode(event: CloudEvent, transport: Format, mode: Literal["structured"] = ..., **options: Any) -> bytes: ...
    @overload
    def encode(
        event: Iterable[CloudEvent], transport: BatchFormat, mode: Literal["batch"], **options: Any
    ) -> bytes: ...
    @overload
    def encode(
        event: CloudEvent, transport: Binding, mode: Literal["binary", "structured"] = ..., **options: Any
    ) -> Any: ...
    def encode(event: Any, transport: str, mode: str = "structured", **options: Any) -> Any:
        """An event (a list of events for ``mode="batch"``) as a message of a transport, or a document of
        an event format.

        ``encode(event, "http", "binary")`` is an :class:`~cefmt.http.HTTPMessage`, ``encode(event, "kafka",
        "binary")`` a :class:`~cefmt.kafka.KafkaMessage`, ``encode(event, "json")`` bytes; options go to the
        codec (``format="msgpack"`` for a binding's structured mode, ``key=`` for Kafka). It is the default
        registry's own :meth:`~cefmt.Registry.encode`, so there is one dispatch path.

        >>> from cefmt import CloudEvent
        >>> encode(CloudEvent(id="1", source="/s", type="t"), "http", "binary").headers["ce-id"]
        '1'
        """

    # -- decode ------------------------------------------------------------------------------------------

    @overload
    def decode(
        message: Any,
        transport: Literal["http"],
        mode: Literal["binary", "structured"],
        *,
        specversion: str | None = ...,
        limits: Limits | None = ...,
        extension_types: Mapping[str, type] | None = ...,
        data_type: Any = ...,
        converter: Converter | None = ...,
        other_types: Literal["keep", "refuse"] = ...,
    ) -> CloudEvent: ...
    @overload
    def decode(
        message: Any,
        transport: Literal["http"],
        mode: Literal["batch"],
        *,
        specversion: str | None = ...,
        limits: Limits | None = ...,
        extension_types: Mapping[str, type] | None = ...,
        data_type: Any = ...,
        converter: Converter | None = ...,
        other_types: Literal["keep", "refuse"] = ...,
    ) -> list[CloudEvent]: ...
    @overload
    def decode(
        message: Any,
        transport: Literal["http"],
        mode: None = ...,
        *,
        specversion: str | None = ...,
        limits: Limits | None = ...,
        extension_types: Mapping[str, type] | None = ...,
        data_type: Any = ...,
        converter: Converter | None = ...,
        other_types: Literal["keep", "refuse"] = ...,
    ) -> CloudEvent | list[CloudEvent]: ...
    @overload
    def decode(
        message: Any,
        transport: Literal["kafka"],
        mode: Literal["binary", "structured"] | None = ...,
        *,
        specversion: str | None = ...,
        format: str | None = ...,
        limits: Limits | None = ...,
        extension_types: Mapping[str, type] | None = ...,
        data_type: Any = ...,
        converter: Converter | None = ...,
        other_types: Literal["keep", "refuse"] = ...,
    ) -> CloudEvent: ...
    @overload
    def decode(
        message: bytes | str,
        transport: Format,
        mode: Literal["structured"],
        *,
        specversion: str | None = ...,
        limits: Limits | None = ...,
        extension_types: Mapping[str, type] | None = ...,
        data_type: Any = ...,
        converter: Converter | None = ...,
        other_types: Literal["keep", "refuse"] = ...,
        **options: Any,
    ) -> CloudEvent: ...
    @overload
    def decode(
        message: bytes | str,
        transport: BatchFormat,
        mode: Literal["batch"],
        *,
        specversion: str | None = ...,
        limits: Limits | None = ...,
        extension_types: Mapping[str, type] | None = ...,
        data_type: Any = ...,
        converter: Converter | None = ...,
        other_types: Literal["keep", "refuse"] = ...,
        **options: Any,
    ) -> list[CloudEvent]: ...
    @overload
    def decode(
        message: bytes | str,
        transport: BatchFormat,
        mode: None = ...,
        *,
        specversion: str | None = ...,
        limits: Limits | None = ...,
        extension_types: Mapping[str, type] | None = ...,
        data_type: Any = ...,
        converter: Converter | None = ...,
        other_types: Literal["keep", "refuse"] = ...,
        **options: Any,
    ) -> CloudEvent | list[CloudEvent]: ...
    @overload
    def decode(
        message: bytes | str,
        transport: Literal["avro", "avro-compact", "cbor"],
        mode: None = ...,
        *,
        specversion: str | None = ...,
        limits: Limits | None = ...,
        extension_types: Mapping[str, type] | None = ...,
        data_type: Any = ...,
        converter: Converter | None = ...,
        other_types: Literal["keep", "refuse"] = ...,
        **options: Any,
    ) -> CloudEvent: ...
    @overload
    def decode(
        message: Any,
        transport: Binding,
        mode: Literal["binary", "structured"] | None = ...,
        *,
        specversion: str | None = ...,
        limits: Limits | None = ...,
        extension_types: Mapping[str, type] | None = ...,
        **options: Any,
    ) -> CloudEvent: ...
    def decode(
        message: Any, transport: str, mode: str | None = None, *, specversion: str | None = None, **options: Any
    ) -> Any:
        """The event (a list for a batch) a message of a transport or event format holds.

        The mode and spec version are read from the message unless given; options go to the codec
        (``limits=``, ``extension_types=``). An HTTP message is a ``(headers, body)`` pair, an
        :class:`~cefmt.http.HTTPMessage` or a sync framework's request; a Kafka message is any client's
        record. It is the default registry's own :meth:`~cefmt.Registry.decode`. See :func:`decode_event`
        and :func:`decode_events` for a receiver that wants one event, or always a list.

        >>> from cefmt import CloudEvent
        >>> decode(encode(CloudEvent(id="1", source="/s", type="t"), "json"), "json").id
        '1'
        """

    # -- one event, or always a list ---------------------------------------------------------------------

    def decode_event(
        message: Any,
        transport: Transport,
        mode: Literal["binary", "structured"] | None = None,
        *,
        specversion: str | None = None,
        limits: Limits | None = None,
        extension_types: Mapping[str, type] | None = None,
        **options: Any,
    ) -> CloudEvent: ...

    def decode_events(
        message: Any,
        transport: Transport,
        mode: Mode | None = None,
        *,
        specversion: str | None = None,
        limits: Limits | None = None,
        extension_types: Mapping[str, type] | None = None,
        **options: Any,
    ) -> list[CloudEvent]: ...

else:
    # The default registry's own bound methods: one dispatch path, nothing added to a call. What they take
    # and return is written on the signatures above, which is what type checkers and the API reference read.
    encode = default_registry.encode
    decode = default_registry.decode

    def decode_event(message, transport, mode=None, *, specversion=None, **options):
        """Exactly one event from a message in binary or structured mode; a batch message is refused
        (:class:`~cefmt.MalformedMessageError`) before its events are built. Takes what :func:`decode`
        takes.

        >>> from cefmt import CloudEvent, encode
        >>> decode_event(encode(CloudEvent(id="1", source="/s", type="t"), "http", "binary"), "http").id
        '1'
        >>> decode_event(b"[]", "json")
        Traceback (most recent call last):
        ...
        cefmt...MalformedMessageError: this json message is a batch; read it with decode_events()
        """
        if mode == "batch":
            raise UsageError("decode_event reads one event; read a batch with decode_events()")
        if mode is None:
            detect, prepare = default_registry._detector(transport)
            if prepare is not None:  # read once, here; the codec takes the prepared message as it is
                limits = options.get("limits")
                message = prepare(message) if limits is None else prepare(message, limits=limits)
            found, mode = detect(message)
            if mode == "batch":
                raise MalformedMessageError(f"this {transport} message is a batch; read it with decode_events()")
            specversion = specversion or found
        return default_registry.decode(message, transport, mode, specversion=specversion, **options)

    def decode_events(message, transport, mode=None, *, specversion=None, **options):
        """Every event of a message, as a list: a batch's events, or the one event of a binary or
        structured message as a list of one. Takes what :func:`decode` takes.

        >>> from cefmt import CloudEvent, encode
        >>> event = CloudEvent(id="1", source="/s", type="t")
        >>> decode_events(encode(event, "json"), "json") == decode_events(encode([event], "json", "batch"), "json")
        True
        """
        result = default_registry.decode(message, transport, mode, specversion=specversion, **options)
        return result if type(result) is list else [result]


def codecs() -> list[CodecInfo]:
    """Every registered ``(specversion, transport, mode)`` with its distribution; nothing is imported.

    >>> ("1.0", "http", "binary") in {info.key for info in codecs()}
    True
    """
    return default_registry.codecs()


def register(specversion: str, transport: str, mode: str, codec: Any) -> None:
    """Register a codec at run time; it overrides any installed entry point for the same key.

    >>> from cefmt import Codec
    >>> register("1.0", "memo", "binary", Codec(encode=lambda e: e.id, decode=lambda m: m))
    >>> unregister("1.0", "memo", "binary")
    """
    default_registry.register(specversion, transport, mode, codec)


def unregister(specversion: str, transport: str, mode: str) -> None:
    """Remove a run-time registration."""
    default_registry.unregister(specversion, transport, mode)
