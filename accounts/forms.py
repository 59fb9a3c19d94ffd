from __future__ import annotations

import math
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.emails import email_enqueue, email_language
from accounts.models import STORE_FIELDS, STORE_METRICS_FIELDS, ApiKey, Role, Store


class SignUpForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("Work email"))
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    organisation_name = forms.CharField(
        label=_("Organisation"), max_length=120, help_text=_("Usually your company's name.")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password"):
            from accounts.models import User

            probe = User(email=data.get("email", ""), name=data.get("name", ""))
            try:
                password_validation.validate_password(data["password"], probe)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class LogInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "unverified": _(
            "Please confirm your email address first: we sent you a link. "
            "You can ask for a new one below."
        ),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not user.is_verified:
            raise ValidationError(self.error_messages["unverified"], code="unverified")


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, with the email sent by the Celery `email` queue."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        path = reverse(
            "accounts:password-reset-confirm",
            kwargs={"uidb64": context["uid"], "token": context["token"]},
        )
        user = context["user"]
        # Asked for on the page the recipient is on: their setting, else that page's language.
        language = email_language(user=user, fallback=translation.get_language() or "")
        context = {"url": settings.SITE_URL + path, "user": user}
        email_enqueue(
            to=to_email,
            template="accounts/email/password_reset",
            context=context,
            language=language,
        )


class ResendVerificationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=120)


class OrganisationDeleteForm(forms.Form):
    confirm_name = forms.CharField(
        label=_("Type the organisation's name to confirm"), max_length=120
    )

    def __init__(self, *args: Any, organisation_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation_name = organisation_name

    def clean_confirm_name(self) -> str:
        value = self.cleaned_data["confirm_name"].strip()
        if value != self.organisation_name:
            raise ValidationError(_("That is not the organisation's name."))
        return value


def _within_model_limits(db_field: Any, **kwargs: Any) -> forms.Field | None:
    """A model field's form field, with the limits of its value validators as the form's (and
    the number input's min and max), so that the page says them before the service does."""
    for validator in db_field.validators:
        if isinstance(validator, MinValueValidator):
            kwargs["min_value"] = max(validator.limit_value, kwargs.get("min_value", -math.inf))
        elif isinstance(validator, MaxValueValidator):
            kwargs["max_value"] = min(validator.limit_value, kwargs.get("max_value", math.inf))
    return db_field.formfield(**kwargs)


class StoreMetricsSettingsForm(forms.ModelForm):
    """The store's funnel and retention settings: the part of its settings page that editors
    may change (admins get StoreForm, which has them too)."""

    # The page's fieldsets: legend, a note under it (or ""), the fields.
    fieldsets: tuple[tuple[Any, Any, tuple[str, ...]], ...] = (
        (
            _("Funnel and retention"),
            _("Changing one of these computes the store's figures again."),
            STORE_METRICS_FIELDS,
        ),
    )

    class Meta:
        model = Store
        fields = list(STORE_METRICS_FIELDS)
        formfield_callback = _within_model_limits

    def grouped(self) -> list[tuple[Any, Any, list[forms.BoundField]]]:
        """The fields by fieldset, with its legend and note, in the page's order."""
        return [(legend, note, [self[n] for n in names]) for legend, note, names in self.fieldsets]

    def _post_clean(self) -> None:
        # The service validates (and normalises) the whole store; the instance is left as it
        # is, so that the service sees what changed.
        pass


class StoreForm(StoreMetricsSettingsForm):
    # Checked (after normalising case) by the service, with the model's validators.
    domain = forms.CharField(
        label=_("Domain"),
        max_length=253,
        help_text=_("The shop's address without https://, e.g. shop.example.com."),
    )
    currency = forms.CharField(
        label=_("Currency"), max_length=3, help_text=_("ISO 4217 code, e.g. EUR, RON.")
    )

    class Meta(StoreMetricsSettingsForm.Meta):
        fields = list(STORE_FIELDS)
        help_texts = {
            "time_zone": _("IANA name, e.g. Europe/Vilnius. Metrics use the store's days."),
            "default_language": _("For surveys to customers whose language is unknown."),
        }

    fieldsets = (
        (_("Store"), "", tuple(n for n in STORE_FIELDS if n not in STORE_METRICS_FIELDS)),
        *StoreMetricsSettingsForm.fieldsets,
    )


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("name of a thing", "Name"),
        max_length=120,
        help_text=_("e.g. Shop backend"),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ApiKey.Kind.choices)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
