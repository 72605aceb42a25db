# Recipes people type. `just` comes with the dev extra (rust-just on PyPI).
set shell := ["bash", "-euo", "pipefail", "-c"]

python := env_var_or_default("PYTHON", "python")

# Show the recipes.
default:
    @just --list

# The whole test suite, as CI runs it: the test brokers up for the run (installed from Debian packages when
# missing; the Kafka broker starts itself), every test, then the core tests again on the plain paths.
test:
    bash .ci/brokers.sh run just _both-passes

_both-passes:
    {{python}} -m pytest -q
    just test-pure

# The core tests with every fast path switched off (CEFMT_PURE=1): the plain paths must give the same. (The
# run before it is the accelerated one: tests/test_speedups.py fails there if the C accelerator is not built.)
test-pure:
    CEFMT_PURE=1 {{python}} -m pytest -q tests --ignore=tests/cli --ignore=tests/interop --ignore=tests/brokers

# Some tests (pytest arguments: paths, -k ...), with whatever brokers are running.
pytest *args:
    {{python}} -m pytest -q {{args}}

# Install (Debian packages, when missing) and start the test brokers on 127.0.0.1: RabbitMQ with AMQP 1.0, Mosquitto, NATS with JetStream.
brokers-up:
    bash .ci/brokers.sh install
    bash .ci/brokers.sh start

# Stop the test brokers that brokers-up started, by their PIDs.
brokers-down:
    bash .ci/brokers.sh stop

# Which test brokers are running, and where.
brokers-status:
    bash .ci/brokers.sh status

# The main job on the bundled sample data: JSON Lines to a msgpack stream and to captured HTTP messages.
demo:
    cefmt convert examples/sample-events.jsonl out/sample.msgpack --from json --to msgpack
    cefmt convert examples/sample-events.jsonl out/sample-http.jsonl --from json --to http
    cefmt validate out/sample.msgpack --from msgpack

# ruff, ruff format and mypy --strict.
lint:
    {{python}} -m ruff check cefmt cefmt_plugins tests benchmarks examples fuzz docs/_ext
    {{python}} -m ruff format --check cefmt cefmt_plugins tests benchmarks examples fuzz docs/_ext
    {{python}} -m mypy

# Format the code.
fmt:
    {{python}} -m ruff check --fix cefmt cefmt_plugins tests benchmarks examples fuzz docs/_ext
    {{python}} -m ruff format cefmt cefmt_plugins tests benchmarks examples fuzz docs/_ext

# The benchmark suite: cefmt (accelerated and pure Python) against SDK 2.x, 1.x, cloudevents-pydantic and the
# stdlib floor (about 7 minutes), written to benchmarks/RESULTS.md and docs/performance.md; `just bench --quick`
# is a smoke run that writes no file.
bench *args:
    {{python}} benchmarks/run.py --docs {{args}}

# The documentation site (mkdocs, API reference from the docstrings) into site/; warnings are errors.
docs *args:
    NO_MKDOCS_2_WARNING=1 {{python}} -m mkdocs build --strict {{args}}

# Fuzz every registered decoder with atheris, SECONDS per target (default 300); crashes land in fuzz/crashes/.
fuzz seconds="300":
    {{python}} fuzz/run.py --seconds {{seconds}}

# A short fuzz run for CI: 2000 inputs per target (about 10 s in all).
fuzz-smoke:
    {{python}} fuzz/run.py --smoke

# Fuzz the C accelerator under AddressSanitizer, SECONDS in all (default 300): accelerated against pure Python.
fuzz-asan seconds="300":
    {{python}} fuzz/asan.py --seconds {{seconds}}

# A short AddressSanitizer fuzz run for CI: 20000 inputs grown, then run under the sanitizer (about a minute).
fuzz-asan-smoke:
    {{python}} fuzz/asan.py --runs 20000

# Rebuild the C accelerator in place after changing cefmt/_speedups.c (a failed build is an error here).
build-ext:
    CEFMT_REQUIRE_EXTENSION=1 {{python}} setup.py -q build_ext --inplace
