"""A third party's plugin, end to end: ``examples/plugin-template`` is built into a wheel, installed
into a fresh venv, and a subprocess there proves that cefmt lists its codec and uses it, with no change
to cefmt. The venv sees this environment's packages (cefmt and its dependencies) through a ``.pth``
file, so nothing is downloaded; the plugin exists only in the new venv."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest

import cefmt
from tests.conftest import REPO

TEMPLATE = REPO / "examples" / "plugin-template"

_CHECK = textwrap.dedent(
    """
    import json
    import cefmt
    from cefmt import CloudEvent, decode, encode

    rows = [(list(i.key), i.distribution, i.target) for i in cefmt.codecs() if i.key[1] == "lines"]
    event = CloudEvent(id="7", source="/s", type="t", subject="Grüße", data="hi", datacontenttype="text/plain")
    raw = encode(event, "lines")
    http = encode(event, "http", "structured", format="lines")
    kafka = encode(event, "kafka", "structured", format="lines")
    print(json.dumps({
        "rows": rows,
        "raw": raw.decode(),
        "round_trip": decode(raw, "lines") == event,
        "http_content_type": http.headers["content-type"],
        "http_round_trip": decode(http, "http") == event,
        "kafka_round_trip": decode(kafka, "kafka") == event,
        "module": cefmt.default_registry.lookup("1.0", "lines", "structured").encode.__module__,
    }))
    """
)


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("plugin-template")
    source = work / "src"
    shutil.copytree(TEMPLATE, source, ignore=shutil.ignore_patterns("dist", "build", "*.egg-info", "__pycache__"))
    dist = work / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(source)],
        check=False, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("cefmt_lines-*.whl")

    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # addsitedir (not a bare path) so this environment's own .pth files, such as an editable cefmt, apply.
    parents = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    lines = "".join(f"import site; site.addsitedir({path!r})\n" for path in sorted(parents))
    Path(purelib, "_cefmt_test_parent.pth").write_text(lines)
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        check=False, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return python


def test_the_plugin_is_not_part_of_this_environment() -> None:
    assert not [info for info in cefmt.codecs() if info.key[1] == "lines"]


def test_cefmt_lists_and_uses_the_installed_plugin(plugin_venv: Path) -> None:
    run = subprocess.run([str(plugin_venv), "-c", _CHECK], check=False, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert sorted(result["rows"]) == [
        [["0.3", "lines", "structured"], "cefmt-lines", "cefmt_lines:structured"],
        [["1.0", "lines", "structured"], "cefmt-lines", "cefmt_lines:structured"],
    ]
    assert result["raw"] == (
        "specversion: 1.0\nid: 7\nsource: /s\ntype: t\ndatacontenttype: text/plain\nsubject: Grüße\n\nhi"
    )
    assert result["round_trip"] and result["http_round_trip"] and result["kafka_round_trip"]
    assert result["http_content_type"] == "application/cloudevents+lines"
    assert result["module"] == "cefmt_lines"


def test_the_templates_own_tests_pass_in_that_venv(plugin_venv: Path) -> None:
    run = subprocess.run(
        [str(plugin_venv), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(TEMPLATE / "tests"),
         "-c", "/dev/null", str(TEMPLATE / "tests")],
        check=False, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
