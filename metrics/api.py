"""The metrics API: a store's moment-of-truth funnel for a period."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404, HttpResponseBase, StreamingHttpResponse
from django.urls import reverse
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role, Store
from accounts.permissions import TenantMixin
from accounts.selectors import store_list
from core import clock
from core.csv_safety import csv_cell
from core.models import Task
from core.schema import error_response
from metrics import recompute, services
from metrics.funnel import (
    DEFAULT_WINDOW_DAYS,
    compared_body,
    funnel_body,
    funnel_result,
    with_surveys,
)
from metrics.models import FunnelResult
from metrics.selectors import CustomerRow, Outcome, funnel_customers, funnel_customers_all
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


class FunnelCompareQuerySerializer(FunnelQuerySerializer):
    compare = serializers.ChoiceField(
        choices=["previous"],
        required=False,
        help_text="previous: add each stage's figures for the period of the same length just "
        "before, and per figure its change and whether it is significant (two-sided, 95 %: "
        "pooled z-test for conversion and CSAT share, Welch's t-test for CSAT mean and CES, "
        "the NPS difference with its variance from the promoter and detractor shares).",
    )


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


TASK_STARTED = inline_serializer(
    name="MetricsTaskStarted",
    fields={
        "task": serializers.IntegerField(),
        "task_url": serializers.CharField(),
        "detail": serializers.CharField(),
    },
)


def task_accepted(task: Task, detail: str) -> Response:
    url = reverse("api:task-detail", kwargs={"pk": task.pk})
    return Response(
        {"task": task.pk, "task_url": url, "detail": detail},
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": url},
    )


class FunnelResultMixin:
    """The stored result of a range, or one computed now while the store is small enough;
    else 202 with the task that computes it."""

    def result_or_accepted(
        self, store: Store, data: dict[str, Any], user_id: int | None
    ) -> FunnelResult | Response:
        keys = {k: data[k] for k in ("start", "end", "window_days")}
        result = funnel_result(store=store, **keys, compute=False)
        if result is not None:
            return result
        if recompute.store_events_total(store_id=store.pk) <= recompute.sync_limit():
            return recompute.custom_compute(store=store, **keys)
        task = services.custom_start(store=store, **keys, user_id=user_id)
        return task_accepted(
            task,
            "This range is being computed: poll the task, then ask again for the same range.",
        )


class FunnelView(FunnelResultMixin, StoreScopedView):
    """The store's moment-of-truth funnel for a period (days in the store's time zone, both
    included; the last 30 days by default). Ordered: customers enter at an event of the first
    tracked stage inside the period and advance within the conversion window. The standard
    periods (the last 7, 30 and 90 days and those before them, ISO weeks and months of the
    last 12 months) are read as the metrics workers stored them (`computed_at`); another range
    is computed on request, or answered 202 with a task to poll when the store is large.
    Members' sessions, or the store's own secret key."""

    @extend_schema(
        parameters=[FunnelCompareQuerySerializer, OpenApiParameter("store_id", int, "path")],
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
                    "previous": serializers.DictField(
                        required=False, help_text="With compare=previous: the earlier period."
                    ),
                },
            ),
            202: TASK_STARTED,
            409: error_response(409),
        },
    )
    def get(self, request: Request, store_id: int) -> Response:
        store = self.store(store_id)
        query = FunnelCompareQuerySerializer(
            data=request.query_params,
            context={
                "time_zone": store.time_zone or "UTC",
                "window_days": store.funnel_window_days,
            },
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        result = self.result_or_accepted(store, data, _user_id(self.tenant))
        if isinstance(result, Response):
            return result
        body = funnel_body(with_surveys(store, result))
        if data.get("compare") != "previous":
            return Response(body)
        length = data["end"] - data["start"] + timedelta(days=1)
        earlier = {
            **data,
            "start": data["start"] - length,
            "end": data["start"] - timedelta(days=1),
        }
        before = self.result_or_accepted(store, earlier, _user_id(self.tenant))
        if isinstance(before, Response):
            return before
        return Response(compared_body(body, funnel_body(with_surveys(store, before))))


def _user_id(tenant: Any) -> int | None:
    user = tenant.user
    return user.pk if user is not None and user.is_authenticated else None


class CustomersQuerySerializer(FunnelQuerySerializer):
    stage = serializers.IntegerField(help_text="A tracked stage's id (the funnel's `stages`).")
    outcome = serializers.ChoiceField(
        choices=[Outcome.CONVERTED, Outcome.DROPPED],
        help_text="converted: reached the stage (funnel[k]); dropped: reached the previous "
        "tracked stage and not this one (funnel[previous] − funnel[k]).",
    )


class CustomersPageQuerySerializer(CustomersQuerySerializer):
    cursor = serializers.CharField(required=False, help_text="`next` or `previous` of a page.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)


CUSTOMER_ROW = inline_serializer(
    name="FunnelCustomer",
    fields={
        "customer": serializers.CharField(help_text="The customer key the store sent."),
        "entered_at": serializers.DateTimeField(),
        "level": serializers.IntegerField(help_text="Tracked stages reached (1 = the first)."),
        "last_step_at": serializers.DateTimeField(),
    },
)


def _row(row: CustomerRow) -> dict[str, Any]:
    return {
        "customer": row.key,
        "entered_at": row.entered_at.isoformat(),
        "level": row.level,
        "last_step_at": row.last_step_at.isoformat(),
    }


class FunnelCustomersView(FunnelResultMixin, StoreScopedView):
    """The customers behind a stage's figure: those who converted at it or dropped off before
    it, from the same stored result as the funnel's counts (same `computed_at`; `count` is the
    figure). Customer keys are personal data: editors and above (and the store's secret key)."""

    read_role = Role.EDITOR

    @extend_schema(
        parameters=[CustomersPageQuerySerializer, OpenApiParameter("store_id", int, "path")],
        responses={
            200: inline_serializer(
                name="FunnelCustomers",
                fields={
                    "count": serializers.IntegerField(),
                    "next": serializers.CharField(allow_null=True),
                    "previous": serializers.CharField(allow_null=True),
                    "computed_at": serializers.DateTimeField(),
                    "results": serializers.ListField(child=CUSTOMER_ROW),
                },
            ),
            202: TASK_STARTED,
            409: error_response(409),
        },
    )
    def get(self, request: Request, store_id: int) -> Response:
        store = self.store(store_id)
        query = CustomersPageQuerySerializer(
            data=request.query_params,
            context={
                "time_zone": store.time_zone or "UTC",
                "window_days": store.funnel_window_days,
            },
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        result = self.result_or_accepted(store, data, _user_id(self.tenant))
        if isinstance(result, Response):
            return result
        page = funnel_customers(
            result=result,
            stage_id=data["stage"],
            outcome=data["outcome"],
            cursor=data.get("cursor"),
            page_size=data["page_size"],
        )

        def link(cursor: str | None) -> str | None:
            if cursor is None:
                return None
            params = request.query_params.copy()
            params["cursor"] = cursor
            return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")

        return Response(
            {
                "count": page.count,
                "next": link(page.next),
                "previous": link(page.previous),
                "computed_at": result.computed_at.isoformat(),
                "results": [_row(r) for r in page.rows],
            }
        )


class FunnelCustomersExportView(FunnelResultMixin, StoreScopedView):
    """The same list as CSV, every row (cells a spreadsheet would run as a formula are kept
    as text); the period and `computed_at` are in the file name and its first lines."""

    read_role = Role.EDITOR

    @extend_schema(
        parameters=[CustomersQuerySerializer, OpenApiParameter("store_id", int, "path")],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One row a customer"),
            202: TASK_STARTED,
        },
    )
    def get(self, request: Request, store_id: int) -> HttpResponseBase:
        store = self.store(store_id)
        query = CustomersQuerySerializer(
            data=request.query_params,
            context={
                "time_zone": store.time_zone or "UTC",
                "window_days": store.funnel_window_days,
            },
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        result = self.result_or_accepted(store, data, _user_id(self.tenant))
        if isinstance(result, Response):
            return result
        rows = funnel_customers_all(result=result, stage_id=data["stage"], outcome=data["outcome"])
        stage = next(s for s in result.stages if s["id"] == data["stage"])

        def lines() -> Iterator[str]:
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["customer", "entered_at", "level", "last_step_at"])
            for row in rows:
                writer.writerow([csv_cell(v) for v in _row(row).values()])
                if out.tell() > 64 * 1024:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
            yield out.getvalue()

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        name = (
            f"store-{store.pk}-{slugify(stage['name']) or 'stage'}-{data['outcome']}-"
            f"{result.start}-{result.end}-computed-{result.computed_at:%Y%m%dT%H%M%SZ}.csv"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class RecomputeView(StoreScopedView):
    """Recompute the store's standard periods now (editors): answers 202 with the task, whose
    progress `GET /api/v1/tasks/{id}/` reads."""

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("store_id", int, "path")],
        responses={202: TASK_STARTED},
    )
    def post(self, request: Request, store_id: int) -> Response:
        store = self.store(store_id)
        task = services.recompute_start(store=store, user_id=_user_id(self.tenant))
        return task_accepted(task, "The store's figures are being recomputed.")


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
