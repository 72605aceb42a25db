"""Receivers written the way the docs tell users to write them, one per framework.

Each app has ``POST /events`` (every event of the request, in any mode) and ``POST /event`` (exactly
one). It answers 200 with the events it decoded as a JSON batch, so the test can compare them with what
was sent, and a cefmt error with ``cefmt.http.error_response``. FastAPI also has ``/dep/event`` and
``/dep/events``, the dependency forms.
"""

# No `from __future__ import annotations` here: FastAPI reads the handlers' annotations as objects, and these
# handlers are defined inside functions, where their names could not be found again from text.
from typing import Annotated, Any

import cefmt
from cefmt import CloudEvent, CloudEventError, Limits
from cefmt.http import error_response, event_dependency, events_dependency, events_from_request, from_request

#: Small enough that the tests can cross it: a body over it is answered 413.
LIMITS = Limits(max_message_bytes=64 * 1024, max_header_count=64)
BATCH = "application/cloudevents-batch+json"


def _answer(events: list[CloudEvent]) -> bytes:
    return cefmt.encode(events, "json", "batch")


# -- Flask (WSGI, sync) -------------------------------------------------------------------------------------


def flask_app() -> Any:
    from flask import Flask, request

    app = Flask("cefmt-test")

    @app.post("/events")
    def events() -> Any:
        try:
            received = cefmt.decode_events(request, "http", limits=LIMITS)
        except CloudEventError as exc:
            status, reason = error_response(exc)
            return reason, status
        return _answer(received), 200, {"content-type": BATCH}

    @app.post("/event")
    def event() -> Any:
        try:
            received = cefmt.decode_event(request, "http", limits=LIMITS)
        except CloudEventError as exc:
            status, reason = error_response(exc)
            return reason, status
        return _answer([received]), 200, {"content-type": BATCH}

    return app


# -- FastAPI and Starlette (ASGI, async) ----------------------------------------------------------------------


def fastapi_app() -> Any:
    from fastapi import Depends, FastAPI, Request, Response
    from fastapi.responses import PlainTextResponse

    app = FastAPI()

    @app.post("/events")
    async def events(request: Request) -> Response:
        try:
            received = await events_from_request(request, limits=LIMITS)
        except CloudEventError as exc:
            status, reason = error_response(exc)
            return PlainTextResponse(reason, status)
        return Response(_answer(received), media_type=BATCH)

    @app.post("/event")
    async def event(request: Request) -> Response:
        try:
            received = await from_request(request, limits=LIMITS)
        except CloudEventError as exc:
            status, reason = error_response(exc)
            return PlainTextResponse(reason, status)
        return Response(_answer([received]), media_type=BATCH)

    @app.post("/dep/event")
    async def dep_event(received: Annotated[CloudEvent, Depends(event_dependency(limits=LIMITS))]) -> Response:
        return Response(_answer([received]), media_type=BATCH)

    @app.post("/dep/events")
    async def dep_events(received: Annotated[list[CloudEvent], Depends(events_dependency(limits=LIMITS))]) -> Response:
        return Response(_answer(received), media_type=BATCH)

    return app


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    async def events(request: Request) -> Response:
        try:
            received = await events_from_request(request, limits=LIMITS)
        except CloudEventError as exc:
            status, reason = error_response(exc)
            return PlainTextResponse(reason, status)
        return Response(_answer(received), media_type=BATCH)

    async def event(request: Request) -> Response:
        try:
            received = await from_request(request, limits=LIMITS)
        except CloudEventError as exc:
            status, reason = error_response(exc)
            return PlainTextResponse(reason, status)
        return Response(_answer([received]), media_type=BATCH)

    return Starlette(routes=[Route("/events", events, methods=["POST"]), Route("/event", event, methods=["POST"])])


# -- aiohttp (async) ----------------------------------------------------------------------------------------


def aiohttp_app() -> Any:
    from aiohttp import web

    async def events(request: web.Request) -> web.Response:
        try:
            received = await events_from_request(request, limits=LIMITS)
        except CloudEventError as exc:
            status, reason = error_response(exc)
            return web.Response(status=status, text=reason)
        return web.Response(body=_answer(received), content_type=BATCH)

    async def event(request: web.Request) -> web.Response:
        if request.query.get("read") == "first":  # the handler read the body itself before cefmt sees it
            await request.read()
        try:
            received = await from_request(request, limits=LIMITS)
        except CloudEventError as exc:
            status, reason = error_response(exc)
            return web.Response(status=status, text=reason)
        return web.Response(body=_answer([received]), content_type=BATCH)

    app = web.Application()
    app.router.add_post("/events", events)
    app.router.add_post("/event", event)
    return app


# -- Django (ASGI: an async view and a sync one) ------------------------------------------------------------


async def django_events(request: Any) -> Any:
    from django.http import HttpResponse

    try:
        received = await events_from_request(request, limits=LIMITS)
    except CloudEventError as exc:
        status, reason = error_response(exc)
        return HttpResponse(reason, status=status, content_type="text/plain")
    return HttpResponse(_answer(received), content_type=BATCH)


def django_event(request: Any) -> Any:
    from django.http import HttpResponse

    try:
        received = cefmt.decode_event(request, "http", limits=LIMITS)
    except CloudEventError as exc:
        status, reason = error_response(exc)
        return HttpResponse(reason, status=status, content_type="text/plain")
    return HttpResponse(_answer([received]), content_type=BATCH)


def django_urlpatterns() -> list[Any]:
    from django.urls import path

    return [path("events", django_events), path("event", django_event)]


def django_app() -> Any:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="cefmt-tests",
            ALLOWED_HOSTS=["127.0.0.1", "localhost"],
            ROOT_URLCONF="tests.web.django_urls",
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
            DATABASES={},
        )
        django.setup()
    from django.core.asgi import get_asgi_application

    return get_asgi_application()
