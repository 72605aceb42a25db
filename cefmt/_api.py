"""The module-level verbs, bound to :data:`cefmt.default_registry`."""

from __future__ import annotations

from typing import Any

from ._registry import CodecInfo, default_registry

__all__ = ["codecs", "decode", "encode", "register", "unregister"]


#: Encode an event (a list of events for ``mode="batch"``) for a transport or event format (see
#: :meth:`Registry.encode`); the default registry's bound method itself, so there is one dispatch path.
encode = default_registry.encode

#: Decode a message of a transport or event format (see :meth:`Registry.decode`); the default
#: registry's bound method itself, so the call costs nothing on top of it.
decode = default_registry.decode


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
