"""The events page: what a store has sent, as it arrives."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from accounts.middleware import SESSION_STORE
from accounts.models import Role
from accounts.permissions import role_required, tenant_of
from accounts.selectors import store_get, store_list
from core import clock
from events import selectors
from events.forms import EventFilterForm
from events.models import EventName, EventSource

# The counts cover the filter's days, or else this many days back (a count over a busy store's
# whole history would cost seconds on every refresh).
COUNT_DAYS = 7


@require_safe
@role_required(Role.VIEWER)
def event_home(request: HttpRequest) -> HttpResponse:
    """The current store's events (the header's store switcher), or the first store's."""
    stores = list(store_list(organisation=tenant_of(request).organisation))
    if not stores:
        return redirect("accounts:store-list")
    current = next((s for s in stores if s.pk == request.session.get(SESSION_STORE)), stores[0])
    return redirect("events:list", pk=current.pk)


@require_safe
@role_required(Role.VIEWER)
def event_list(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    store = store_get(organisation=tenant.organisation, pk=pk)
    show_customers = Role.at_least(tenant.role, Role.EDITOR)
    names = list(EventName.objects.filter(store=store).values_list("name", flat=True))
    form = EventFilterForm(request.GET or None, names=names, show_customers=show_customers)
    start, end = form.bounds(store.time_zone) if form.is_bound else (None, None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    after = selectors.Cursor.parse(request.GET.get("after", ""))
    events, next_cursor = selectors.event_page(
        store=store,
        name=data.get("name", ""),
        customer_key=data.get("customer", "") if show_customers else "",
        start=start,
        end=end,
        after=after,
    )
    filters: dict[str, str] = {k: str(v) for k, v in request.GET.items() if k in form.fields and v}
    base = reverse("events:list", kwargs={"pk": store.pk})
    context = {
        "store": store,
        "events": events,
        "show_customers": show_customers,
        "sources": dict(EventSource.choices),
        "next_url": f"{base}?{urlencode({**filters, 'after': next_cursor.token()})}"
        if next_cursor
        else "",
        "first_page_url": f"{base}?{urlencode(filters)}" if after else "",
        # The first page refreshes itself (htmx) so that a developer sees a test event arrive.
        "refresh_url": f"{base}?{urlencode({**filters, 'rows': '1'})}" if after is None else "",
    }
    if request.GET.get("rows"):
        return render(request, "events/_event_rows.html", context)
    now = clock.now()
    count_start = start or now - timedelta(days=COUNT_DAYS)
    count_end = end or now + timedelta(days=1)
    journey = selectors.active_journey(store=store)
    context.update(
        {
            "stores": store_list(organisation=tenant.organisation),
            "form": form,
            "filtered": bool(filters),
            "counts": selectors.event_counts(
                store=store, start=count_start, end=count_end, journey=journey
            ),
            "counts_since_default": start is None,
            "count_days": COUNT_DAYS,
            "journey": journey,
            "unmapped": selectors.unmapped_names(store=store, journey=journey),
            "has_any_event": bool(names),
        }
    )
    return render(request, "events/event_list.html", context)
