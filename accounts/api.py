"""REST API for accounts under /api/v1/. Thin views: validate, call a service, serialize."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import STORE_METRICS_FIELDS, Role
from accounts.permissions import KeyAccess, TenantMixin
from accounts.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeySerializer,
    AuditLogEntrySerializer,
    InvitationSerializer,
    MemberSerializer,
    OrganisationSerializer,
    StoreSerializer,
)
from core import selectors as core_selectors
from core.api import query_text
from core.serializers import TaskSerializer


class OrganisationView(TenantMixin, APIView):
    @extend_schema(responses=OrganisationSerializer)
    def get(self, request: Request) -> Response:
        tenant = self.tenant
        data = {"id": tenant.organisation.pk, "name": tenant.organisation.name, "role": tenant.role}
        return Response(OrganisationSerializer(data).data)


class StoreViewSet(TenantMixin, viewsets.ModelViewSet):
    """Stores: admins create, change and delete them. Editors may change a store's funnel
    and retention settings: a PATCH of `funnel_window_days` and `retention_days` alone."""

    serializer_class = StoreSerializer
    write_role = Role.ADMIN

    def check_permissions(self, request: Request) -> None:
        # A member's PATCH of the metrics settings alone needs an editor; a key never changes
        # its store (request.auth is the key).
        if (
            self.action == "partial_update"
            and request.user.is_authenticated
            and request.auth is None
            and isinstance(request.data, dict)
            and set(request.data) <= set(STORE_METRICS_FIELDS)
        ):
            self.write_role = Role.EDITOR
        super().check_permissions(request)

    def get_queryset(self) -> QuerySet:
        return selectors.store_list(
            organisation=self.tenant.organisation, only_store=self.tenant.store
        )

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.store_create(
            organisation=self.tenant.organisation,
            actor=self.tenant.actor(),
            **serializer.validated_data,
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.store_update(
            store=serializer.instance, actor=self.tenant.actor(), **serializer.validated_data
        )

    def perform_destroy(self, instance: Any) -> None:
        """204 at once: the store is gone from every list and its keys are revoked; its
        journeys stay without it (an active one archived); its data is removed in the
        background."""
        services.store_delete_request(store=instance, actor=self.tenant.actor())


class ApiKeyViewSet(
    TenantMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """API keys. DELETE revokes a key (it stays listed, with `revoked_at`)."""

    serializer_class = ApiKeySerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get_queryset(self) -> QuerySet:
        return selectors.api_key_list(organisation=self.tenant.organisation)

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        serializer = super().get_serializer(*args, **kwargs)
        fields = getattr(serializer, "fields", {})
        if "store" in fields:
            fields["store"].queryset = selectors.store_list(organisation=self.tenant.organisation)
        return serializer

    @extend_schema(responses={201: ApiKeyCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, raw_key = services.api_key_create(
            actor=self.tenant.actor(), **serializer.validated_data
        )
        data = ApiKeyCreatedSerializer(api_key).data
        data["key"] = raw_key
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Any) -> None:
        services.api_key_revoke(api_key=instance, actor=self.tenant.actor())


class MemberViewSet(
    TenantMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MemberSerializer
    write_role = Role.ADMIN
    secret_key_access = KeyAccess.NONE  # a store's server has no use for people's addresses
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return selectors.member_list(organisation=self.tenant.organisation)

    def perform_update(self, serializer: Any) -> None:
        services.member_role_change(
            membership=serializer.instance,
            role=serializer.validated_data.get("role", serializer.instance.role),
            actor=self.tenant.actor(),
            actor_role=self.tenant.role,
        )

    def perform_destroy(self, instance: Any) -> None:
        services.member_remove(
            membership=instance, actor=self.tenant.actor(), actor_role=self.tenant.role
        )


class InvitationViewSet(
    TenantMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = InvitationSerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get_queryset(self) -> QuerySet:
        return selectors.invitation_list(organisation=self.tenant.organisation)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance, _token = services.member_invite(
            organisation=self.tenant.organisation,
            actor=self.tenant.actor(),
            actor_role=self.tenant.role,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: Any) -> None:
        services.member_invitation_revoke(invitation=instance, actor=self.tenant.actor())


class AuditLogViewSet(TenantMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = AuditLogEntrySerializer
    read_role = Role.ADMIN

    def get_queryset(self) -> QuerySet:
        return selectors.audit_log_list(
            organisation=self.tenant.organisation,
            action=query_text(self.request, "action"),
        )


class TaskViewSet(TenantMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A background task of the organisation (a CSV import, later a metrics recompute): poll
    it until `state` is `done` (its `result` is the kind's report) or `failed` (`error` says
    why). A store's secret key sees its store's tasks only. Editors and above: a task's
    result may name customers."""

    serializer_class = TaskSerializer
    read_role = Role.EDITOR

    def get_queryset(self) -> QuerySet:
        store = self.tenant.store
        return core_selectors.task_list(
            organisation_id=self.tenant.organisation.pk,
            only_store_id=store.pk if store is not None else None,
        )
