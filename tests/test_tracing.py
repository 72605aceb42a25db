"""Trace context: the Distributed Tracing extension through every codec, and OpenTelemetry (issue #13)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cefmt import CloudEvent, decode, encode
from cefmt.tracing import extract, inject, span_attributes
from tests.hardening.cases import Case, case_id, cases, decode_case, encode_case

_HEX = "0123456789abcdef"
traceparents = st.builds(
    lambda trace, span, flags: f"00-{trace}-{span}-{flags}",
    st.text(_HEX, min_size=32, max_size=32).filter(lambda t: t.strip("0")),
    st.text(_HEX, min_size=16, max_size=16).filter(lambda s: s.strip("0")),
    st.sampled_from(["00", "01"]),
)
# W3C Trace Context, tracestate: list-members "key=value" joined by ",", optional spaces around them.
_KEY = st.from_regex(r"[a-z][a-z0-9_\-*/]{0,15}(@[a-z][a-z0-9_\-*/]{0,7})?", fullmatch=True)
_VALUE = st.from_regex(r"[\x21-\x2b\x2d-\x3c\x3e-\x7e]{0,20}[\x21-\x2b\x2d-\x3c\x3e-\x7e]", fullmatch=True)
tracestates = st.lists(st.tuples(_KEY, _VALUE), min_size=1, max_size=5).map(
    lambda members: ",".join(f"{key}={value}" for key, value in members)
)


@pytest.mark.parametrize("case", cases(), ids=case_id)
@settings(max_examples=25, deadline=None)
@given(traceparent=traceparents, tracestate=tracestates)
def test_trace_context_travels_byte_for_byte_through_every_codec(case: Case, traceparent: str, tracestate: str) -> None:
    event = CloudEvent(
        {
            "specversion": case[0],
            "id": "1",
            "source": "/s",
            "type": "t",
            "traceparent": traceparent,
            "tracestate": tracestate,
        }
    )
    back = decode_case(encode_case([event] if case[2] == "batch" else event, case), case)
    back = back[0] if isinstance(back, list) else back
    assert (back["traceparent"], back["tracestate"]) == (traceparent, tracestate)


def test_span_attributes_follow_the_semantic_conventions() -> None:
    event = CloudEvent(id="e1", source="/orders", type="com.example.order.created", subject="42")
    assert span_attributes(event) == {
        "cloudevents.event_id": "e1",
        "cloudevents.event_source": "/orders",
        "cloudevents.event_spec_version": "1.0",
        "cloudevents.event_type": "com.example.order.created",
        "cloudevents.event_subject": "42",
    }


@pytest.fixture
def exporter() -> Any:
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")  # in the test extra: always there in CI
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    memory.provider = provider
    return memory


def test_a_consumer_span_is_the_child_of_the_producer_span_across_the_wire(exporter: Any) -> None:
    tracer = exporter.provider.get_tracer("cefmt-test")
    event = CloudEvent(id="e1", source="/orders", type="com.example.order.created", data={"n": 1})
    with tracer.start_as_current_span("publish", attributes=span_attributes(event)) as producer:
        sent = inject(event)
        headers, body = encode(sent, "http", "binary")
    assert sent["traceparent"].startswith("00-") and "traceparent" not in event
    received = decode((headers, body), "http")
    with tracer.start_as_current_span("process", context=extract(received)):
        pass
    spans = {span.name: span for span in exporter.get_finished_spans()}
    consumer, published = spans["process"], spans["publish"]
    assert consumer.parent is not None
    assert consumer.parent.span_id == published.context.span_id == producer.get_span_context().span_id
    assert consumer.context.trace_id == published.context.trace_id
    assert published.attributes["cloudevents.event_type"] == "com.example.order.created"


def test_inject_without_a_span_leaves_the_event_as_it_is_and_extract_of_nothing_is_empty() -> None:
    pytest.importorskip("opentelemetry.trace")
    from opentelemetry import trace

    event = CloudEvent(id="e1", source="/s", type="t")
    assert inject(event) is event
    assert not trace.get_current_span(extract(event)).get_span_context().is_valid
