"""The URLconf of the Django receiver (``ROOT_URLCONF`` in tests/web/apps.py)."""

from __future__ import annotations

from .apps import django_urlpatterns

urlpatterns = django_urlpatterns()
