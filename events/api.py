"""The events API: a store's server sends batches of events and links anonymous visitors to
customers, with the store's secret key; the browser snippet sends its visitors' events with the
publishable key (events/browser.py has its rules)."""

from __future__ import annotations

from typing import Any

import msgspec
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services as account_services
from accounts.api_auth import ApiKeyAuthentication
from accounts.models import ApiKey
from accounts.permissions import IsOrganisationMember, TenantMixin, client_ip
from accounts.ratelimit import hit_unless_limited
from accounts.selectors import store_list
from core.schema import ErrorSerializer, error_response
from events import browser, imports, ingest, services
from events.csv_reading import columns_named
from events.models import EventSource
from events.serializers import (
    BatchResultSerializer,
    BatchSerializer,
    BrowserBatchSerializer,
    IdentifyResultSerializer,
    IdentifySerializer,
    ImportSerializer,
    ImportStartedSerializer,
)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


class SecretKeyOnly(IsOrganisationMember):
    """The store's secret key, nothing else: a member's session has no store to send for."""

    message = "Send events with the store's secret key (Authorization: Bearer <key>)."

    def has_permission(self, request: Request, view: APIView) -> bool:
        key = getattr(request, "auth", None)
        if not isinstance(key, ApiKey) or key.kind != ApiKey.Kind.SECRET:
            return False
        return super().has_permission(request, view)


