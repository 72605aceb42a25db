"""One switch for every speed trick: ``CEFMT_PURE=1`` in the environment takes the plain path everywhere.

cefmt's fast paths (the standard library's C JSON encoder called directly, the bulk header read, the
ISO timestamp parser, the compiled accelerator when one is built) each stand beside a plain Python
path that gives the same results and the same errors. The test suite runs both; this flag, read once
at import, is how it forces the plain ones.

:data:`SPEEDUPS` is the compiled accelerator (``cefmt._speedups``, C), or ``None`` when it was not
built (no compiler at install time) or ``CEFMT_PURE`` is set. Each of its functions returns
:data:`FALLBACK` for whatever it leaves to the Python path, which then gives the result or the error.
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["FALLBACK", "PURE", "SPEEDUPS"]

#: True when ``CEFMT_PURE`` is set to anything but ``""`` or ``"0"``.
PURE = os.environ.get("CEFMT_PURE", "") not in ("", "0")


def _speedups() -> ModuleType | None:
    if PURE:
        return None
    try:
        from . import _speedups  # noqa: PLC0415 - optional, compiled
    except ImportError:
        return None
    return _speedups


#: The compiled accelerator, or None.
SPEEDUPS = _speedups()
#: What an accelerated function returns to say "take the Python path".
FALLBACK: object = SPEEDUPS.FALLBACK if SPEEDUPS is not None else object()
