"""Run every fuzz target: ``python fuzz/run.py [--smoke] [--seconds N]``.

Each target runs in its own process with the seed corpus copied to a scratch folder (the checked-in
tree stays clean); crashes are written to ``fuzz/crashes/``. ``--smoke`` runs 2000 inputs per target,
for CI. The exit status is non-zero when any target found a crash.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fuzz.targets import targets  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="2000 inputs per target")
    parser.add_argument("--seconds", type=int, default=300, help="time per target (default 300)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run([sys.executable, str(HERE / "make_corpus.py"), scratch], check=True)
        crashes = HERE / "crashes"
        crashes.mkdir(exist_ok=True)
        failed = []
        for name in targets():
            budget = ["-runs=2000"] if args.smoke else [f"-max_total_time={args.seconds}"]
            command = [sys.executable, str(HERE / "targets.py"), name, str(Path(scratch) / name), *budget]
            command += ["-timeout=10", "-rss_limit_mb=2048", "-max_len=65536", f"-artifact_prefix={crashes}/{name}-"]
            print("+", " ".join(command), flush=True)
            if subprocess.run(command, check=False).returncode != 0:
                failed.append(name)
        if not any(crashes.iterdir()):
            shutil.rmtree(crashes)
    print("crashes in: " + ", ".join(failed) if failed else "no crash found")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
