"""The build of cefmt: pure Python, plus the optional compiled accelerator ``cefmt._speedups`` (C).

The extension is optional, as markupsafe's and msgpack's are: where it cannot be built (no C compiler,
no Python headers, another interpreter than CPython), the build says why and carries on without it,
and cefmt runs its pure-Python reference path, which gives the same results and the same errors.

Environment switches (read at build time):

* ``CEFMT_NO_EXTENSION=1``: do not try to build the extension at all.
* ``CEFMT_REQUIRE_EXTENSION=1``: a failed extension build fails the install (CI sets it, so that the
  accelerated path it tests is really there).
* ``CEFMT_ASAN=1``: build the extension with AddressSanitizer and debug information (``just fuzz-asan``).
"""

from __future__ import annotations

import os
import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


class OptionalBuildExt(build_ext):
    """build_ext that treats a failure as "no accelerator" unless CEFMT_REQUIRE_EXTENSION is set."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - whatever stops the compiler means: no accelerator
            self._skip(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001 - as above
            self._skip(exc)

    def _skip(self, exc: Exception) -> None:
        if _flag("CEFMT_REQUIRE_EXTENSION"):
            raise exc
        print(
            f"warning: cefmt's optional C accelerator was not built ({type(exc).__name__}: {exc}); "
            "cefmt will run its pure-Python path, which gives the same results more slowly",
            file=sys.stderr,
        )


def extensions() -> list[Extension]:
    if _flag("CEFMT_NO_EXTENSION") or platform.python_implementation() != "CPython":
        return []
    compile_args: list[str] = []
    link_args: list[str] = []
    if _flag("CEFMT_ASAN"):
        compile_args = ["-fsanitize=address", "-fno-omit-frame-pointer", "-g", "-O1"]
        link_args = ["-fsanitize=address"]
    return [
        Extension(
            "cefmt._speedups",
            ["cefmt/_speedups.c"],
            extra_compile_args=compile_args,
            extra_link_args=link_args,
            optional=not _flag("CEFMT_REQUIRE_EXTENSION"),
        )
    ]


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
