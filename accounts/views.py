"""Account pages. Thin: validate with a form, call one service, render or redirect."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import ratelimit, selectors, services
from accounts.forms import (
    ApiKeyForm,
    InviteForm,
    LogInForm,
    OrganisationDeleteForm,
    OrganisationForm,
    QueuedPasswordResetForm,
    ResendVerificationForm,
    RoleForm,
    SignUpForm,
    StoreForm,
    StoreMetricsSettingsForm,
)
from accounts.middleware import SESSION_ORGANISATION, SESSION_STORE, membership_of
from accounts.models import ApiKey, Role, User
from accounts.permissions import client_ip, role_required, tenant_of
from core.forms import add_service_errors
from core.languages import language_offered

# --- Home


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    if membership is None:
        return redirect("accounts:organisation-create")
    organisation = membership.organisation
    if membership.role == Role.VIEWER:  # a viewer's morning starts at the store's figures
        return redirect("dashboards:home")
    return render(
        request,
        "accounts/home.html",
        {
            "stores": selectors.store_list(organisation=organisation),
            "member_count": selectors.member_list(organisation=organisation).count(),
        },
    )


# --- Sign-up, verification, log-in


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_sign_up(**form.cleaned_data, language=translation.get_language() or "")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            request.session["signup_email"] = form.cleaned_data["email"].lower()
            return redirect("accounts:signup-done")
    return render(request, "accounts/signup.html", {"form": form})


def signup_done(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/signup_done.html", {"email": request.session.get("signup_email", "")}
    )


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.user_verify_email(token=token)
    except ValidationError as exc:
        return render(
            request, "accounts/verify_failed.html", {"message": exc.messages[0]}, status=400
        )
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("Your email address is confirmed. Welcome to MomentMap."))
    return redirect("home")


def _reset_limited(request: HttpRequest, *, scope: str, email: str) -> bool:
    """Count one email-sending request by address and by client IP, unless either is at
    PASSWORD_RESET_LIMIT already (then True): the check and the count in one step."""
    limit = settings.PASSWORD_RESET_LIMIT
    return ratelimit.hit_unless_limited(
        checks=[(scope, email, limit), (scope, client_ip(request) or "", limit)],
        window=settings.PASSWORD_RESET_WINDOW,
    )


def resend_verification(request: HttpRequest) -> HttpResponse:
    form = ResendVerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        if not _reset_limited(request, scope="verify-resend", email=email):
            user = User.objects.filter(email__iexact=email, email_verified_at__isnull=True).first()
            if user is not None:
                services.verification_email_send(
                    user=user, language=translation.get_language() or ""
                )
        # The same answer whether or not the address has an account: nothing leaks.
        request.session["signup_email"] = email
        return redirect("accounts:signup-done")
    return render(request, "accounts/resend_verification.html", {"form": form})


class LogInView(auth_views.LoginView):
    form_class = LogInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def _checks(self) -> list[tuple[str, str, int]]:
        """The counters an attempt counts against: this email from this address, and this
        address whatever the email (as django-axes locks out by username and IP together, or by
        IP). None for the email alone: anyone could then lock a known user out, and the user's
        correct password from another address would be refused too."""
        email = (self.request.POST.get("username") or "").strip().lower()
        address = client_ip(self.request) or ""
        return [
            ("login", f"{address}|{email}", settings.LOGIN_ATTEMPTS_LIMIT),
            ("login-address", address, settings.LOGIN_ATTEMPTS_PER_ADDRESS_LIMIT),
        ]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Every attempt is counted before the password is checked, in the same atomic step as
        # the check: parallel guesses cannot all slip under the limit. A success gives its
        # count back (form_valid), so only failures add up, and an address that has not failed
        # is never refused.
        if ratelimit.hit_unless_limited(
            checks=self._checks(), window=settings.LOGIN_ATTEMPTS_WINDOW
        ):
            form = self.get_form()
            form.errors.clear()
            form.add_error(
                None,
                _("Too many log-in attempts. Wait 15 minutes, or reset your password."),
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        ratelimit.uncount(checks=self._checks())
        return super().form_valid(form)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password-reset-done")
    scope = "password-reset"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        email = (request.POST.get("email") or "").strip().lower()
        if _reset_limited(request, scope=self.scope, email=email):
            form = self.get_form()
            form.add_error(None, _("Too many reset requests. Try again in an hour."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)


# --- Organisations


@login_required
def organisation_create(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organisation = services.organisation_create(
            user=request.user,  # type: ignore[arg-type]
            name=form.cleaned_data["name"],
            language=translation.get_language() or "",
        )
        request.session[SESSION_ORGANISATION] = organisation.pk
        request.session.pop(SESSION_STORE, None)
        messages.success(request, _("Organisation created. Add its first store."))
        return redirect("accounts:store-create")
    return render(request, "accounts/organisation_create.html", {"form": form})


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@login_required
@require_POST
def organisation_switch(request: HttpRequest) -> HttpResponse:
    organisation = get_object_or_404(
        selectors.organisation_list_for_user(user=request.user),  # type: ignore[arg-type]
        pk=request.POST.get("organisation") or 0,
    )
    request.session[SESSION_ORGANISATION] = organisation.pk
    request.session.pop(SESSION_STORE, None)
    messages.info(request, _("Switched to %(name)s.") % {"name": organisation.name})
    return redirect("home")


@role_required(Role.VIEWER)
@require_POST
def store_switch(request: HttpRequest) -> HttpResponse:
    store = selectors.store_get(
        organisation=tenant_of(request).organisation,
        pk=int(request.POST.get("store") or 0),
    )
    request.session[SESSION_STORE] = store.pk
    return redirect(_safe_next(request, reverse("home")))


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The header's language switcher, signed in or not. Signed in, it is the person's setting
    (pages and emails; blank follows the browser again); the cookie keeps it on the pages
    before logging in. The page comes back at the same URL."""
    language = request.POST.get("language", "")
    if language and not language_offered(language):
        messages.error(request, _("Choose one of the languages listed."))
        return redirect(_safe_next(request, reverse("home")))
    if request.user.is_authenticated:
        services.user_language_set(user=request.user, language=language)
    response = redirect(_safe_next(request, reverse("home")))
    if language:
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure(),
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response


