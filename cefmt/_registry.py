"""The codec registry: keys ``(specversion, transport, mode)`` mapped to codecs found through entry points.

Discovery reads entry-point metadata once, on the first lookup (never at import). A key's plugin is
imported on the first use of that key only; a key whose plugin fails to import raises on use, names the
distribution and chains the cause, and is retried next time (so installing a missing dependency fixes
it without a restart). Two different distributions claiming one key make that key, and only that key,
raise :class:`~cefmt.CodecConflictError`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._binding import batch_specversion, format_of
from ._errors import (
    CloudEventError,
    CodecConflictError,
    InvalidDataError,
    MalformedMessageError,
    PluginLoadError,
    UnknownCodecError,
    UnsupportedSpecVersionError,
    UsageError,
)
from ._memo import Memo
from ._spec import SPEC_VERSIONS

__all__ = [
    "ENTRY_POINT_GROUP",
    "FRAMINGS",
    "Capture",
    "Codec",
    "CodecInfo",
    "Container",
    "Key",
    "Registry",
    "default_registry",
]

#: The entry-point group every codec, built-in or third-party, is declared in.
ENTRY_POINT_GROUP = "cefmt.codecs"

Key = tuple[str, str, str]

_RUNTIME = "<registered at run time>"

if TYPE_CHECKING:
    from importlib import metadata


@attrs.frozen
class Capture:
    """How a transport's messages are written to a stream and read back: one JSON object per message,
    one message per line (``cefmt convert --to http`` writes these, ``--from http`` reads them).

    ``to_json(message)`` gives the message as a JSON-ready ``dict`` (bytes as Base64); ``from_json(doc)``
    turns such a ``dict`` back into a message the transport's decoder takes, raising
    :class:`~cefmt.MalformedMessageError` for one it cannot.
    """

    to_json: Callable[[Any], dict[str, Any]]
    from_json: Callable[[dict[str, Any]], Any]


@attrs.frozen
class Container:
    """How an event format whose streams are whole files, not documents one after another, is read and
    written by :mod:`cefmt.stream` and ``cefmt convert`` (Parquet: a file's index is at its end, so a reader
    must seek, and a writer completes the file when the stream ends).

    ``read(file)`` takes a binary file that can seek and gives its records one at a time, each a message the
    format's decoder takes (which gives one event, or a list); it raises
    :class:`~cefmt.MalformedMessageError` when the file cannot be read on. ``write(messages)`` takes the
    messages the format's encoder gives, one at a time, and gives the bytes of the file as they are ready.
    A stream that is not a seekable file (standard input, chunks in memory) is first copied to a temporary
    file.
    """

    read: Callable[[Any], Iterator[Any]]
    write: Callable[[Iterable[Any]], Iterator[bytes]]


@attrs.frozen
class Codec:
    """A pair of stateless functions: ``encode(event, **options)`` and ``decode(message, **options)``.

    ``detect(message)``, when given, tells ``(specversion or None, mode)`` of a message of this
    transport, so that :func:`cefmt.decode` can work without being told. ``prepare(message, *,
    limits=None)``, when given, reads what a caller passes into the transport's own form once; the
    registry then hands that to ``detect`` and to ``decode`` alike (both must accept it). ``media_type``
    names the content type of an event format's output (``application/cloudevents+json``), which
    bindings use in structured and batch modes.

    A function that names a ``registry`` parameter is given the registry that called it (a binding's
    structured mode finds its event formats there); a decoder that takes no ``limits`` is not given them.

    Streams (:mod:`cefmt.stream`, ``cefmt convert``) use two more fields. A binding sets ``capture``
    (:class:`Capture`): how its messages are written one per line. An event format may set ``framing``:
    how its documents follow each other in a stream, ``"lines"`` (one per line, as JSON Lines),
    ``"msgpack"`` (self-delimiting msgpack objects) or ``"length-prefixed"`` (a 4-byte big-endian
    length before each; the default, which suits any format). A format whose streams are whole files
    sets ``container`` (:class:`Container`) instead.

    >>> codec = Codec(encode=lambda event: b"...", decode=lambda raw: None)
    >>> codec.media_type is None, codec.framing
    (True, 'length-prefixed')
    """

    encode: Callable[..., Any]
    decode: Callable[..., Any]
    detect: Callable[[Any], tuple[str | None, str]] | None = None
    media_type: str | None = None
    prepare: Callable[..., Any] | None = None
    capture: Capture | None = None
    framing: str = attrs.field(default="length-prefixed")
    container: Container | None = None

    @framing.validator
    def _check_framing(self, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in FRAMINGS:
            raise UsageError(f"framing must be one of {', '.join(FRAMINGS)}, got {value!r}")


#: How an event format's documents can follow each other in a stream.
FRAMINGS = ("lines", "msgpack", "length-prefixed")


@attrs.frozen
class CodecInfo:
    """One row of :func:`cefmt.codecs`: a key, who provides it, and its state."""

    key: Key
    distribution: str
    target: str
    loaded: bool
    error: str | None = None


@attrs.frozen
class _Provider:
    distribution: str
    target: str
    entry_point: metadata.EntryPoint | None


def _parse_key(name: str) -> Key | None:
    parts = name.split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return (parts[0], parts[1].lower(), parts[2].lower())


class Registry:
    """Codecs by key. :data:`cefmt.default_registry` serves the module-level functions; make your own
    ``Registry()`` for isolation (tests, or an application that must not see every installed plugin).

    A registry hands itself to the codecs it calls that ask for it (a ``registry`` parameter on
    ``encode`` or ``decode``): that is how a binding's structured mode finds the event formats of the
    registry that called it, never of another.

    >>> reg = Registry(group="cefmt.example-none")
    >>> reg.register("1.0", "memo", "binary", Codec(encode=lambda e: e.id, decode=lambda m: m))
    >>> reg.lookup("1.0", "memo", "binary").encode.__name__
    '<lambda>'
    """

    def __init__(self, group: str = ENTRY_POINT_GROUP) -> None:
        self.group = group
        self._lock = threading.RLock()
        self._providers: dict[Key, list[_Provider]] | None = None
        self._malformed: list[tuple[str, str]] = []
        self._loaded: dict[Key, Codec] = {}
        self._overrides: dict[Key, Codec] = {}
        # What dispatch calls, per key: the codec with this registry bound in where it asks for one.
        # Filled on first use; emptied whenever what is registered changes.
        self._bound: dict[Key, Codec] = {}
        self._detectors: dict[str, tuple[Callable[[Any], tuple[str | None, str]], Callable[..., Any] | None]] = {}
        self._defaults: dict[tuple[str, str], str] = {}
        # The dispatched codec of a transport and mode whose messages carry their own spec version
        # (structured and batch modes): any registered version's codec starts the work.
        self._any_version: dict[tuple[str, str], Codec] = {}
        self._new_format_memos()

    # -- discovery -------------------------------------------------------------------------------------

    def _discover(self) -> dict[Key, list[_Provider]]:
        providers = self._providers
        if providers is not None:
            return providers
        with self._lock:
            if self._providers is not None:
                return self._providers
            # Imported here, not at the top: importlib.metadata is a third of the cost of importing cefmt.
            from importlib import metadata  # noqa: PLC0415

            found: dict[Key, list[_Provider]] = {}
            malformed: list[tuple[str, str]] = []
            # A distribution's name is parsed out of its metadata file on every `.name`; a plugin package
            # has dozens of entry points, so each name is read once (16 ms of a first call, measured).
            names: dict[int, str] = {}
            for ep in metadata.entry_points(group=self.group):
                source = ep.dist
                if source is None:
                    dist = "<unknown distribution>"
                else:
                    if id(source) not in names:
                        names[id(source)] = source.name
                    dist = names[id(source)]
                key = _parse_key(ep.name)
                if key is None:
                    malformed.append((dist, ep.name))
                    continue
                entries = found.setdefault(key, [])
                # The same distribution seen twice (say, on sys.path twice) counts once.
                if not any(p.distribution == dist and p.target == ep.value for p in entries):
                    entries.append(_Provider(dist, ep.value, ep))
            self._malformed = malformed
            self._providers = found
            return found

    def _forget(self) -> None:
        # Everything worked out from what is registered. Called with the lock held.
        self._bound = {}
        self._detectors = {}
        self._defaults = {}
        self._any_version = {}
        self._new_format_memos()

    def refresh(self) -> None:
        """Forget discovered entry points and loaded codecs (run-time registrations stay)."""
        with self._lock:
            self._providers = None
            self._loaded = {}
            self._forget()

    # -- registration ----------------------------------------------------------------------------------

    def register(self, specversion: str, transport: str, mode: str, codec: Any) -> None:
        """Register ``codec`` for a key at run time, overriding any entry point for that key.

        ``codec`` is any object with callable ``encode`` and ``decode`` attributes.
        """
        key = (specversion, transport.lower(), mode.lower())
        checked = _check_codec(codec, key, _RUNTIME, _RUNTIME)
        with self._lock:
            self._overrides = {**self._overrides, key: checked}
            self._forget()

    def unregister(self, specversion: str, transport: str, mode: str) -> None:
        """Remove a run-time registration (entry points for the key become visible again)."""
        key = (specversion, transport.lower(), mode.lower())
        with self._lock:
            self._overrides = {k: v for k, v in self._overrides.items() if k != key}
            self._forget()

    @contextlib.contextmanager
    def overriding(self, codecs: Mapping[Key, Any] | None = None) -> Iterator[Registry]:
        """Register ``codecs`` for the length of a ``with`` block; on leaving it, the run-time
        registrations are as they were before (whatever was registered or removed inside).

        >>> reg = Registry(group="cefmt.example-none")
        >>> with reg.overriding({("1.0", "memo", "binary"): Codec(encode=str, decode=str)}):
        ...     reg.keys()
        [('1.0', 'memo', 'binary')]
        >>> reg.keys()
        []
        """
        with self._lock:
            saved = self._overrides
        try:
            for (specversion, transport, mode), codec in (codecs or {}).items():
                self.register(specversion, transport, mode, codec)
            yield self
        finally:
            with self._lock:
                self._overrides = saved
                self._forget()

    # -- lookup ----------------------------------------------------------------------------------------

    def lookup(self, specversion: str, transport: str, mode: str) -> Codec:
        """The codec for a key, importing its plugin on first use.

        Raises :class:`UnknownCodecError` (listing what exists), :class:`PluginLoadError` or
        :class:`CodecConflictError`.
        """
        key = (specversion, transport, mode)
        codec = self._overrides.get(key) or self._loaded.get(key)
        if codec is not None:
            return codec
        return self._load(key)

    def _load(self, key: Key) -> Codec:
        lowered = (key[0], key[1].lower(), key[2].lower())
        if lowered != key:
            return self.lookup(*lowered)
        providers = self._discover().get(key)
        if not providers:
            raise UnknownCodecError(key, self.keys())
        if len(providers) > 1:
            raise CodecConflictError(key, [f"{p.distribution} ({p.target})" for p in providers])
        provider = providers[0]
        assert provider.entry_point is not None
        # Imported without the lock held: a plugin whose import uses this registry from another thread
        # must not wait for us. Two threads may import at once; the import system serializes them.
        try:
            loaded = provider.entry_point.load()
        except Exception as exc:
            raise PluginLoadError(key, provider.distribution, provider.target, f"{type(exc).__name__}: {exc}") from exc
        codec = _check_codec(loaded, key, provider.distribution, provider.target)
        with self._lock:
            return self._loaded.setdefault(key, codec)

    def _dispatch(self, key: Key) -> Codec:
        """The codec for ``key`` as dispatch calls it: this registry bound in where it asks for one,
        and ``limits=`` dropped for a decoder that does not take it."""
        codec = self.lookup(*key)
        bound = _bind(codec, self)
        with self._lock:
            if self._overrides.get(key, codec) is codec:  # not changed meanwhile
                self._bound = {**self._bound, key: bound}
        return bound

    def find_format(self, name: str, mode: str = "structured", specversion: str | None = None) -> Codec:
        """The event format ``name`` for ``mode`` (structured or batch), as bindings call it: its
        ``encode`` and ``decode`` already have this registry, and its ``media_type`` is filled in
        (``application/cloudevents+NAME`` unless the format names its own).

        Without ``specversion`` any registered version's codec is returned: a format's decoder reads
        the spec version from the document itself.

        >>> default_registry.find_format("json").media_type
        'application/cloudevents+json'
        """
        if specversion is None:
            return self._any_version.get((name, mode)) or self._any_version_codec(name, mode)
        key = (specversion, name, mode)
        return self._bound.get(key) or self._dispatch(key)

    def format_for(self, content_type: str | None, mode: str = "structured") -> Codec | None:
        """The event format a Content-Type value names for ``mode`` (``application/cloudevents+NAME``,
        or ``application/cloudevents-batch+NAME`` for batch), as :meth:`find_format` gives it; ``None``
        when the value names no event format. A format this registry does not have raises
        :class:`UnknownCodecError`. Worked out once per distinct value: the receiving side of every
        binding's structured and batch modes.

        >>> default_registry.format_for("application/cloudevents+json; charset=utf-8").media_type
        'application/cloudevents+json'
        >>> default_registry.format_for("text/plain") is None
        True
        """
        if content_type is None:
            return None
        return (self._batch_formats if mode == "batch" else self._structured_formats)[content_type]

    def _new_format_memos(self) -> None:
        def named_by(mode: str) -> Callable[[str], Codec | None]:
            def find(content_type: str) -> Codec | None:
                name = format_of(content_type, mode)
                return None if name is None else self.find_format(name, mode)

            return find

        self._structured_formats: Memo[str, Codec | None] = Memo(named_by("structured"))
        self._batch_formats: Memo[str, Codec | None] = Memo(named_by("batch"))

    def _any_version_codec(self, transport: str, mode: str) -> Codec:
        key = (self._default_version(transport, mode), transport, mode)
        codec = self._dispatch(key)
        with self._lock:
            if self._bound.get(key) is codec:  # not overridden or forgotten meanwhile
                self._any_version = {**self._any_version, (transport, mode): codec}
        return codec

    def keys(self) -> list[Key]:
        """Every registered key, sorted (metadata only: nothing is imported)."""
        return sorted(set(self._discover()) | set(self._overrides))

    def codecs(self) -> list[CodecInfo]:
        """Every key with the distribution that provides it and whether it is loaded (nothing imported).

        A conflicting key shows one row per provider with the conflict as its ``error``; an entry point
        whose name is not ``SPECVERSION/TRANSPORT/MODE`` shows as a row with that error.
        """
        rows: list[CodecInfo] = []
        providers = self._discover()
        for key in self.keys():
            if key in self._overrides:
                rows.append(CodecInfo(key, _RUNTIME, _RUNTIME, loaded=True))
                continue
            entries = providers[key]
            conflict = None
            if len(entries) > 1:
                conflict = str(CodecConflictError(key, [p.distribution for p in entries]))
            for provider in entries:
                rows.append(CodecInfo(key, provider.distribution, provider.target, key in self._loaded, conflict))
        for dist, name in self._malformed:
            rows.append(
                CodecInfo(
                    ("?", "?", "?"),
                    dist,
                    name,
                    False,
                    f"entry point name {name!r} is not SPEC/TRANSPORT/MODE",
                )
            )
        return rows

    # -- encode / decode ---------------------------------------------------------------------------------

    def encode(self, event: Any, transport: str, mode: str = "structured", **options: Any) -> Any:
        """Encode ``event`` (or a list of events for batch modes) with the codec for its spec version.

        >>> from cefmt import CloudEvent
        >>> headers, body = default_registry.encode(CloudEvent(id="1", source="/s", type="t"), "http", "binary")
        >>> headers["ce-id"]
        '1'
        """
        specversion = getattr(event, "specversion", None)
        if specversion is not None:
            if mode == "batch":
                raise UsageError("a batch mode encodes an iterable of events; wrap one event in a list")
        elif isinstance(event, (str, bytes, Mapping)) or not isinstance(event, Iterable):
            raise UsageError(
                f"encode takes an event, or an iterable of events for a batch mode; got {type(event).__name__}"
            )
        else:  # a batch: any iterable of events, all of one spec version
            event = list(event)
            specversion = batch_specversion(event)
        key = (specversion, transport, mode)
        codec = self._bound.get(key) or self._dispatch(key)
        if options and "converter" in options:  # typed data in the JSON form this converter gives
            event = _unstructured(event, options.pop("converter"))
        return codec.encode(event, **options)

    def decode(
        self, message: Any, transport: str, mode: str | None = None, *, specversion: str | None = None,
        **options: Any,
    ) -> Any:  # fmt: skip
        """Decode a message of a transport or event format into an event (a list for batch modes).

        The mode and spec version are read from the message unless given; ``options`` go to the
        codec (``extension_types=``, ``limits=`` ...). Three options are the registry's own, for typed
        data: ``data_type=`` (a type, or a map from event ``type`` to type) structures each event's data
        with ``converter=`` (:data:`cefmt.converter` by default); events whose type the map does not name
        keep plain data, or are refused with ``other_types="refuse"``.

        >>> from cefmt import CloudEvent, decode, encode
        >>> decode(encode(CloudEvent(id="1", source="/s", type="t"), "json"), "json").id
        '1'
        """
        if mode is None or specversion is None:
            detect, prepare = self._detectors.get(transport) or self._detector(transport, required=mode is None)
            if prepare is not None:  # read the message once, for the detector and the decoder alike
                limits = options.get("limits")  # the caller's limits bound this first read too
                message = prepare(message) if limits is None else prepare(message, limits=limits)
            if mode is None:
                found, mode = detect(message)
            else:
                # The mode is known; the version only routes to a codec, and every codec reads the
                # message's own version. The detector, when it can tell, picks the exact key.
                try:
                    found = detect(message)[0]
                except CloudEventError:
                    found = None
            specversion = specversion or found
        if specversion is None:  # the message carries its version inside, for the codec to read
            codec = self._any_version.get((transport, mode)) or self._any_version_codec(transport, mode)
        else:
            codec = self._bound.get((specversion, transport, mode)) or self._checked_dispatch(
                specversion, transport, mode
            )
        if options and ("data_type" in options or "converter" in options or "other_types" in options):
            data_type = options.pop("data_type", None)
            converter = options.pop("converter", None)
            other_types = options.pop("other_types", "keep")
            return _typed(codec.decode(message, **options), data_type, converter, other_types)
        return codec.decode(message, **options)

    def _checked_dispatch(self, specversion: str, transport: str, mode: str) -> Codec:
        key = (specversion, transport, mode)
        if key not in self._overrides and key not in self._discover():
            versions = [k[0] for k in self.keys() if k[1] == transport and k[2] == mode]
            if versions:  # the transport and mode exist; the message's version does not
                raise UnsupportedSpecVersionError(specversion, versions)
        return self._dispatch(key)

    def _default_version(self, transport: str, mode: str) -> str:
        version = self._defaults.get((transport, mode))
        if version is None:
            version = self._find_default_version(transport, mode)
            with self._lock:
                self._defaults = {**self._defaults, (transport, mode): version}
        return version

    def _find_default_version(self, transport: str, mode: str) -> str:
        # The message's own spec version is read by the decoder (structured modes carry it inside);
        # any registered version's codec for this transport and mode can start the work.
        registered = set(self._overrides) | set(self._discover())
        for version in SPEC_VERSIONS:
            if (version, transport, mode) in registered:
                return version
        candidates = [k for k in self.keys() if k[1] == transport and k[2] == mode]
        if not candidates:
            raise UnknownCodecError(("*", transport, mode), self.keys())
        return candidates[0][0]

    def _detector(
        self, transport: str, *, required: bool = True
    ) -> tuple[Callable[[Any], tuple[str | None, str]], Callable[..., Any] | None]:
        """The transport's detector, and its codecs' ``prepare`` (or ``None``).

        A transport none of whose codecs can detect gets a detector that says so; when the mode is
        known (``required=False``) that only means the spec version is not read ahead of the decoder.
        """
        found = self._detectors.get(transport)
        if found is not None:
            return found
        keys = [k for k in self.keys() if k[1] == transport]
        if not keys:
            raise UnknownCodecError(("*", transport, "*"), self.keys())
        errors: list[CloudEventError] = []
        for key in keys:
            try:
                codec = self.lookup(*key)
            except CloudEventError as exc:
                errors.append(exc)
                continue
            if codec.detect is not None:
                found = (codec.detect, codec.prepare)
                break
        else:
            if errors and required:
                raise errors[0]
            found = (_cannot_detect(transport, sorted({k[2] for k in keys})), None)
            if errors:  # a plugin failed to load: try it again next time
                return found
        with self._lock:
            self._detectors = {**self._detectors, transport: found}
        return found


def _unstructured(value: Any, converter: Any) -> Any:
    """Events (one, or a list) whose typed data is replaced by its JSON form through ``converter``."""
    from ._event import plain_data_of  # noqa: PLC0415 - the registry knows events only here

    if isinstance(value, list):
        return [_unstructured(event, converter) for event in value]
    plain = plain_data_of(value, converter)
    return value if plain is value._data else value._with_data(plain)


def _typed(result: Any, data_type: Any, converter: Any, other_types: str) -> Any:
    """Decoded events (one, or a list) with their data structured as ``data_type`` says."""
    if other_types not in {"keep", "refuse"}:
        raise UsageError(f"other_types must be 'keep' or 'refuse', got {other_types!r}")
    if data_type is None:
        return result
    structure = _TYPED_DATA.get("structure")
    if structure is None:  # cattrs and the typed-data module on first use, not with cefmt
        from ._frozen import typed as wrap_typed  # noqa: PLC0415
        from ._typed import structure_data  # noqa: PLC0415

        _TYPED_DATA.update(structure=structure_data, wrap=wrap_typed)
        structure = structure_data
    wrap = _TYPED_DATA["wrap"]
    by_type = isinstance(data_type, Mapping)
    events = [result] if type(result) is not list else result
    out: list[Any] = []
    for event in events:
        kind = data_type.get(event.type) if by_type else data_type
        if kind is None:
            if other_types == "refuse":
                raise InvalidDataError(
                    event.id, "a type of data_type=", [f"no data type for event type {event.type!r}"]
                )
            out.append(event)
        elif event._data is None:
            out.append(event)
        else:
            out.append(event._with_data(wrap(structure(event._data, kind, converter, event_id=event.id))))
    return out if type(result) is list else out[0]


_TYPED_DATA: dict[str, Any] = {}


def _cannot_detect(transport: str, modes: list[str]) -> Callable[[Any], tuple[str | None, str]]:
    def cannot_detect(message: Any) -> tuple[str | None, str]:
        raise MalformedMessageError(
            f"no {transport} codec can tell the mode of a message; pass mode= (one of {', '.join(modes)})"
        )

    return cannot_detect


def _takes(function: Callable[..., Any], name: str) -> bool:
    """Whether ``function`` accepts the keyword ``name`` (by name, or through ``**options``)."""
    import inspect  # noqa: PLC0415 - costly to import; needed once per codec loaded, never at import

    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # no signature to read
        return False
    return any(
        p.kind is p.VAR_KEYWORD or (p.name == name and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        for p in parameters
    )


def _bind(codec: Codec, registry: Registry) -> Codec:
    """``codec`` as a registry calls it: ``registry=`` given to a function that names that parameter,
    ``limits=`` not given to a decoder that does not take it (the binding checked sizes itself)."""
    encode, decode = codec.encode, codec.decode
    if _names(encode, "registry"):
        encode = _given_registry(encode, registry)
    if _names(decode, "registry"):
        decode = _given_registry(decode, registry)
    if not _takes(codec.decode, "limits"):
        decode = _ignoring_limits(decode)
    return attrs.evolve(codec, encode=encode, decode=decode, media_type=codec.media_type)


def _given_registry(function: Callable[..., Any], registry: Registry) -> Callable[..., Any]:
    # functools.partial would merge its keywords into a new dict on every call; most calls have no
    # options, and this skips that work for them.
    def with_registry(message: Any, **options: Any) -> Any:
        if options:
            return function(message, registry=registry, **options)
        return function(message, registry=registry)

    return with_registry


def _names(function: Callable[..., Any], name: str) -> bool:
    """Whether ``function`` has a parameter called ``name`` (``**options`` does not count here: a codec
    asks for the registry by name)."""
    import inspect  # noqa: PLC0415 - see _takes

    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _ignoring_limits(decode: Callable[..., Any]) -> Callable[..., Any]:
    def without_limits(message: Any, *, limits: Any = None, **options: Any) -> Any:
        return decode(message, **options)

    return without_limits


def _check_codec(obj: Any, key: Key, distribution: str, target: str) -> Codec:
    if isinstance(obj, Codec):
        return obj
    encode = getattr(obj, "encode", None)
    decode = getattr(obj, "decode", None)
    if not callable(encode) or not callable(decode):
        raise PluginLoadError(key, distribution, target, "the object has no callable encode and decode")
    return Codec(
        encode=encode,
        decode=decode,
        detect=getattr(obj, "detect", None),
        media_type=getattr(obj, "media_type", None),
        prepare=getattr(obj, "prepare", None),
        capture=getattr(obj, "capture", None),
        framing=getattr(obj, "framing", "length-prefixed"),
        container=getattr(obj, "container", None),
    )


#: The registry behind :func:`cefmt.encode`, :func:`cefmt.decode`, :func:`cefmt.codecs` and
#: :func:`cefmt.register`, and behind the bindings' ``format=`` lookups.
default_registry = Registry()
