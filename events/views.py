"""Events pages for members. Thin: a form, one service, render or redirect."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from accounts.permissions import role_required, tenant_of
from accounts.selectors import store_get
from core.forms import add_service_errors
from events import selectors, shopify
from events.forms import SigningSecretForm

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