@role_required(Role.ADMIN)
@require_POST
def organisation_language(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    try:
        services.organisation_language_set(
            organisation=tenant.organisation,
            language=request.POST.get("language", ""),
            actor=tenant.actor(),
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("Invitations now go out in the language you chose."))
    return redirect("accounts:member-list")


@role_required(Role.VIEWER)
def organisation_leave(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    if membership is None:  # role_required lets members only in
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.membership_leave(membership=membership)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
            return redirect("accounts:organisation-leave")
        request.session.pop(SESSION_ORGANISATION, None)
        request.session.pop(SESSION_STORE, None)
        messages.success(request, _("You left %(name)s.") % {"name": membership.organisation})
        return redirect("home")
    return render(request, "accounts/organisation_leave.html")


@role_required(Role.OWNER)
def organisation_delete(request: HttpRequest) -> HttpResponse:
    organisation = tenant_of(request).organisation
    form = OrganisationDeleteForm(request.POST or None, organisation_name=organisation.name)
    if request.method == "POST" and form.is_valid():
        services.organisation_delete_request(
            organisation=organisation,
            actor=tenant_of(request).actor(),
        )
        request.session.pop(SESSION_ORGANISATION, None)
        request.session.pop(SESSION_STORE, None)
        messages.success(
            request,
            _("%(name)s is being deleted with all its data.") % {"name": organisation.name},
        )
        return redirect("home")
    return render(request, "accounts/organisation_delete.html", {"form": form})


# --- Stores and API keys


@role_required(Role.VIEWER)
def store_list(request: HttpRequest) -> HttpResponse:
    stores = selectors.store_list(organisation=tenant_of(request).organisation)
    return render(request, "accounts/store_list.html", {"stores": stores})


@role_required(Role.ADMIN)
def store_create(request: HttpRequest) -> HttpResponse:
    form = StoreForm(
        request.POST or None, initial={"currency": "EUR", "time_zone": "Europe/Vilnius"}
    )
    if request.method == "POST" and form.is_valid():
        try:
            store = services.store_create(
                organisation=tenant_of(request).organisation,
                actor=tenant_of(request).actor(),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            request.session[SESSION_STORE] = store.pk
            messages.success(request, _("Store %(name)s created.") % {"name": store.name})
            return redirect("accounts:store-keys", pk=store.pk)
    return render(request, "accounts/store_form.html", {"form": form, "store": None})


@role_required(Role.EDITOR)
def store_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Admins change every setting of the store; editors its funnel and retention settings."""
    tenant = tenant_of(request)
    store = selectors.store_get(organisation=tenant.organisation, pk=pk)
    form_class = StoreForm if Role.at_least(tenant.role, Role.ADMIN) else StoreMetricsSettingsForm
    form = form_class(request.POST or None, instance=store)
    if request.method == "POST" and form.is_valid():
        try:
            services.store_update(store=store, actor=tenant.actor(), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Store saved."))
            return redirect("accounts:store-list")
    return render(request, "accounts/store_form.html", {"form": form, "store": store})


@role_required(Role.ADMIN)
@require_POST
def store_delete(request: HttpRequest, pk: int) -> HttpResponse:
    store = selectors.store_get(organisation=tenant_of(request).organisation, pk=pk)
    services.store_delete_request(store=store, actor=tenant_of(request).actor())
    messages.success(
        request,
        _(
            "Store %(name)s deleted. Its journeys are kept without a store (an active one is "
            "archived); its surveys, contacts and responses are being removed."
        )
        % {"name": store.name},
    )
    return redirect("accounts:store-list")


def snippet_tag(raw_key: str) -> str:
    """The browser snippet's tag for a store's pages, with its publishable key. The snippet's
    plain static name, not the hashed one: a pasted tag must survive our deploys (whitenoise
    serves it with a short cache, so a new version reaches the shops within minutes). The
    endpoint is named only when static files are on another host than the site."""
    site = settings.SITE_URL.rstrip("/")
    src = urljoin(site + "/", f"{settings.STATIC_URL}js/momentmap.js")
    endpoint = "" if "{0.scheme}://{0.netloc}".format(urlsplit(src)) == site else site
    endpoint_attribute = f' data-endpoint="{endpoint}"' if endpoint else ""
    return f'<script src="{src}" data-key="{raw_key}"{endpoint_attribute} defer></script>'


@role_required(Role.ADMIN)
def store_keys(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    store = selectors.store_get(organisation=tenant.organisation, pk=pk)
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _api_key, raw_key = services.api_key_create(
            store=store, actor=tenant.actor(), **form.cleaned_data
        )
        # Shown once, on the page the redirect leads to: a reload cannot create a second key.
        request.session["new_api_key"] = raw_key
        return redirect("accounts:store-keys", pk=store.pk)
    new_key = request.session.pop("new_api_key", None)
    keys = selectors.api_key_list(organisation=tenant.organisation, store=store)
    context: dict[str, Any] = {"store": store, "keys": keys, "form": form, "new_key": new_key}
    publishable = f"{services.KEY_PREFIXES[ApiKey.Kind.PUBLISHABLE]}_"
    if new_key and new_key.startswith(publishable):
        # The key is kept only as a hash: the ready-to-paste tag can be shown only now.
        context["snippet_tag"] = snippet_tag(new_key)
    return render(request, "accounts/store_keys.html", context)


@role_required(Role.ADMIN)
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    api_key = selectors.api_key_get(organisation=tenant.organisation, pk=pk)
    services.api_key_revoke(api_key=api_key, actor=tenant.actor())
    messages.success(request, _("Key %(prefix)s… revoked.") % {"prefix": api_key.prefix})
    return redirect("accounts:store-keys", pk=api_key.store_id)


# --- Members


@role_required(Role.VIEWER)
def member_list(request: HttpRequest) -> HttpResponse:
    return _member_page(request, InviteForm())


def _member_page(request: HttpRequest, invite_form: InviteForm, status: int = 200) -> HttpResponse:
    tenant = tenant_of(request)
    return render(
        request,
        "accounts/member_list.html",
        {
            "members": selectors.member_list(organisation=tenant.organisation),
            "invitations": selectors.invitation_list(organisation=tenant.organisation)
            if Role.at_least(tenant.role, Role.ADMIN)
            else [],
            "invite_form": invite_form,
            "roles": Role.choices,
        },
        status=status,
    )


@role_required(Role.ADMIN)
@require_POST
def member_invite(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            services.member_invite(
                organisation=tenant.organisation,
                actor=tenant.actor(),
                actor_role=tenant.role,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("accounts:member-list")
    # The form again, as typed, with its errors beside the fields.
    return _member_page(request, form, status=400)


@role_required(Role.ADMIN)
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    membership = selectors.member_get(organisation=tenant.organisation, pk=pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.member_role_change(
                membership=membership,
                role=form.cleaned_data["role"],
                actor=tenant.actor(),
                actor_role=tenant.role,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Role updated."))
    return redirect("accounts:member-list")


@role_required(Role.ADMIN)
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    membership = selectors.member_get(organisation=tenant.organisation, pk=pk)
    try:
        services.member_remove(membership=membership, actor=tenant.actor(), actor_role=tenant.role)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(email)s removed.") % {"email": membership.user.email})
    return redirect("accounts:member-list")


@role_required(Role.ADMIN)
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    invitation = selectors.invitation_get(organisation=tenant.organisation, pk=pk)
    services.member_invitation_revoke(invitation=invitation, actor=tenant.actor())
    messages.success(request, _("Invitation withdrawn."))
    return redirect("accounts:member-list")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Public token URL: an unknown or used token is a plain 404 that reveals nothing."""
    invitation = selectors.invitation_get_by_token(token=token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    if not request.user.is_authenticated:
        has_account = User.objects.filter(email__iexact=invitation.email).exists()
        if has_account:
            return redirect(f"{reverse('accounts:login')}?next={request.path}")
        form = SignUpForm(request.POST or None, initial={"email": invitation.email})
        form.fields["organisation_name"].required = False
        form.fields["organisation_name"].widget = form.fields["organisation_name"].hidden_widget()
        if request.method == "POST" and form.is_valid():
            if form.cleaned_data["email"].lower() != invitation.email.lower():
                form.add_error("email", _("Use the address the invitation was sent to."))
            else:
                user = services.member_invitation_sign_up(
                    invitation=invitation,
                    password=form.cleaned_data["password"],
                    name=form.cleaned_data["name"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                request.session[SESSION_ORGANISATION] = invitation.organisation_id
                return redirect("home")
        return render(
            request, "accounts/invitation_accept.html", {"invitation": invitation, "form": form}
        )
    if request.method == "POST":
        try:
            services.member_invitation_accept(invitation=invitation, user=request.user)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            request.session[SESSION_ORGANISATION] = invitation.organisation_id
            request.session.pop(SESSION_STORE, None)
            messages.success(
                request, _("You joined %(name)s.") % {"name": invitation.organisation.name}
            )
            return redirect("home")
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation})


# --- Audit log


@role_required(Role.ADMIN)
def audit_log(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action", "")
    entries = selectors.audit_log_list(
        organisation=tenant_of(request).organisation,
        action=action,
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    actions = (
        selectors.audit_log_list(organisation=tenant_of(request).organisation)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
    return render(
        request, "accounts/audit_log.html", {"page": page, "action": action, "actions": actions}
    )


# --- Health


def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers; Redis being down is reported, not fatal."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "down"
    checks["redis"] = _redis_state()
    status = 200 if checks["database"] == "ok" else 503
    return JsonResponse({"status": "ok" if status == 200 else "down", **checks}, status=status)


@functools.lru_cache(maxsize=4)
def _redis_client(url: str) -> Any:
    """One client (with its connection pool) per process and URL: a load balancer polls
    /healthz every few seconds, and a new connection each time costs more than the check."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)


def _redis_state() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    import redis

    try:
        _redis_client(settings.REDIS_URL).ping()
    except (redis.exceptions.RedisError, OSError):
        return "down"
    return "ok"
