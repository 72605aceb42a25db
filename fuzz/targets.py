"""Atheris fuzz targets: one per registered decoder ``TRANSPORT-MODE``, found through ``cefmt.codecs()``,
and ``sql`` for the CESQL parser and evaluator.

Run one target (the corpus folder is read and grown)::

    python fuzz/targets.py http-binary fuzz/corpus/http-binary -max_total_time=60

``python fuzz/run.py`` runs every target for a set time; ``--smoke`` runs each for a few thousand inputs.
A bug is any exception that is not a :class:`cefmt.CloudEventError`, a hang (``-timeout``) or runaway
memory (``-rss_limit_mb``). Binding targets read their input as a message: header lines
``name:value`` up to a blank line, then the body (see :func:`to_message`). The ``sql`` target reads its
input as expression text (see :func:`make_sql_target`).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

if __name__ == "__main__":
    import atheris

    # Coverage feedback from cefmt and its plugins only: instrumenting everything costs minutes.
    with atheris.instrument_imports(include=["cefmt", "cefmt_plugins"]):
        import cefmt
        import cefmt.codec
        import cefmt.http
        import cefmt.sql
        import cefmt_plugins.kafka
        import cefmt_plugins.msgpack_format  # noqa: F401
else:
    import cefmt

from cefmt_plugins.kafka import KafkaMessage  # already imported, and instrumented, when fuzzing


def formats() -> set[str]:
    keys = {info.key for info in cefmt.codecs() if info.error is None}
    return {t for v, t, m in keys if cefmt.default_registry.lookup(v, t, m).media_type is not None}


def targets() -> list[str]:
    """``TRANSPORT-MODE`` for every registered decoder (spec versions share one target), and ``sql``."""
    codecs = {f"{t}-{m}" for _, t, m in (info.key for info in cefmt.codecs() if info.error is None)}
    return [*sorted(codecs), "sql"]


def to_message(transport: str, data: bytes) -> Any:
    """Fuzz bytes as a message of ``transport``: bytes for a format, else headers and a body."""
    if transport in formats():
        return data
    head, _, body = data.partition(b"\n\n")
    pairs = [line.partition(b":") for line in head.split(b"\n") if line]
    if transport == "kafka":
        return KafkaMessage(None, [(n.decode("latin-1"), v) for n, _, v in pairs], body or None)
    # HTTP servers hand over text; undecodable bytes stay bytes so that the decoder must check them.
    headers = [(n.decode("latin-1"), _text_or_bytes(v)) for n, _, v in pairs]
    return (headers, body)


def from_message(message: Any) -> bytes:
    """The inverse of :func:`to_message`, for seed corpora."""
    if isinstance(message, bytes):
        return message
    headers = message.headers.items() if isinstance(message.headers, dict) else message.headers
    head = b"".join(
        n.encode("latin-1") + b":" + (v if isinstance(v, bytes) else v.encode("utf-8")) + b"\n" for n, v in headers
    )
    body = getattr(message, "body", None) if hasattr(message, "body") else message.value
    return head + b"\n" + (body or b"")


def _text_or_bytes(value: bytes) -> str | bytes:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value


def make_sql_target() -> Any:
    """Fuzz bytes as CESQL text: it compiles or raises a cefmt error; what compiles prints to text that
    parses to the same tree, and evaluates on a few events to a CESQL value and a CESQL error, never an
    exception, with ``matches`` agreeing with the value."""
    import cefmt.sql  # noqa: PLC0415 - instrumented above when fuzzing, loaded here for a plain import
    from cefmt.sql._parser import parse  # noqa: PLC0415

    events = [
        cefmt.CloudEvent(type="com.example.t", source="/s", id="1"),
        cefmt.CloudEvent(
            type="t", source="/s", id="-5", subject="a%b_c", time="2020-01-01T00:00:00.5+01:00",
            n=7, flag=True, word="TRUE", digits="42", blob=b"\x00\xff", big=2**31 - 1,
        ),
        cefmt.CloudEvent(type="t", source="/s", id="x", specversion="0.3", schemaurl="/x", n=-(2**31)),
    ]  # fmt: skip

    def test_one_input(data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        try:
            expression = cefmt.sql.compile(text, max_length=4096)
        except cefmt.CloudEventError:
            return
        assert parse(expression.canonical, max_depth=cefmt.sql.MAX_DEPTH_CEILING) == expression.tree, text
        for event in events:
            result = expression.evaluate(event)
            assert type(result.value) in (str, int, bool), (text, result)
            assert result.error is None or isinstance(result.error, cefmt.sql.SQLError), (text, result)
            assert expression.matches(event) is (result.value is True and result.error is None), text

    return test_one_input


def make_target(name: str) -> Any:
    if name == "sql":
        return make_sql_target()
    transport, _, mode = name.rpartition("-")

    def test_one_input(data: bytes) -> None:
        message = to_message(transport, data)
        for chosen in (mode, None):
            try:
                decoded = cefmt.decode(message, transport, chosen)
            except cefmt.CloudEventError:
                continue
            # What decodes must encode again with the same codec, or fail with a cefmt error.
            with contextlib.suppress(cefmt.CloudEventError):
                cefmt.encode(decoded, transport, mode if chosen is not None else _mode_of(decoded, mode))

    return test_one_input


def _mode_of(decoded: Any, mode: str) -> str:
    return "batch" if isinstance(decoded, list) else ("structured" if mode == "batch" else mode)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in targets():
        sys.exit(f"usage: targets.py TARGET [libFuzzer options]; targets: {', '.join(targets())}")
    name = sys.argv.pop(1)
    atheris.Setup(sys.argv, make_target(name))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
