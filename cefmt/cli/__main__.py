"""``python -m cefmt.cli``: the same as the ``cefmt`` command."""

from __future__ import annotations

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
