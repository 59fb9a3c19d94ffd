"""The events pages' forms: the list's filters, the Shopify signing secret, and the CSV import
pages (they parse what was chosen; events.imports checks it)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events import imports
from events.csv_reading import MAX_UPLOAD_BYTES, ORDER_FIELDS, ORDER_TIME_HEADERS, Head
from events.models import EventImport
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


# Event names offered for an orders file's date columns: the domain's order events first, then
# the names the store already has; any other name can be sent through the API's mapping.
ORDER_EVENTS = list(ORDER_TIME_HEADERS)
EVENT_COLUMNS = [
    ("name", _("Event name")),
    ("customer_key", _("Customer")),
    ("occurred_at", _("Time")),
    ("id", _("Event id (idempotency id)")),
    ("session_id", _("Session id")),
    ("properties", _("Properties (a JSON object)")),
]
# The buyer's details in an orders file: they make the store's contact (events.import_run).
ORDER_CONTACT_COLUMNS = [
    ("email", _("Customer's email")),
    ("customer_name", _("Customer's name")),
    ("first_name", _("Customer's first name")),
    ("last_name", _("Customer's last name")),
    ("language", _("Customer's language or locale (lt-LT)")),
]
SAMPLES_SHOWN = 3


def _upload_help() -> str:
    # Formatted when shown, in the reader's language (a lazy string's `%` at import time would
    # fix it in the default language).
    return gettext(
        "Comma, semicolon or tab separated, in any encoding Excel or a shop writes; up to "
        "%(mb)s MB, or compressed as .csv.gz."
    ) % {"mb": MAX_UPLOAD_BYTES // 1024**2}


class EventImportUploadForm(forms.Form):
    shape = forms.ChoiceField(
        label=_("Contents of the file"),
        choices=EventImport.Shape.choices,
        initial=EventImport.Shape.ORDERS,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=lazy(_upload_help, str)(),
    )


class EventImportStartForm(forms.Form):
    """Step 2: what each column holds (one select per column, `column_0`...), preset to what
    the headers suggest; the time zone of times without an offset; the date order."""

    time_zone = forms.ChoiceField(
        label=_("Time zone of times without an offset"),
        help_text=_("Times such as 2026-03-01 14:05 are read in this zone; the store's is preset."),
    )
    date_order = forms.ChoiceField(
        label=_("Order of day and month in dates like 03/04/2026"),
        choices=[
            ("day_first", _("day/month/year (3 April)")),
            ("month_first", _("month/day/year (March 4)")),
        ],
        widget=forms.RadioSelect,
        help_text=_("Dates like 2026-04-03 and 03.04.2026 are read the same either way."),
    )
    cancelled_prefix = forms.CharField(
        label=_("Prefix of the order numbers of cancellations"),
        required=False,
        max_length=8,
        help_text=_(
            "E.g. C for C536379: such an order's purchase date becomes its order_cancelled "
            "event. Empty: no order is a cancellation."
        ),
    )

    def __init__(
        self,
        *args: Any,
        event_import: EventImport,
        head: Head,
        known_events: list[str],
        **kwargs: Any,
    ) -> None:
        mapping = imports.mapping_of(event_import)
        initial = {
            "time_zone": event_import.time_zone,
            "date_order": "day_first" if event_import.day_first else "month_first",
            "cancelled_prefix": event_import.cancelled_prefix,
            **{f"column_{index}": mapping.get(index, "") for index in range(len(head.header))},
        }
        kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.orders = event_import.shape == EventImport.Shape.ORDERS
        if not self.orders:
            del self.fields["cancelled_prefix"]
        zones = sorted(imports.time_zones())
        self.fields["time_zone"].choices = [(zone, zone) for zone in zones]  # type: ignore[attr-defined]
        if self.orders:
            # A stored event named like a buyer's detail ("email") cannot be a date column.
            names = [
                name
                for name in dict.fromkeys([*ORDER_EVENTS, *known_events])
                if name not in ORDER_FIELDS
            ]
            targets = [
                ("order_id", _("Order id")),
                ("customer_key", _("Customer")),
                *ORDER_CONTACT_COLUMNS,
                *[(name, _("Date of: %(event)s") % {"event": name}) for name in names],
            ]
        else:
            targets = list(EVENT_COLUMNS)
        choices = [("", _("Ignore this column")), *targets]
        self.header = head.header
        self.columns: list[tuple[forms.BoundField, list[str]]] = []
        for index, title in enumerate(head.header):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                label=title or _("Column %(number)s (no header)") % {"number": index + 1},
                choices=choices,
                required=False,
                widget=forms.Select(attrs={"aria-describedby": f"id_{name}-samples"}),
            )
            samples = [row[index].strip() for row in head.rows if index < len(row)]
            self.columns.append((self[name], [v for v in samples if v][:SAMPLES_SHOWN]))

    def mapping(self) -> dict[int, str]:
        return {
            index: self.cleaned_data[f"column_{index}"]
            for index in range(len(self.header))
            if self.cleaned_data.get(f"column_{index}")
        }

    def day_first(self) -> bool:
        return bool(self.cleaned_data["date_order"] == "day_first")