def body_bytes(request: Request, *, max_bytes: int) -> bytes:
    """The request body, within max_bytes (checked on Content-Length before reading)."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"The body is over {max_bytes:,} bytes; send smaller batches.")
    body = request.body
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"The body is over {max_bytes:,} bytes; send smaller batches.")
    return body


def json_body(request: Request, *, max_bytes: int) -> Any:
    """The request body as JSON, read with msgspec (about ten times faster than json for a
    batch of 1,000 events), within max_bytes."""
    body = body_bytes(request, max_bytes=max_bytes)
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise exceptions.ParseError(f"The body is not valid JSON: {exc}") from None


def batch_items(data: Any) -> list[Any]:
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise exceptions.ValidationError({"events": ['Send {"events": [...]}, a list of events.']})
    unknown = sorted(set(data) - {"events"})
    if unknown:
        raise exceptions.ValidationError({k: ["Unknown field."] for k in unknown})
    items = data["events"]
    if not items:
        raise exceptions.ValidationError({"events": ["The list is empty."]})
    if len(items) > ingest.MAX_BATCH_ITEMS:
        raise exceptions.ValidationError(
            {"events": [f"{len(items):,} events; at most {ingest.MAX_BATCH_ITEMS:,} a request."]}
        )
    return items


def events_throttle(*, api_key: ApiKey, count: int, client_ip: str | None = None) -> None:
    """Ingestion's own limit, in events per minute per key (EVENTS_PER_MINUTE_PER_KEY); with
    `client_ip` (browsers: anyone may copy a publishable key) also per address
    (EVENTS_PER_MINUTE_PER_IP). Both are counted together, or neither."""
    limit = settings.EVENTS_PER_MINUTE_PER_KEY
    checks = [("events", f"key-{api_key.prefix}", limit)]
    detail = f"Over {limit:,} events a minute for this key; slow down."
    if client_ip:
        ip_limit = settings.EVENTS_PER_MINUTE_PER_IP
        checks.append(("events-ip", client_ip, ip_limit))
        detail = (
            f"Over {limit:,} events a minute for this key or {ip_limit:,} from this address; "
            "slow down."
        )
    if hit_unless_limited(checks=checks, window=60, cost=count):
        raise exceptions.Throttled(wait=60, detail=detail)


class EventsApiView(TenantMixin, APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [SecretKeyOnly]

    def get_queryset(self) -> Any:  # no list: the views write
        raise NotImplementedError


class BatchView(EventsApiView):
    """Up to 1,000 events (1 MB) from the store's server. Each item is checked on its own: the
    answer lists the duplicates and the refused items by index; the rest are stored."""

    # Not the API's 1,200 requests a minute: events_throttle counts events per key instead.
    throttle_classes: list = []

    @extend_schema(
        request=BatchSerializer,
        responses={200: BatchResultSerializer, 429: error_response(429)},
    )
    def post(self, request: Request) -> Response:
        store = self.tenant.store
        assert store is not None  # SecretKeyOnly: a key, which has a store
        body = body_bytes(request, max_bytes=ingest.MAX_BATCH_BYTES)
        typed = ingest.batch_decode_typed(body)
        if typed is not None and 0 < len(typed) <= ingest.MAX_BATCH_ITEMS:
            # Every item of the right types: decoded straight into structs (the fast path).
            events_throttle(api_key=self.tenant.api_key, count=len(typed))  # type: ignore[arg-type]
            result = services.events_typed_ingest(store=store, items=typed)
            return Response(result.as_dict())
        try:
            items = batch_items(msgspec.json.decode(body))
        except msgspec.DecodeError as exc:
            raise exceptions.ParseError(f"The body is not valid JSON: {exc}") from None
        events_throttle(api_key=self.tenant.api_key, count=len(items))  # type: ignore[arg-type]
        result = services.events_batch_ingest(store=store, raw_items=items, source=EventSource.API)
        return Response(result.as_dict())


class IdentifyView(EventsApiView):
    """Link a browser's anonymous id (`momentmap.anonymousId()`) to your customer: the
    visitor's earlier and later events count for that customer. A second, different customer
    for the same anonymous id is `409 identify_conflict`; the first link stands."""

    @extend_schema(
        request=IdentifySerializer,
        responses={200: IdentifyResultSerializer, 409: error_response(409)},
    )
    def post(self, request: Request) -> Response:
        data = IdentifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = self.tenant.store
        assert store is not None
        services.customer_identify(store=store, **data.validated_data)
        return Response(dict(data.validated_data))


# text/plain is what the snippet sends: a "simple" cross-origin request, with no preflight.
BROWSER_MEDIA_TYPES = frozenset({"text/plain", "application/json"})


def browser_body(data: Any) -> tuple[str, list[Any]]:
    """`{"key": "<publishable key>", "events": [...]}`: the key and the items."""
    if not isinstance(data, dict):
        raise exceptions.ValidationError(
            {"non_field_errors": ['Send {"key": "<publishable key>", "events": [...]}.']}
        )
    problems: dict[str, list[str]] = {
        k: ["Unknown field."] for k in sorted(set(data) - {"key", "events"})
    }
    raw_key = data.get("key")
    if not isinstance(raw_key, str) or not raw_key.strip():
        problems["key"] = ["Send the store's publishable key (mm_pk_…)."]
    items = data.get("events")
    if not isinstance(items, list) or not items:
        problems["events"] = ["Send a list of one or more events."]
    elif len(items) > browser.MAX_BROWSER_ITEMS:
        problems["events"] = [
            f"{len(items):,} events; at most {browser.MAX_BROWSER_ITEMS:,} a request."
        ]
    if problems or not isinstance(raw_key, str) or not isinstance(items, list):
        raise exceptions.ValidationError(problems)
    return raw_key.strip(), items


class BrowserEventsView(APIView):
    """Events from the browser snippet (static/js/momentmap.js) on the store's pages, with the
    store's publishable key in the body, as text/plain JSON (no preflight) or application/json.
    Only from the store's domain or its subdomains (Origin, else Referer; https), only for
    anonymous visitors (link them to customers with identify from your server). A bot's
    request is answered 204 and not stored. Answers carry Access-Control-Allow-Origin for the
    store's origin, so that fetch() can read them."""

    authentication_classes: list = []  # the key is in the body: looked up in post()
    permission_classes = [AllowAny]
    # Not the anonymous 60 requests a minute: events_throttle counts events per key and address.
    throttle_classes: list = []
    allowed_origin = ""

    def get_authenticate_header(self, request: Request) -> str:
        return 'PublishableKey realm="events"'  # a 401 names the credential it wants

    @extend_schema(
        request={
            "text/plain": BrowserBatchSerializer,
            "application/json": BrowserBatchSerializer,
        },
        responses={
            200: BatchResultSerializer,
            204: OpenApiResponse(
                description="A bot's request (by its User-Agent): nothing is stored; it is "
                "counted for the store."
            ),
            401: OpenApiResponse(
                ErrorSerializer,
                description="No such publishable key, or it is revoked (`authentication_failed`).",
            ),
            403: OpenApiResponse(
                ErrorSerializer,
                description="The page is not on the store's domain or a subdomain of it, over "
                "https (`origin_refused`), or the key is a secret key, which must never be in a "
                "web page (`secret_key_refused`).",
            ),
            429: error_response(429),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        media_type = request.content_type.split(";")[0].strip().lower()
        if media_type not in BROWSER_MEDIA_TYPES:
            raise exceptions.UnsupportedMediaType(media_type or "none")
        raw_key, items = browser_body(json_body(request, max_bytes=browser.MAX_BROWSER_BYTES))
        origin = browser.request_origin(request.META)
        api_key = browser.publishable_key(raw_key=raw_key, origin=origin)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked publishable key.")
        store = api_key.store
        if not browser.origin_allowed(origin, domain=store.domain, debug=settings.DEBUG):
            raise browser.OriginRefused(
                f"Events are taken only from pages on https://{store.domain} or its "
                f"subdomains; this request came from {origin[:200] or 'an unknown page'}."
            )
        self.allowed_origin = origin
        if browser.is_bot(request.META.get("HTTP_USER_AGENT", "")):
            browser.bot_count(store_id=store.pk)
            return Response(status=status.HTTP_204_NO_CONTENT)
        events_throttle(api_key=api_key, count=len(items), client_ip=client_ip(request))
        account_services.api_key_touch(api_key=api_key)
        result = browser.browser_events_ingest(store=store, raw_items=items)
        return Response(result.as_dict())

    def options(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Response:
        """The preflight of a fetch() with application/json. It carries no key, so there is
        no store to check the origin against: any origin may ask, and its POST is checked."""
        response = Response(status=status.HTTP_204_NO_CONTENT)
        origin = request.META.get("HTTP_ORIGIN", "")
        if origin:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "POST"
            response["Access-Control-Allow-Headers"] = "Content-Type"
            response["Access-Control-Max-Age"] = "86400"
        return response

    def finalize_response(
        self, request: Request, response: Any, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ["Origin"])
        # Only the store's own pages may read an answer: set once the origin passed its check.
        if self.allowed_origin and request.META.get("HTTP_ORIGIN") == self.allowed_origin:
            response["Access-Control-Allow-Origin"] = self.allowed_origin
        return response


class ImportView(TenantMixin, APIView):
    """Import a CSV file of events or orders into a store (editors and above, or the store's
    secret key). The file is checked and its columns recognised at once (a file that cannot
    be imported, or a mapping that does not fit it, is a 400 and nothing is kept); the import
    itself runs in the background: poll the task until it is `done` (its `result` is the
    report: rows read and skipped with the reason for each, events stored, duplicates) or
    `failed`. Importing the same file again stores nothing twice. Imported events never
    trigger a survey."""

    parser_classes = [MultiPartParser]

    def get_queryset(self) -> Any:  # no list: the view writes
        raise NotImplementedError

    @extend_schema(
        request={"multipart/form-data": ImportSerializer},
        responses={202: ImportStartedSerializer},
    )
    def post(self, request: Request) -> Response:
        data = ImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        tenant = self.tenant
        store_id = values.get("store") or (tenant.store.pk if tenant.store else None)
        if store_id is None:
            raise exceptions.ValidationError({"store": ["Name the store to import into."]})
        store = (
            store_list(organisation=tenant.organisation, only_store=tenant.store)
            .filter(pk=store_id)
            .first()
        )
        if store is None:
            raise exceptions.ValidationError({"store": ["No such store in your organisation."]})
        upload = values["file"]
        date_order = values.get("date_order")
        event_import = imports.event_import_create(
            store=store,
            actor=tenant.actor(),
            file=upload,
            file_name=upload.name or "",
            shape=values["shape"],
            mapping=values.get("mapping"),
            time_zone=values.get("time_zone", ""),
            day_first=None if date_order is None else date_order == "day_first",
            cancelled_prefix=values.get("cancelled_prefix"),
        )
        task_id = event_import.task_id
        assert task_id is not None
        return Response(
            {
                "task": task_id,
                "task_url": reverse("api:task-detail", kwargs={"pk": task_id}),
                "encoding": event_import.encoding,
                "delimiter": event_import.delimiter,
                "columns": columns_named(event_import.header, event_import.mapping),
                "time_zone": event_import.time_zone,
                "date_order": "day_first" if event_import.day_first else "month_first",
                "cancelled_prefix": event_import.cancelled_prefix,
            },
            status=status.HTTP_202_ACCEPTED,
        )
