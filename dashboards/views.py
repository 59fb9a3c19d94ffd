"""The store dashboard, the page a store manager opens every morning, and the organisation
view, every store side by side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.middleware import SESSION_STORE, membership_of
from accounts.models import Membership, Role, Store
from accounts.permissions import role_required, tenant_of
from accounts.selectors import store_get, store_list
from core import clock
from core.models import Task
from dashboards import ask, charts, drilldown, dropped, export, selectors, services, tokens, trends
from dashboards.periods import Period, PeriodForm, StoredPeriodForm, stored_kind
from metrics import selectors as metrics_selectors
from metrics import services as metrics_services
from surveys.models import CommentThemeResult, Survey


def _user_id(request: HttpRequest) -> int | None:
    return request.user.pk if request.user.is_authenticated else None


def _membership(request: HttpRequest) -> Membership:
    """The signed-in member's membership of the organisation role_required checked."""
    membership = membership_of(request)
    if membership is None or membership.organisation_id != tenant_of(request).organisation.pk:
        raise PermissionDenied
    return membership


def _back_to_dashboard(request: HttpRequest, store_pk: int, **extra: str | int) -> HttpResponse:
    """Back to the period the page showed: only the period's own fields are carried over."""
    kept: dict[str, str | int] = {
        k: request.POST[k] for k in ("period", "start", "end") if request.POST.get(k)
    }
    url = reverse("dashboards:store", kwargs={"pk": store_pk})
    query = urlencode({**kept, **extra})
    return redirect(f"{url}?{query}" if query else url)


@require_safe
@role_required(Role.VIEWER)
def dashboard_home(request: HttpRequest) -> HttpResponse:
    """The current store's dashboard (the header's store switcher), or the first store's."""
    stores = list(store_list(organisation=tenant_of(request).organisation))
    if not stores:
        return redirect("accounts:store-list")
    current = next((s for s in stores if s.pk == request.session.get(SESSION_STORE)), stores[0])
    return redirect("dashboards:store", pk=current.pk)


def _zone(store: Store) -> ZoneInfo:
    return ZoneInfo(store.time_zone or "UTC")


def _period(request: HttpRequest, store: Store) -> tuple[PeriodForm, Period]:
    today = clock.now().astimezone(_zone(store)).date()
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
    subscription = selectors.digest_subscription_get(membership=_membership(request), store=store)
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
            "digest_subscribed": subscription is not None,
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
    return _back_to_dashboard(request, store.pk, task=task.pk)


def _asking(request: HttpRequest, store: Store, detail: drilldown.StageDetail) -> dict[str, Any]:
    """What the drop-off list offers an editor: the surveys to send, how many the chosen one
    would ask and why not the others, or how a started round of asking went."""
    task_id = request.GET.get("task", "")
    task = (
        Task.objects.filter(pk=int(task_id), store=store, kind=ask.ASK_KIND).first()
        if task_id.isdigit()
        else None
    )
    if task is not None:
        return {
            "ask_task": task,
            "ask_task_url": reverse("api:task-detail", kwargs={"pk": task.pk}),
        }
    if (
        detail.result is None
        or detail.first
        or detail.outcome != metrics_selectors.Outcome.DROPPED
        or not detail.figures.get("tracked")
    ):
        return {}
    surveys = dropped.surveys_to_ask(store)
    chosen = request.GET.get("ask", "")
    survey = next((s for s in surveys if str(s.pk) == chosen), None)
    outlook = (
        dropped.dropped_outlook(
            store=store, result=detail.result, stage_id=detail.stage.pk, survey=survey
        )
        if survey is not None
        else None
    )
    return {"ask_offer": True, "ask_surveys": surveys, "ask_survey": survey, "ask_outlook": outlook}


