"""The store dashboard, the page a store manager opens every morning, and the organisation
view, every store side by side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.middleware import SESSION_STORE
from accounts.models import Role, Store
from accounts.permissions import role_required, tenant_of
from accounts.selectors import store_get, store_list
from core import clock
from core.models import Task
from dashboards import charts, drilldown, export, selectors, trends
from dashboards.periods import Period, PeriodForm, StoredPeriodForm, stored_kind
from metrics import selectors as metrics_selectors
from metrics import services as metrics_services


def _user_id(request: HttpRequest) -> int | None:
    return request.user.pk if request.user.is_authenticated else None


@require_safe
@role_required(Role.VIEWER)
def dashboard_home(request: HttpRequest) -> HttpResponse:
    """The current store's dashboard (the header's store switcher), or the first store's."""
    stores = list(store_list(organisation=tenant_of(request).organisation))
    if not stores:
        return redirect("accounts:store-list")
    current = next((s for s in stores if s.pk == request.session.get(SESSION_STORE)), stores[0])
    return redirect("dashboards:store", pk=current.pk)


def _period(request: HttpRequest, store: Store) -> tuple[PeriodForm, Period]:
    today = clock.now().astimezone(ZoneInfo(store.time_zone or "UTC")).date()
    form = PeriodForm(request.GET or None, today=today)
    return form, form.period_of()


def _task_url(request: HttpRequest, task: Task | None) -> str:
    """The task whose progress the page follows: the one named in the address (a recompute
    just started) or the one computing the page's range."""
    task_id = request.GET.get("task", "")
    if task_id.isdigit():
        return reverse("api:task-detail", kwargs={"pk": int(task_id)})
    return reverse("api:task-detail", kwargs={"pk": task.pk}) if task else ""


def _designed_chart(dashboard: selectors.Dashboard) -> dict[str, Any] | None:
    rows = dashboard.designed_vs_measured() if dashboard.body else []
    if not any(r.designed is not None or r.measured is not None for r in rows):
        return None
    return charts.designed_figure(rows)


@require_safe
@role_required(Role.VIEWER)
def store_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    store = store_get(organisation=tenant.organisation, pk=pk)
    form, period = _period(request, store)
    grain = request.GET.get("trend", "week")
    grain = grain if grain in trends.GRAINS else "week"
    dashboard = selectors.store_dashboard(store=store, period=period, user_id=_user_id(request))
    can_edit = Role.at_least(tenant.role, Role.EDITOR)
    return render(
        request,
        "dashboards/store.html",
        {
            "store": store,
            "form": form,
            "dashboard": dashboard,
            "chart": charts.funnel_figure(dashboard.stages) if dashboard.tracked else None,
            "designed_chart": _designed_chart(dashboard),
            "trend_grain": grain,
            "trend_charts": charts.trend_charts(trends.store_trends(store=store, grain=grain))
            if dashboard.body
            else [],
            "can_edit": can_edit,
            "task_url": _task_url(request, dashboard.task),
            "period_query": form.query(),
            "stores": store_list(organisation=tenant.organisation),
        },
    )


