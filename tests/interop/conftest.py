"""One venv per line of the official SDK (they share the package name ``cloudevents``), made once and
kept under ``$CEFMT_INTEROP_DIR`` (``/tmp/cefmt-interop`` unless set). ``.ci/run`` may make them ahead
of time with the same commands; a venv that already imports the right SDK line is reused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SDK_LINES = {"sdk1": "cloudevents>=1,<2", "sdk2": "cloudevents>=2,<3"}


def interop_dir() -> Path:
    return Path(os.environ.get("CEFMT_INTEROP_DIR", "/tmp/cefmt-interop"))


def _python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _sdk_major(python: Path) -> int | None:
    probe = subprocess.run(
        [str(python), "-c", "from importlib.metadata import version; print(version('cloudevents'))"],
        check=False, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return int(probe.stdout.split(".")[0]) if probe.returncode == 0 else None


def sdk_python(name: str) -> Path:
    """The interpreter of the venv for SDK line ``name``, made (from PyPI) when it is missing."""
    env_dir = interop_dir() / name
    python = _python(env_dir)
    major = int(name[-1])
    if python.exists() and _sdk_major(python) == major:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(env_dir)], check=True, timeout=300)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", SDK_LINES[name]],
        check=False, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, f"installing {SDK_LINES[name]} failed:\n{install.stdout}\n{install.stderr}"
    assert _sdk_major(python) == major
    return python


@pytest.fixture(scope="session", params=sorted(SDK_LINES))
def sdk(request: pytest.FixtureRequest) -> Path:
    return sdk_python(request.param)
