"""POST /hooks/shopify/<webhook id>/: a store's Shopify-compatible webhooks (events/shopify.py).

Outside /api/: the sender is Shopify (or a relay signing like it), authenticated by the
body's HMAC, not by a key or a session; no CSRF token, no cookies. Answers are JSON.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.ratelimit import hit_unless_limited
from core.api import json_error
from events import selectors, shopify


@csrf_exempt  # signed by the sender (HMAC of the body); no browser session is involved
@require_POST
def shopify_webhook(request: HttpRequest, webhook_id: str) -> JsonResponse:
    webhook = selectors.shopify_webhook_by_id(webhook_id=webhook_id)
    if webhook is None:
        return json_error(request, status_code=404, code="not_found", message="Not found.")
    limit = settings.SHOPIFY_WEBHOOKS_PER_MINUTE
    if hit_unless_limited(checks=[("shopify-webhook", webhook.webhook_id, limit)], window=60):
        response = json_error(
            request,
            status_code=429,
            code="throttled",
            message=f"Over {limit:,} webhooks a minute for this store; retry later.",
        )
        response["Retry-After"] = "60"
        return response
    try:
        body = request.body
    except RequestDataTooBig:
        return json_error(
            request,
            status_code=413,
            code="request_too_large",
            message="The request body is larger than the server accepts.",
            details={"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
        )
    receipt = shopify.shopify_delivery_receive(
        webhook=webhook,
        body=body,
        # Header names are case-insensitive (request.headers).
        signature=request.headers.get(shopify.SIGNATURE_HEADER),
        webhook_id=request.headers.get(shopify.WEBHOOK_ID_HEADER),
        topic=request.headers.get(shopify.TOPIC_HEADER),
    )
    if receipt.status == 401:
        return json_error(request, status_code=401, code="bad_signature", message=receipt.detail)
    if receipt.status == 400:
        return json_error(request, status_code=400, code="invalid", message=receipt.detail)
    return JsonResponse(receipt.as_dict(), status=receipt.status)
