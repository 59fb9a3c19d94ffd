"""Roles, enforced on the server: for pages with `role_required`, for the API with
`IsOrganisationMember` and the view's `read_role`/`write_role`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from rest_framework import permissions
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports the permission classes: no cycle at runtime
    from rest_framework.views import APIView

from accounts.middleware import membership_of
from accounts.models import ApiKey, Organisation, Role, Store, User

SAFE_METHODS = permissions.SAFE_METHODS
# A secret API key acts for its store with an editor's rights; it never manages members,
# keys or stores. A publishable key only reaches views that set allow_publishable_key.
SECRET_KEY_ROLE = Role.EDITOR


class KeyAccess:
    """What a store's secret key may do on a view (its `secret_key_access`), beyond its role.

    A key works for one store: objects of other stores are out of its reach (the view's
    selectors take `only_store`), and organisation-wide objects, which every store shares, get
    the least that a store's server needs."""

    WRITE = "write"  # the default: what the editor role allows, within the key's store
    READ = "read"  # organisation-wide objects a store's data refers to (personas)
    NONE = "none"  # people and their addresses (members)


@dataclass
class Tenant:
    """Who is calling and for which organisation, for pages and API alike."""

    organisation: Organisation
    role: str
    user: User | None = None
    api_key: ApiKey | None = None
    ip_address: str | None = None

    @property
    def store(self) -> Store | None:
        """The one store an API key is limited to; None for members (all stores)."""
        return self.api_key.store if self.api_key is not None else None

    def actor(self) -> Any:
        from accounts.services import Actor

        return Actor(user=self.user, api_key=self.api_key, ip_address=self.ip_address)


def tenant_note(request: HttpRequest | Request, tenant: Tenant) -> None:
    """Note who calls, for which organisation, once their role is checked."""
    setattr(request, "tenant", tenant)  # noqa: B010 (an attribute HttpRequest has not)


def tenant_of(request: HttpRequest | Request | None) -> Tenant:
    """The caller that role_required (pages) or IsOrganisationMember (API) checked. Fails
    closed: a view reached without either check is refused, never served unscoped."""
    tenant = getattr(request, "tenant", None)
    if not isinstance(tenant, Tenant):
        raise PermissionDenied("This view checks no role: refused.")
    return tenant


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or with NUM_PROXIES trusted proxies in front, the
    address that many hops from the right of X-Forwarded-For (the left part can be forged)."""
    proxies = settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR")


def tenant_for_request(request: HttpRequest | Request) -> Tenant | None:
    api_key = getattr(request, "auth", None)
    if isinstance(api_key, ApiKey):
        role = SECRET_KEY_ROLE if api_key.kind == ApiKey.Kind.SECRET else ""
        return Tenant(
            organisation=api_key.organisation,
            role=role,
            api_key=api_key,
            ip_address=client_ip(request),
        )
    membership = membership_of(request)
    if membership is None:
        return None
    return Tenant(
        organisation=membership.organisation,
        role=membership.role,
        user=membership.user,
        ip_address=client_ip(request),
    )


def role_required(
    role: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Page views: log-in, a current organisation and at least `role` in it, or 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            tenant = tenant_for_request(request)
            if tenant is None:
                return redirect("accounts:organisation-create")
            if not Role.at_least(tenant.role, role):
                raise PermissionDenied(
                    _("Role needed: %(role)s, or a role above it.") % {"role": Role(role).label}
                )
            tenant_note(request, tenant)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class IsOrganisationMember(permissions.BasePermission):
    """Reads need the view's `read_role` (viewer), writes its `write_role` (editor)."""

    message = "You do not have the role this needs in this organisation."

    def has_permission(self, request: Request, view: APIView) -> bool:
        tenant = tenant_for_request(request)
        if tenant is None:
            if request.user and request.user.is_authenticated:
                self.message = "You are not a member of any organisation."
            return False
        if tenant.api_key is not None and tenant.api_key.kind == ApiKey.Kind.PUBLISHABLE:
            if not getattr(view, "allow_publishable_key", False):
                self.message = "A publishable key can only send browser events."
                return False
            tenant_note(request, tenant)
            return True
        if tenant.api_key is not None:
            access = getattr(view, "secret_key_access", KeyAccess.WRITE)
            if access == KeyAccess.NONE or (
                access == KeyAccess.READ and request.method not in SAFE_METHODS
            ):
                self.message = (
                    "A store's secret key cannot reach this: it is shared by the whole "
                    "organisation. Use a member's session."
                )
                return False
        if request.method in SAFE_METHODS:
            required = getattr(view, "read_role", Role.VIEWER)
        else:
            required = getattr(view, "write_role", Role.EDITOR)
        if not Role.at_least(tenant.role, required):
            self.message = f"This needs the {Role(required).label.lower()} role or higher."
            return False
        tenant_note(request, tenant)
        return True


class TenantMixin:
    """API views of organisation-owned objects. `self.tenant` is the checked caller; the
    queryset must be built from it in get_queryset() (a selector scoped to the organisation
    and, for a store's key, to its store). Fails closed: a view that declares a class-level
    `queryset` is refused at import, and one that forgets get_queryset() refuses every call."""

    swagger_fake_view: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "queryset", None) is not None:
            raise ImproperlyConfigured(
                f"{cls.__name__} declares a queryset that no tenant scopes: build it in "
                "get_queryset() from self.tenant."
            )

    @property
    def tenant(self) -> Tenant:
        if self.swagger_fake_view:
            # The OpenAPI generator calls views without a caller: an organisation with no rows.
            return Tenant(organisation=Organisation(pk=0), role=Role.VIEWER)
        return tenant_of(getattr(self, "request", None))  # set by APIView.dispatch

    def get_queryset(self) -> Any:
        raise ImproperlyConfigured(
            f"{type(self).__name__} must define get_queryset() scoped to self.tenant."
        )
