"""One switch for every speed trick: ``CEFMT_PURE=1`` in the environment takes the plain path everywhere.

cefmt's fast paths (the standard library's C JSON encoder called directly, the bulk header read, the
ISO timestamp parser, the compiled accelerator when one is built) each stand beside a plain Python
path that gives the same results and the same errors. The test suite runs both; this flag, read once
at import, is how it forces the plain ones.
"""

from __future__ import annotations

import os

__all__ = ["PURE"]

#: True when ``CEFMT_PURE`` is set to anything but ``""`` or ``"0"``.
PURE = os.environ.get("CEFMT_PURE", "") not in ("", "0")