@require_POST
@role_required(Role.EDITOR)
def stage_ask(request: HttpRequest, pk: int, stage_id: int) -> HttpResponse:
    """Start asking the customers who dropped off before the stage: the task reads the list
    itself, for the period posted, from the stored results."""
    store = store_get(organisation=tenant_of(request).organisation, pk=pk)
    drilldown.stage_of(store, stage_id)  # 404 unless on the store's active journey
    form = PeriodForm(request.POST, today=clock.now().astimezone(_zone(store)).date())
    period = form.period_of()
    query = form.query()
    url = reverse("dashboards:stage", kwargs={"pk": store.pk, "stage_id": stage_id})
    chosen = request.POST.get("survey", "")
    survey = (
        Survey.objects.filter(pk=int(chosen), store=store, status=Survey.Status.ACTIVE).first()
        if chosen.isdigit()
        else None
    )
    if survey is None:
        messages.error(request, _("Choose an active survey of this store."))
        return redirect(f"{url}?{query + '&' if query else ''}outcome=dropped#ask")
    task = ask.dropped_ask_start(
        store=store, stage_id=stage_id, survey=survey, period=period, user_id=_user_id(request)
    )
    messages.info(request, _("The customers who dropped off are being asked."))
    return redirect(f"{url}?{query + '&' if query else ''}outcome=dropped&task={task.pk}#customers")


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

    themes = request.GET.get("themes", CommentThemeResult.Period.LAST_90)
    if themes not in CommentThemeResult.Period.values:
        themes = CommentThemeResult.Period.LAST_90

    def detail_of(cursor: str | None) -> drilldown.StageDetail:
        return drilldown.stage_detail(
            store=store,
            stage_id=stage_id,
            period=period,
            user_id=_user_id(request),
            with_customers=can_edit,
            outcome=outcome,
            cursor=cursor,
            themes_period=themes,
        )

    try:
        detail = detail_of(request.GET.get("cursor") or None)
    except metrics_selectors.BadListQuery:  # a cursor from an older result: start again
        detail = detail_of(None)
    asking = _asking(request, store, detail) if can_edit else {}
    return render(
        request,
        "dashboards/stage.html",
        {
            "store": store,
            "form": form,
            "detail": detail,
            "can_edit": can_edit,
            "period_query": form.query(),
            **asking,
            "task_url": "" if asking.get("ask_task") else _task_url(request, detail.task),
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


# --- The weekly digest


class DigestForm(forms.Form):
    subscribe = forms.BooleanField(required=False)


@require_POST
@role_required(Role.VIEWER)
def digest_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """The dashboard's "Email me this store's weekly digest" and "Stop the weekly digest", for
    any member of the store's organisation."""
    store = store_get(organisation=tenant_of(request).organisation, pk=pk)
    membership = _membership(request)
    form = DigestForm(request.POST)
    if form.is_valid() and form.cleaned_data["subscribe"]:
        services.digest_subscribe(membership=membership, store=store)
        messages.success(
            request,
            _("You will get this store's weekly digest by email from this week on."),
        )
    else:
        services.digest_stop(membership=membership, store=store)
        messages.success(request, _("You will no longer get this store's weekly digest."))
    return _back_to_dashboard(request, store.pk)


@csrf_exempt  # RFC 8058 one-click POSTs come from mail providers, without a CSRF token
@require_http_methods(["GET", "HEAD", "POST"])
def digest_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The digest email's link, without log-in: GET asks, any POST (the page's button or the
    mail provider's `List-Unsubscribe=One-Click`) stops the one subscription the token signs.
    A forged or altered token is a 404; a valid one whose subscription is already gone says
    so."""
    subscription_id = tokens.subscription_id_for(token)
    if subscription_id is None:
        raise Http404
    subscription = selectors.digest_subscription_find(pk=subscription_id)
    store = subscription.store if subscription is not None else None
    if subscription is not None and request.method == "POST":
        services.digest_unsubscribe(subscription_id=subscription.pk)
        subscription = None
    response = render(
        request,
        "dashboards/digest_unsubscribe.html",
        {
            "store": store,
            "done": subscription is None,
            "action_url": reverse("dashboards:digest-unsubscribe", args=[token]),
        },
    )
    # The token is in the URL: no cache keeps the page, no Referer carries it, no index lists it.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
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
