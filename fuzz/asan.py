"""Fuzz the compiled accelerator under AddressSanitizer: ``python fuzz/asan.py [--runs N | --seconds N]``.

Two phases over one corpus, both running ``fuzz/speedups.py`` (the differential target: accelerated
against pure Python, every outcome compared):

1. coverage-guided, on the accelerator as installed: libFuzzer grows the corpus from the seeds below,
   guided by the coverage of cefmt's Python code (which is what decides what reaches the C code);
2. under AddressSanitizer: ``cefmt._speedups`` is built with ``-fsanitize=address`` (``CEFMT_ASAN=1``,
   see setup.py) into a scratch copy of the package, which comes first on the path, with the
   sanitizer's runtime preloaded into the interpreter (which is not built with it) and Python's own
   allocator off (``PYTHONMALLOC=malloc``), so that every object's memory is the sanitizer's to check.
   Every input of the grown corpus is run, then mutations of them. (Under the preloaded sanitizer
   atheris gets no coverage feedback, hence the first phase.)

A memory error, or a difference between the two paths, fails the run; the input that caused it is
written to ``fuzz/crashes/``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# One seed per kind of input fuzz/speedups.py reads (its first byte chooses the kind).
SEEDS = {
    "json": b"\x00" + b'{"a": [1, 2.5, -0, 1e5, "\\u00e9\\ud83d\\ude00", true, null], "b": {}}',
    "event": b"\x01" + b'{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"2020-01-01T00:00:00.5Z",'
    b'"datacontenttype":"application/json","x":1,"data":{"n":[1]}}',
    "batch": b"\x01" + b'[{"specversion":"1.0","id":"1","source":"/s","type":"t"},{"specversion":"1.0","id":"2",'
    b'"source":"/s","type":"t","data_base64":"AA=="}]',
    "http": b"\x02" + b"ce-specversion:1.0\nce-id:1\nce-source:/s\nce-type:t\nce-time:2020-01-01T00:00:00Z\n"
    b'content-type:application/json\n\n{"a":1}',
    "kafka": b"\x03" + b"ce_specversion:1.0\nce_id:1\nce_source:/s\nce_type:t\ncontent-type:text/plain\n\nhello",
    "time": b"\x04" + b"2018-04-05T17:31:00.123456789+02:00",
    "made": b"\x05" + bytes(range(64)),
}


def asan_runtime() -> str:
    """The path of the compiler's AddressSanitizer runtime (gcc's libasan)."""
    compiler = os.environ.get("CC", "gcc")
    found = subprocess.run([compiler, "-print-file-name=libasan.so"], capture_output=True, text=True, check=True)
    path = found.stdout.strip()
    if not os.path.isabs(path) or not os.path.exists(path):
        sys.exit(f"fuzz/asan.py: no AddressSanitizer runtime from {compiler} (install gcc, which brings libasan)")
    return path


def cxx_runtime() -> str:
    """The path of the C++ runtime (libstdc++) the compiler links against."""
    compiler = os.environ.get("CC", "gcc")
    found = subprocess.run([compiler, "-print-file-name=libstdc++.so.6"], capture_output=True, text=True, check=True)
    return found.stdout.strip()


def build(scratch: Path) -> Path:
    """A copy of the package with the accelerator built with AddressSanitizer; the folder to import it from."""
    tree = scratch / "tree"
    tree.mkdir()
    for name in ("cefmt", "cefmt_plugins"):
        shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    env = {**os.environ, "CEFMT_ASAN": "1", "CEFMT_REQUIRE_EXTENSION": "1"}
    subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tree, env=env, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    if not list((tree / "cefmt").glob("_speedups*.so")):
        sys.exit("fuzz/asan.py: the accelerator did not build")
    return tree


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--runs", type=int, help="inputs to run (CI's smoke run: 5000)")
    budget.add_argument("--seconds", type=int, default=300, help="time to run (default 300)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        tree = build(scratch)
        corpus = scratch / "corpus"
        corpus.mkdir()
        for name, seed in SEEDS.items():
            (corpus / name).write_bytes(seed)
        crashes = HERE / "crashes"
        crashes.mkdir(exist_ok=True)
        env = {
            **os.environ,
            # The C++ runtime too: libFuzzer (in atheris) reports a failing input by throwing, and the
            # sanitizer's interceptor of throw needs the C++ runtime loaded before it.
            "LD_PRELOAD": " ".join([asan_runtime(), cxx_runtime()]),
            "PYTHONMALLOC": "malloc",
            # The interpreter itself frees not everything at exit: leaks are not what is looked for here.
            "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1:strict_string_checks=1:check_initialization_order=1",
            "PYTHONPATH": os.pathsep.join([str(tree), sysconfig.get_paths()["purelib"]]),
        }
        env.pop("CEFMT_PURE", None)
        options = ["-timeout=20", "-rss_limit_mb=4096", "-max_len=4096", f"-artifact_prefix={crashes}/speedups-"]
        half = [f"-runs={args.runs}"] if args.runs else [f"-max_total_time={max(1, args.seconds // 2)}"]
        target = str(HERE / "speedups.py")
        grow = [sys.executable, target, str(corpus), *half, *options]
        print("+", " ".join(grow), flush=True)
        plain_env = {key: value for key, value in os.environ.items() if key != "CEFMT_PURE"}
        code = subprocess.run(grow, env=plain_env, check=False).returncode
        if code == 0:
            # -S: no site hooks (the work tree's editable install must not stand in for the sanitized copy).
            check = [sys.executable, "-S", target, str(corpus), *half, *options]
            print("+ (AddressSanitizer)", " ".join(check), flush=True)
            code = subprocess.run(check, env=env, check=False).returncode
        if not any(crashes.iterdir()):
            shutil.rmtree(crashes)
    print("fuzz-asan: " + ("no error found" if code == 0 else f"failed (exit {code})"))
    return code


if __name__ == "__main__":
    sys.exit(main())
