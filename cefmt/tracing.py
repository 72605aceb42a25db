"""Trace context for CloudEvents: the Distributed Tracing extension and OpenTelemetry.

The spec's Distributed Tracing extension carries the W3C Trace Context of the event's producer in two
extension attributes, ``traceparent`` and ``tracestate``. They are plain Strings to cefmt: every codec
carries them byte for byte (a property test holds each one to that).

:func:`span_attributes` gives the OpenTelemetry semantic-convention attributes of an event and needs
nothing installed. With ``opentelemetry-api`` installed (``pip install -e '.[otel]'``), :func:`inject`
puts the current span's context into an event and :func:`extract` reads a context back out of one, to
parent the consumer's span on the producer's:

>>> from cefmt import CloudEvent
>>> event = CloudEvent(id="1", source="/orders", type="com.example.order.created", subject="42")
>>> span_attributes(event)["cloudevents.event_type"]
'com.example.order.created'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._event import CloudEvent

if TYPE_CHECKING:
    from opentelemetry.context import Context

__all__ = ["TRACE_EXTENSIONS", "extract", "inject", "span_attributes"]

#: The Distributed Tracing extension's attributes (W3C Trace Context).
TRACE_EXTENSIONS = ("traceparent", "tracestate")


def span_attributes(event: CloudEvent) -> dict[str, str]:
    """The OpenTelemetry semantic-convention attributes of a span about ``event``.

    ``cloudevents.event_id``, ``cloudevents.event_source``, ``cloudevents.event_spec_version``,
    ``cloudevents.event_type``, and ``cloudevents.event_subject`` when the event has a subject.

    >>> attributes = span_attributes(CloudEvent(id="1", source="/s", type="t", subject="x"))
    >>> attributes["cloudevents.event_id"], attributes["cloudevents.event_subject"], len(attributes)
    ('1', 'x', 5)
    """
    found = {
        "cloudevents.event_id": event.id,
        "cloudevents.event_source": event.source,
        "cloudevents.event_spec_version": event.specversion,
        "cloudevents.event_type": event.type,
    }
    if event.subject is not None:
        found["cloudevents.event_subject"] = event.subject
    return found


def _propagator() -> Any:
    try:
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError(
            "cefmt.tracing.inject and extract need opentelemetry-api: pip install -e '.[otel]' from a checkout"
        ) from exc
    return TraceContextTextMapPropagator()


def inject(event: CloudEvent, context: Context | None = None) -> CloudEvent:
    """A new event carrying the trace context of ``context`` (the current one by default) in
    ``traceparent`` and ``tracestate``; the event is returned as it is when there is no span to carry.

    Needs ``opentelemetry-api``.
    """
    carrier: dict[str, str] = {}
    _propagator().inject(carrier, context=context)
    changes = {name: carrier.get(name) for name in TRACE_EXTENSIONS}
    if changes["traceparent"] is None:
        return event
    return event.evolve(**changes)


def extract(event: CloudEvent, context: Context | None = None) -> Context:
    """The OpenTelemetry context ``event`` carries (its ``traceparent`` and ``tracestate``), on top of
    ``context``: start the consumer's span in it to make the producer's span its parent.

    Needs ``opentelemetry-api``.
    """
    carrier = {name: value for name in TRACE_EXTENSIONS if isinstance(value := event.get(name), str)}
    return _propagator().extract(carrier, context=context)  # type: ignore[no-any-return]
