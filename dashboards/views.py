"""The store dashboard: the page a store manager opens every morning."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.middleware import SESSION_STORE
from accounts.models import Role
from accounts.permissions import role_required, tenant_of
from accounts.selectors import store_get, store_list
from core import clock
from dashboards import charts, selectors
from dashboards.periods import PeriodForm
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
