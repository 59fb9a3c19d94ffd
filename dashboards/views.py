"""The store dashboard: the page a store manager opens every morning."""

from __future__ import annotations

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
from accounts.models import Membership, Role
from accounts.permissions import role_required, tenant_of
from accounts.selectors import store_get, store_list
from core import clock
from dashboards import charts, selectors, services, tokens
from dashboards.periods import PeriodForm
from metrics import services as metrics_services


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


@require_safe
@role_required(Role.VIEWER)
def store_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    store = store_get(organisation=tenant.organisation, pk=pk)
    today = clock.now().astimezone(ZoneInfo(store.time_zone or "UTC")).date()
    form = PeriodForm(request.GET or None, today=today)
    period = form.period_of()
    dashboard = selectors.store_dashboard(store=store, period=period, user_id=_user_id(request))
    can_edit = Role.at_least(tenant.role, Role.EDITOR)
    subscription = selectors.digest_subscription_get(membership=_membership(request), store=store)
    task_id = request.GET.get("task", "")
    return render(
        request,
        "dashboards/store.html",
        {
            "store": store,
            "form": form,
            "dashboard": dashboard,
            "chart": charts.funnel_figure(dashboard.stages) if dashboard.tracked else None,
            "can_edit": can_edit,
            "task_url": reverse("api:task-detail", kwargs={"pk": int(task_id)})
            if task_id.isdigit()
            else (
                reverse("api:task-detail", kwargs={"pk": dashboard.task.pk})
                if dashboard.task
                else ""
            ),
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
