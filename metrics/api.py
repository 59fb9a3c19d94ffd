"""The metrics API: a store's moment-of-truth funnel for a period."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Store
from accounts.permissions import TenantMixin
from accounts.selectors import store_list
from core import clock
from core.schema import error_response
from core.stats import Proportion
from metrics.funnel import DEFAULT_WINDOW_DAYS, StoreFunnel, store_funnel
from metrics.store_metrics import DEFAULT_RETENTION_DAYS, store_metrics

MAX_RANGE_DAYS = 366


class PeriodQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day (store's time zone).")
    end = serializers.DateField(required=False, help_text="Last day, included.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today = clock.now().astimezone(ZoneInfo(self.context["time_zone"])).date()
        end = attrs.get("end") or today
        start = attrs.get("start") or end - timedelta(days=29)
        if start > end:
            raise serializers.ValidationError({"end": ["The end is before the start."]})
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise serializers.ValidationError(
                {"start": [f"A period is at most {MAX_RANGE_DAYS} days."]}
            )
        if start < date(1970, 1, 1) or end > date(2999, 12, 31):
            raise serializers.ValidationError({"start": ["Days from 1970 to 2999."]})
        attrs.update(start=start, end=end)
        return attrs


class FunnelQuerySerializer(PeriodQuerySerializer):
    window_days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=365,
        help_text="Conversion window (default: the store's).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs.setdefault("window_days", self.context.get("window_days", DEFAULT_WINDOW_DAYS))
        return attrs


class MetricsQuerySerializer(PeriodQuerySerializer):
    retention_days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=730,
        help_text="Days after a first purchase in which another counts (default: the store's).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs.setdefault(
            "retention_days", self.context.get("retention_days", DEFAULT_RETENTION_DAYS)
        )
        return attrs


def _percentile(values: list[int], share: float) -> float | None:
    # percentile_cont: linear interpolation between the closest ranks.
    return float(np.percentile(values, share * 100)) if values else None


def funnel_body(result: StoreFunnel) -> dict[str, Any]:
    stages = []
    previous: int | None = None
    for stage in result.stages:
        figures: dict[str, Any] = {
            "id": stage.id,
            "moment": stage.moment,
            "name": stage.name,
            "tracked": stage.tracked,
            "reached": stage.reached,
            "funnel": stage.funnel,
            "conversion": None,
            "median_seconds_to_convert": None,
            "p90_seconds_to_convert": None,
            "csat": stage.surveys.get("csat"),
            "nps": stage.surveys.get("nps"),
            "ces": stage.surveys.get("ces"),
        }
        if stage.tracked and stage.funnel is not None:
            if previous:
                figures["conversion"] = Proportion(stage.funnel, previous).as_dict()
                figures["median_seconds_to_convert"] = _percentile(stage.seconds_to_convert, 0.5)
                figures["p90_seconds_to_convert"] = _percentile(stage.seconds_to_convert, 0.9)
            previous = stage.funnel
        stages.append(figures)
    return {
        "store": result.store_id,
        "journey": result.journey_id,
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "window_days": result.window_days,
        "complete": result.complete,
        "computed_at": result.computed_at.isoformat(),
        "events_counted": result.events_counted,
        "stages": stages,
    }


class StoreScopedView(TenantMixin, APIView):
    def store(self, store_id: int) -> Store:
        store: Store | None = (
            store_list(organisation=self.tenant.organisation, only_store=self.tenant.store)
            .filter(pk=store_id)
            .first()
        )
        if store is None:
            raise Http404
        return store

    def get_queryset(self) -> Any:  # one store, read by store()
        raise NotImplementedError


class FunnelView(StoreScopedView):
    """The store's moment-of-truth funnel for a period (days in the store's time zone, both
    included; the last 30 days by default), computed from its events as they are now. Ordered:
    customers enter at an event of the first tracked stage inside the period and advance within
    the conversion window. Members' sessions, or the store's own secret key."""

    @extend_schema(
        parameters=[FunnelQuerySerializer, OpenApiParameter("store_id", int, "path")],
        responses={
            200: inline_serializer(
                name="StoreFunnel",
                fields={
                    "store": serializers.IntegerField(),
                    "journey": serializers.IntegerField(),
                    "start": serializers.DateField(),
                    "end": serializers.DateField(),
                    "window_days": serializers.IntegerField(),
                    "complete": serializers.BooleanField(),
                    "computed_at": serializers.DateTimeField(),
                    "events_counted": serializers.IntegerField(),
                    "stages": serializers.ListField(child=serializers.DictField()),
                },
            ),
            409: error_response(409),
        },
    )
    def get(self, request: Request, store_id: int) -> Response:
        store = self.store(store_id)
        query = FunnelQuerySerializer(
            data=request.query_params,
            context={
                "time_zone": store.time_zone or "UTC",
                "window_days": store.funnel_window_days,
            },
        )
        query.is_valid(raise_exception=True)
        result = store_funnel(store=store, **query.validated_data)
        return Response(funnel_body(result))


class StoreMetricsView(StoreScopedView):
    """The store's bounce rate, repeat-purchase retention and survey response rate for a
    period (the last 30 days by default), as proportions with their Wilson interval."""

    @extend_schema(
        parameters=[MetricsQuerySerializer, OpenApiParameter("store_id", int, "path")],
        responses={
            200: inline_serializer(
                name="StoreMetrics",
                fields={
                    "store": serializers.IntegerField(),
                    "start": serializers.DateField(),
                    "end": serializers.DateField(),
                    "bounce_rate": serializers.DictField(),
                    "retention": serializers.DictField(),
                    "response_rate": serializers.DictField(),
                },
            )
        },
    )
    def get(self, request: Request, store_id: int) -> Response:
        store = self.store(store_id)
        query = MetricsQuerySerializer(
            data=request.query_params,
            context={"time_zone": store.time_zone or "UTC", "retention_days": store.retention_days},
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        result = store_metrics(**data, store=store)
        return Response(
            {
                "store": store.pk,
                "start": data["start"].isoformat(),
                "end": data["end"].isoformat(),
                "bounce_rate": result.bounce_rate.as_dict(),
                "retention": {
                    **result.retention.as_dict(),
                    "days": result.retention_days,
                    "complete": result.retention_complete,
                },
                "response_rate": result.response_rate.as_dict(),
            }
        )
