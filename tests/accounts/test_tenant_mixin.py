"""Tenant views fail closed: what a view forgets to scope is refused, never served."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.test import RequestFactory
from rest_framework import viewsets

from accounts.models import Organisation, Role
from accounts.permissions import Tenant, TenantMixin, tenant_note, tenant_of
from journeys.models import Journey
from journeys.serializers import JourneyListSerializer


def test_a_class_level_queryset_is_refused_at_import() -> None:
    with pytest.raises(ImproperlyConfigured, match="declares a queryset that no tenant scopes"):

        class Everyone(TenantMixin, viewsets.ReadOnlyModelViewSet):
            queryset = Journey.objects.all()
            serializer_class = JourneyListSerializer


def test_a_view_without_a_scoped_get_queryset_refuses() -> None:
    class Forgetful(TenantMixin, viewsets.ReadOnlyModelViewSet):
        serializer_class = JourneyListSerializer

    with pytest.raises(ImproperlyConfigured, match="must define get_queryset"):
        Forgetful().get_queryset()


def test_tenant_of_refuses_a_request_no_role_check_saw() -> None:
    request: Any = RequestFactory().get("/")
    with pytest.raises(PermissionDenied):
        tenant_of(request)
    with pytest.raises(PermissionDenied):
        tenant_of(None)
    tenant = Tenant(organisation=Organisation(pk=1, name="A"), role=Role.VIEWER)
    tenant_note(request, tenant)
    assert tenant_of(request) is tenant


def test_the_mixin_reads_the_checked_caller() -> None:
    class View(TenantMixin, viewsets.ViewSet):
        pass

    view = View()
    with pytest.raises(PermissionDenied):
        _ = view.tenant  # no request: refused
    view.request = RequestFactory().get("/")  # type: ignore[assignment]
    tenant = Tenant(organisation=Organisation(pk=1, name="A"), role=Role.EDITOR)
    tenant_note(view.request, tenant)
    assert view.tenant is tenant
