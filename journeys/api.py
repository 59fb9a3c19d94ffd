"""REST API for journey maps under /api/v1/. Thin: validate, call a service, serialize.

Reads need any role, writes the editor role (IsOrganisationMember's defaults).
Writes to a map carry the journey `version` they are based on (body field `version` or an
`If-Match` header); a stale one gets 409 `version_conflict` and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import KeyAccess, TenantMixin
from core.api import query_choice, query_id, query_text
from journeys import selectors, services, transfer
from journeys.blueprints import TEMPLATES
from journeys.models import Journey
from journeys.serializers import (
    ExperimentSerializer,
    JourneyActivateSerializer,
    JourneyChangeSerializer,
    JourneyListSerializer,
    JourneySerializer,
    JourneyStatusSerializer,
    PersonaSerializer,
    ReorderSerializer,
    StageCreateSerializer,
    StageSerializer,
    TemplateSerializer,
    TouchpointCreateSerializer,
    TouchpointMoveSerializer,
    TouchpointSerializer,
)


def request_version(request: Request, data: dict[str, Any] | None = None) -> int | None:
    """The journey version a write is based on: body `version`, else the If-Match header."""
    value = (data or {}).get("version")
    if value is None:
        value = request.data.get("version") if hasattr(request.data, "get") else None
    if value is None:
        header = request.headers.get("If-Match", "").strip()
        value = header.removeprefix("W/").strip('"') or None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class MapWriteMixin(TenantMixin):
    """Writes to a map as the caller."""

    def run(self, fn: Any, **kwargs: Any) -> Any:
        """Call a service as the caller; its errors reach core.api.exception_handler."""
        return fn(actor=self.tenant.actor(), **kwargs)


def _scoped_fields(serializer: Any, view: TenantMixin) -> Any:
    """Related fields offer only the caller's own rows (a store's key: its store's)."""
    from accounts.selectors import store_list

    tenant = view.tenant
    fields = getattr(serializer, "fields", {})
    if "store" in fields and hasattr(fields["store"], "queryset"):
        fields["store"].queryset = store_list(
            organisation=tenant.organisation, only_store=tenant.store
        )
    if "persona_ids" in fields:
        fields["persona_ids"].child_relation.queryset = selectors.persona_list(
            organisation=tenant.organisation
        )
    if "journey" in fields and hasattr(fields["journey"], "queryset"):
        fields["journey"].queryset = selectors.journey_list(
            organisation=tenant.organisation, only_store=tenant.store
        )
    if "stage" in fields and hasattr(fields["stage"], "queryset"):
        fields["stage"].queryset = selectors.stage_list(
            organisation=tenant.organisation, only_store=tenant.store
        )
    return serializer


