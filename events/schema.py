"""The Shopify webhook in the OpenAPI schema: a plain Django view outside /api/ (Shopify
signs the raw body; no API key or session), which drf-spectacular does not see. A
postprocessing hook (SPECTACULAR_SETTINGS) adds it, with the error shape the view answers."""

from __future__ import annotations

from typing import Any

from events import shopify

WEBHOOK_PATH = "/hooks/shopify/{webhook_id}/"
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _ERROR}


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "in": "header",
        "name": name,
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


def add_shopify_webhook(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    result.setdefault("paths", {})[WEBHOOK_PATH] = {
        "post": {
            "operationId": "shopify_webhook_receive",
            "summary": "Receive a Shopify-compatible webhook",
            "description": (
                "A store's orders, fulfillments, fulfillment events and refunds, as Shopify "
                "posts them: the bare resource as JSON, the topic in `X-Shopify-Topic` (never "
                "read from the body). Verified with the store's signing secret; no API key. "
                "The address and secret are on the store's Shopify webhooks page (admins)."
            ),
            "tags": ["hooks"],
            "security": [],
            "parameters": [
                {
                    "in": "path",
                    "name": "webhook_id",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "The random id in the store's webhook address.",
                },
                _header(
                    shopify.SIGNATURE_HEADER,
                    "Base64 of HMAC-SHA256 of the raw body with the store's signing secret.",
                ),
                _header(shopify.TOPIC_HEADER, "e.g. `orders/create`."),
                _header(shopify.WEBHOOK_ID_HEADER, "The same on retries: a retry is a repeat."),
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "200": {
                    "description": "Received: `result` is stored, duplicate, repeat, "
                    "unknown_order, unmapped_topic or ignored.",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "result": {"type": "string"},
                                    "detail": {"type": "string"},
                                },
                                "required": ["result", "detail"],
                            }
                        }
                    },
                },
                "400": _error(
                    "A signed body that is not the topic's resource, or a header "
                    "missing (`invalid`)."
                ),
                "401": _error("A missing or wrong signature (`bad_signature`); nothing stored."),
                "404": _error("No store has this webhook address (`not_found`)."),
                "413": _error("The body is over the size limit (`request_too_large`)."),
                "429": _error(
                    "Over SHOPIFY_WEBHOOKS_PER_MINUTE for this address (`throttled`); "
                    "retry after the Retry-After header's seconds."
                ),
            },
        }
    }
    return result
