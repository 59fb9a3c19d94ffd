from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


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
