from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from surveys.forms import PeriodForm


class EventFilterForm(PeriodForm):
    """The events page's filters: a name, a customer (editors and above), days in the store's
    time zone."""

    name = forms.ChoiceField(label=_("Event"), required=False)
    customer = forms.CharField(
        label=_("Customer key"),
        required=False,
        max_length=128,
        help_text=_("The store's customer id, an anonymous id or an email address."),
    )

    field_order = ["name", "customer", "start", "end"]

    def __init__(self, *args: Any, names: list[str], show_customers: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].choices = [("", _("All events")), *((n, n) for n in names)]  # type: ignore[attr-defined]
        if not show_customers:
            del self.fields["customer"]


class SigningSecretForm(forms.Form):
    secret = forms.CharField(
        label=_("Signing secret"),
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_(
            "The secret your sender signs with. For webhooks made in Shopify's admin: Settings → "
            "Notifications → Webhooks, “Your webhooks will be signed with …”. For an app's "
            "webhooks: the app's client secret."
        ),
    )