KEY_KEEPS_STORE = "A store's key works on its own store's journeys: the store cannot be empty."


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("store", int, description="Only journeys of this store"),
            OpenApiParameter("status", str, enum=["draft", "active", "archived"]),
            OpenApiParameter("search", str, description="In name and description"),
        ]
    )
)
class JourneyViewSet(MapWriteMixin, viewsets.ModelViewSet):
    # Versioned writes (409 version_conflict; activate also 409 active_journey_exists).
    conflict_actions = (
        "update",
        "partial_update",
        "destroy",
        "activate",
        "set_status",
        "reorder_stages",
    )

    def get_queryset(self) -> QuerySet:
        if self.action == "list":
            request = self.request
            return selectors.journey_list(
                organisation=self.tenant.organisation,
                only_store=self.tenant.store,
                store_id=query_id(request, "store"),
                status=query_choice(request, "status", Journey.Status.values),
                search=query_text(request, "search"),
            )
        return selectors.journey_map_list(
            organisation=self.tenant.organisation, only_store=self.tenant.store
        )

    def get_serializer_class(self) -> Any:
        return JourneyListSerializer if self.action == "list" else JourneySerializer

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        return _scoped_fields(super().get_serializer(*args, **kwargs), self)

    def _map(self, pk: int) -> Response:
        journey = selectors.journey_map_get(
            organisation=self.tenant.organisation, pk=pk, only_store=self.tenant.store
        )
        return Response(JourneySerializer(journey).data)

    def _map_write(self, request: Request, serializer_class: Any, fn: Any, field: str) -> Response:
        """Validate the body, run a versioned write of `field` on this journey, return the map."""
        journey = self.get_object()
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        self.run(
            fn,
            journey=journey,
            version=request_version(request, data.validated_data),
            **{field: data.validated_data[field]},
        )
        return self._map(journey.pk)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # A store's key creates journeys in its own store (the only one it can see).
        store = data.get("store") or self.tenant.store
        if data.get("template"):
            journey = self.run(
                services.journey_create_from_template,
                organisation=self.tenant.organisation,
                template=data["template"],
                name=data.get("name", ""),
                store=store,
            )
        else:
            journey = self.run(
                services.journey_create,
                organisation=self.tenant.organisation,
                name=data["name"],
                description=data.get("description", ""),
                store=store,
                personas=data.get("personas", []),
            )
        response = self._map(journey.pk)
        response.status_code = status.HTTP_201_CREATED
        return response

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        journey = self.get_object()
        serializer = self.get_serializer(journey, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = {
            k: v
            for k, v in serializer.validated_data.items()
            if k in ("name", "description", "store", "personas")
        }
        if self.tenant.store is not None and "store" in fields and fields["store"] is None:
            raise serializers.ValidationError({"store": [KEY_KEEPS_STORE]})
        self.run(
            services.journey_update,
            journey=journey,
            version=request_version(request, serializer.validated_data),
            **fields,
        )
        return self._map(journey.pk)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        journey = self.get_object()
        self.run(services.journey_delete, journey=journey, version=request_version(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=JourneyActivateSerializer, responses=JourneySerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: int) -> Response:
        return self._map_write(
            request, JourneyActivateSerializer, services.journey_activate, "replace_active"
        )

    @extend_schema(request=JourneyStatusSerializer, responses=JourneySerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request: Request, pk: int) -> Response:
        return self._map_write(
            request, JourneyStatusSerializer, services.journey_set_status, "status"
        )

    @extend_schema(request=None, responses={201: JourneySerializer})
    @action(detail=True, methods=["post"])
    def duplicate(self, request: Request, pk: int) -> Response:
        copy = self.run(
            services.journey_duplicate, journey=self.get_object(), store=self.tenant.store
        )
        response = self._map(copy.pk)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=ReorderSerializer, responses=JourneySerializer)
    @action(detail=True, methods=["post"], url_path="stages/reorder")
    def reorder_stages(self, request: Request, pk: int) -> Response:
        return self._map_write(request, ReorderSerializer, services.stages_reorder, "order")

    @extend_schema(responses=JourneyChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: int) -> Response:
        journey = selectors.journey_get(
            organisation=self.tenant.organisation, pk=pk, only_store=self.tenant.store
        )
        page = self.paginate_queryset(selectors.journey_changes(journey=journey))
        return self.get_paginated_response(JourneyChangeSerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: int) -> Response:
        journey = selectors.journey_map_get(
            organisation=self.tenant.organisation, pk=pk, only_store=self.tenant.store
        )
        return Response(transfer.journey_export(journey=journey))

    @extend_schema(request=dict, responses={201: JourneySerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_(self, request: Request) -> Response:
        journey = self.run(
            transfer.journey_import,
            organisation=self.tenant.organisation,
            data=request.data,
            into_store=self.tenant.store,
        )
        response = self._map(journey.pk)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(methods=["POST"], request=None, responses={201: dict})
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=True, methods=["post", "delete"], url_path="share-link")
    def share_link(self, request: Request, pk: int) -> Response:
        journey = self.get_object()
        if request.method == "DELETE":
            self.run(services.journey_share_link_revoke, journey=journey)
            return Response(status=status.HTTP_204_NO_CONTENT)
        token = self.run(services.journey_share_link_create, journey=journey)
        url = request.build_absolute_uri(f"/share/journeys/{token}/")
        return Response({"url": url}, status=status.HTTP_201_CREATED)

    @extend_schema(responses=TemplateSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def templates(self, request: Request) -> Response:
        return Response(
            [
                {"key": key, "label": str(t["label"]), "description": str(t["description"])}
                for key, t in TEMPLATES.items()
            ]
        )


class StageViewSet(
    MapWriteMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    conflict_actions = ("create", "update", "partial_update", "destroy")  # versioned writes

    def get_queryset(self) -> QuerySet:
        return selectors.stage_list(
            organisation=self.tenant.organisation, only_store=self.tenant.store
        ).prefetch_related("touchpoints__owner")

    def get_serializer_class(self) -> Any:
        return StageCreateSerializer if self.action == "create" else StageSerializer

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        return _scoped_fields(super().get_serializer(*args, **kwargs), self)

    def _out(self, stage: Any) -> Response:
        data = StageSerializer(self.get_queryset().get(pk=stage.pk)).data
        data["journey_version"] = stage.journey.version
        return Response(data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        journey = data.pop("journey")
        stage = self.run(
            services.stage_create,
            journey=journey,
            version=request_version(request, data),
            position=data.pop("position", None),
            **{k: v for k, v in data.items() if k != "version"},
        )
        stage.journey.refresh_from_db(fields=["version"])
        response = self._out(stage)
        response.status_code = status.HTTP_201_CREATED
        return response

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        stage = self.get_object()
        serializer = self.get_serializer(stage, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        stage = self.run(
            services.stage_update,
            stage=stage,
            version=request_version(request),
            **serializer.validated_data,
        )
        return self._out(stage)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        journey = self.run(
            services.stage_delete, stage=self.get_object(), version=request_version(request)
        )
        return Response({"journey_version": journey.version})


class TouchpointViewSet(
    MapWriteMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    conflict_actions = ("create", "update", "partial_update", "destroy", "move")  # versioned

    def get_queryset(self) -> QuerySet:
        return selectors.touchpoint_list(
            organisation=self.tenant.organisation, only_store=self.tenant.store
        )

    def get_serializer_class(self) -> Any:
        return TouchpointCreateSerializer if self.action == "create" else TouchpointSerializer

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        return _scoped_fields(super().get_serializer(*args, **kwargs), self)

    def _out(self, touchpoint: Any, journey_version: int) -> Response:
        data = TouchpointSerializer(self.get_queryset().get(pk=touchpoint.pk)).data
        data["journey_version"] = journey_version
        return Response(data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        stage = data.pop("stage")
        touchpoint = self.run(
            services.touchpoint_create,
            stage=stage,
            version=request_version(request, data),
            position=data.pop("position", None),
            **{k: v for k, v in data.items() if k != "version"},
        )
        response = self._out(touchpoint, touchpoint.stage.journey.version)
        response.status_code = status.HTTP_201_CREATED
        return response

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        touchpoint = self.get_object()
        serializer = self.get_serializer(touchpoint, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        touchpoint = self.run(
            services.touchpoint_update,
            touchpoint=touchpoint,
            version=request_version(request),
            **serializer.validated_data,
        )
        return self._out(touchpoint, touchpoint.stage.journey.version)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        journey = self.run(
            services.touchpoint_delete,
            touchpoint=self.get_object(),
            version=request_version(request),
        )
        return Response({"journey_version": journey.version})

    @extend_schema(request=TouchpointMoveSerializer, responses=TouchpointSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: int) -> Response:
        touchpoint = self.get_object()
        move = _scoped_fields(TouchpointMoveSerializer(data=request.data), self)
        move.is_valid(raise_exception=True)
        touchpoint = self.run(
            services.touchpoint_move,
            touchpoint=touchpoint,
            version=request_version(request, move.validated_data),
            stage=move.validated_data["stage"],
            position=move.validated_data["position"],
        )
        return self._out(touchpoint, touchpoint.stage.journey.version)


class PersonaViewSet(MapWriteMixin, viewsets.ModelViewSet):
    """Personas are shared by every store's journeys: a store's key may read them only."""

    serializer_class = PersonaSerializer
    secret_key_access = KeyAccess.READ

    def get_queryset(self) -> QuerySet:
        return selectors.persona_list(organisation=self.tenant.organisation)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = self.run(
            services.persona_create,
            organisation=self.tenant.organisation,
            **serializer.validated_data,
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = self.run(
            services.persona_update, persona=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Any) -> None:
        self.run(services.persona_delete, persona=instance)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("store", int, description="Only experiments of this store"),
            OpenApiParameter("journey", int, description="Only experiments on this journey"),
            OpenApiParameter("stage", int, description="Only experiments on this stage"),
        ]
    )
)
class ExperimentViewSet(MapWriteMixin, viewsets.ModelViewSet):
    """Changes made to a touchpoint of a store's active journey, each with the metric it is
    meant to move and, once computed in the background, its result before and after the
    go-live day. Recording one does not change the map's version."""

    serializer_class = ExperimentSerializer

    def get_queryset(self) -> QuerySet:
        request = self.request
        only_store = self.tenant.store
        if self.action != "list":
            return selectors.experiment_list(
                organisation=self.tenant.organisation, only_store=only_store
            )
        return selectors.experiment_list(
            organisation=self.tenant.organisation,
            only_store=only_store,
            store_id=query_id(request, "store"),
            journey_id=query_id(request, "journey"),
            stage_id=query_id(request, "stage"),
        )

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        serializer = super().get_serializer(*args, **kwargs)
        fields = getattr(serializer, "fields", {})
        if "touchpoint" in fields:
            fields["touchpoint"].queryset = selectors.touchpoint_list(
                organisation=self.tenant.organisation, only_store=self.tenant.store
            )
        return serializer

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = self.run(
            services.experiment_create, touchpoint=data.pop("touchpoint"), **data
        )

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        if "touchpoint" in data and data.pop("touchpoint") != serializer.instance.touchpoint:
            raise serializers.ValidationError(
                {"touchpoint": ["An experiment stays on its touchpoint: record a new one."]}
            )
        serializer.instance = self.run(
            services.experiment_update, experiment=serializer.instance, **data
        )

    def perform_destroy(self, instance: Any) -> None:
        self.run(services.experiment_delete, experiment=instance)
