"""The events page: what a store has sent, as it arrives."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts.middleware import SESSION_STORE
from accounts.models import Role
from accounts.permissions import role_required, tenant_of
from accounts.selectors import store_get, store_list
from core import clock
from core.forms import add_service_errors
from events import selectors, shopify
from events.forms import EventFilterForm, SigningSecretForm
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
            "deliveries": selectors.webhook_deliveries_recent(store=store, limit=5),
            "has_any_event": bool(names),
        }
    )
    return render(request, "events/event_list.html", context)


# What each topic becomes, for the page (events/shopify.py is the one truth; its test checks
# that this list names the same topics).
TOPIC_EVENTS = [
    ("orders/create", "purchase", "created_at"),
    ("orders/cancelled", "order_cancelled", "cancelled_at"),
    ("fulfillments/create", "shipped", "created_at"),
    ("fulfillment_events/create", "out_for_delivery, delivered", "happened_at"),
    ("refunds/create", "return_requested", "created_at"),
]


# The signing secret verifies every delivery, so it stays with admins, like API keys.
@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def shopify_settings(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    store = store_get(organisation=tenant.organisation, pk=pk)
    action = request.POST.get("action") if request.method == "POST" else None
    form = SigningSecretForm(request.POST if action == "secret" else None)
    status = 200
    if action == "rotate":
        had = selectors.shopify_webhook_of_store(store=store) is not None
        shopify.shopify_webhook_rotate(store=store, actor=tenant.actor())
        messages.success(
            request,
            _(
                "New webhook address and signing secret. The old address no longer answers: "
                "update your webhook subscriptions."
            )
            if had
            else _("Webhook address created. Subscribe to the topics below with it."),
        )
        return redirect("events:shopify-settings", pk=store.pk)
    if action == "secret":
        if form.is_valid():
            try:
                shopify.shopify_webhook_secret_set(
                    store=store, actor=tenant.actor(), secret=form.cleaned_data["secret"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Signing secret saved."))
                return redirect("events:shopify-settings", pk=store.pk)
        status = 400
    elif action is not None:
        messages.error(request, _("Unknown action."))
        status = 400
    webhook = selectors.shopify_webhook_of_store(store=store)
    url = (
        settings.SITE_URL + reverse("shopify-webhook", kwargs={"webhook_id": webhook.webhook_id})
        if webhook is not None
        else ""
    )
    return render(
        request,
        "events/shopify_settings.html",
        {
            "store": store,
            "webhook": webhook,
            "webhook_url": url,
            "form": form,
            "topics": TOPIC_EVENTS,
            "deliveries": selectors.webhook_deliveries_recent(store=store, limit=10),
        },
        status=status,
    )