@require_POST
@role_required(Role.EDITOR)
def store_recompute(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Recompute now": queue the store's recompute and come back to the page, which follows
    the task's progress."""
    store = store_get(organisation=tenant_of(request).organisation, pk=pk)
    task = metrics_services.recompute_start(store=store, user_id=_user_id(request))
    messages.info(request, _("The figures are being recomputed."))
    # Back to the period the page showed: only the period's own fields are carried over.
    kept: dict[str, str | int] = {
        k: request.POST[k] for k in ("period", "start", "end") if request.POST.get(k)
    }
    url = reverse("dashboards:store", kwargs={"pk": store.pk})
    return redirect(f"{url}?{urlencode({**kept, 'task': task.pk})}")


@require_safe
@role_required(Role.VIEWER)
def stage_detail(request: HttpRequest, pk: int, stage_id: int) -> HttpResponse:
    """A stage in detail. Customer keys are personal data: only editors get the lists."""
    tenant = tenant_of(request)
    store = store_get(organisation=tenant.organisation, pk=pk)
    form, period = _period(request, store)
    can_edit = Role.at_least(tenant.role, Role.EDITOR)
    outcome = request.GET.get("outcome", metrics_selectors.Outcome.CONVERTED)
    if outcome not in (metrics_selectors.Outcome.CONVERTED, metrics_selectors.Outcome.DROPPED):
        outcome = metrics_selectors.Outcome.CONVERTED

    def detail_of(cursor: str | None) -> drilldown.StageDetail:
        return drilldown.stage_detail(
            store=store,
            stage_id=stage_id,
            period=period,
            user_id=_user_id(request),
            with_customers=can_edit,
            outcome=outcome,
            cursor=cursor,
        )

    try:
        detail = detail_of(request.GET.get("cursor") or None)
    except metrics_selectors.BadListQuery:  # a cursor from an older result: start again
        detail = detail_of(None)
    return render(
        request,
        "dashboards/stage.html",
        {
            "store": store,
            "form": form,
            "detail": detail,
            "can_edit": can_edit,
            "period_query": form.query(),
            "task_url": _task_url(request, detail.task),
            "histogram": charts.histogram_figure(detail.histogram) if detail.histogram else None,
            "export_query": urlencode(
                [
                    ("stage", detail.stage.pk),
                    ("outcome", detail.outcome),
                    ("start", period.start.isoformat()),
                    ("end", period.end.isoformat()),
                    ("window_days", store.funnel_window_days),
                ]
            ),
        },
    )


@require_safe
@role_required(Role.VIEWER)
def dashboard_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Every figure the page shows for the period (and the trends of its grain), as CSV."""
    store = store_get(organisation=tenant_of(request).organisation, pk=pk)
    _form, period = _period(request, store)
    grain = request.GET.get("trend", "week")
    grain = grain if grain in trends.GRAINS else "week"
    dashboard = selectors.store_dashboard(store=store, period=period, user_id=_user_id(request))
    if not dashboard.body:
        return HttpResponse(
            _("There are no figures to export for this period yet."),
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    content = export.dashboard_csv(dashboard, trends.store_trends(store=store, grain=grain))
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    name = f"dashboard-{store.pk}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@dataclass(frozen=True)
class SortHeader:
    key: str
    href: str  # the same page sorted by this column, the other way round when it already is
    aria_sort: str  # "ascending" or "descending" on the sorted column, else ""


@require_safe
@role_required(Role.VIEWER)
def organisation_dashboard(request: HttpRequest) -> HttpResponse:
    organisation = tenant_of(request).organisation
    # The months on offer: the last 12 by UTC; each store's months are its own time zone's.
    form = StoredPeriodForm(request.GET or None, today=clock.now().astimezone(UTC).date())
    kind, start = stored_kind(form.choice)
    stores = list(store_list(organisation=organisation).order_by("name", "pk"))
    view = selectors.organisation_view(stores=stores, kind=kind, start=start)
    sort = request.GET.get("sort", "")
    sort = sort if sort in view.keys else "name"
    descending = request.GET.get("dir") == "desc"
    headers = {}
    for key in view.keys:
        again = key == sort and not descending
        query = {"period": form.choice, "sort": key, "dir": "desc" if again else "asc"}
        state = ("descending" if descending else "ascending") if key == sort else ""
        headers[key] = SortHeader(key, f"?{urlencode(query)}", state)
    return render(
        request,
        "dashboards/organisation.html",
        {
            "organisation": organisation,
            "form": form,
            "view": view,
            "rows": view.sorted_rows(sort, descending),
            "headers": headers,
            "moment_headers": [
                (moment, label, headers[f"{moment}-conversion"], headers[f"{moment}-csat"])
                for moment, label in view.moments
            ],
            "sort": sort,
            "descending": descending,
        },
    )
