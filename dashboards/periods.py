"""The dashboard's period: the last 7, 30 or 90 days, a calendar month of the last 12, or any
range of days, always compared with the period of the same length just before. The
organisation view offers the standard ones alone (StoredPeriodForm)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from metrics.models import FunnelResult

MAX_DAYS = 366
ROLLING = {"last_7": 7, "last_30": 30, "last_90": 90}
DEFAULT = "last_30"


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str

    @property
    def previous(self) -> tuple[date, date]:
        length = self.end - self.start + timedelta(days=1)
        return self.start - length, self.start - timedelta(days=1)


def _months(today: date) -> list[tuple[str, str]]:
    first = today.replace(day=1)
    months = []
    for _i in range(12):
        months.append((f"month:{first:%Y-%m}", date_format(first, "F Y")))
        first = (first - timedelta(days=1)).replace(day=1)
    return months


class PeriodForm(forms.Form):
    period = forms.ChoiceField(label=gettext_lazy("Period"), required=False, initial=DEFAULT)
    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.choices: list[tuple[str, str]] = [
            ("last_7", _("Last 7 days")),
            ("last_30", _("Last 30 days")),
            ("last_90", _("Last 90 days")),
            *_months(today),
            ("custom", _("Custom range")),
        ]
        self.fields["period"].choices = self.choices  # type: ignore[attr-defined]
        if self.is_bound and not self.data.get("period"):
            # No period chosen is the last 30 days (period_of): the select shows it, rather
            # than its first option, for an address with other parameters only (?trend=month).
            self.data = {**self.data, "period": DEFAULT}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                raise forms.ValidationError(_("Choose the first and the last day of the range."))
            if start > end:
                raise forms.ValidationError(_("The last day is before the first."))
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(
                    ngettext(
                        "A range is at most %(days)s day.",
                        "A range is at most %(days)s days.",
                        MAX_DAYS,
                    )
                    % {"days": MAX_DAYS}
                )
        return data

    def query(self) -> str:
        """The chosen period as a query string, for links that keep it ("" for the default)."""
        chosen = self.cleaned_data.get("period") if self.is_bound and self.is_valid() else ""
        if not chosen or chosen == DEFAULT:
            return ""
        kept = {"period": chosen}
        if kept["period"] == "custom":
            kept["start"] = self.cleaned_data["start"].isoformat()
            kept["end"] = self.cleaned_data["end"].isoformat()
        return urlencode(kept)

    def period_of(self) -> Period:
        """The chosen period; the last 30 days when nothing (valid) is chosen."""
        choice = self.cleaned_data.get("period") if self.is_bound and self.is_valid() else ""
        labels = dict(self.choices)
        if choice == "custom":
            start, end = self.cleaned_data["start"], self.cleaned_data["end"]
            return Period(start, end, f"{start:%Y-%m-%d} – {end:%Y-%m-%d}")
        if choice and choice.startswith("month:"):
            first = date.fromisoformat(choice[6:] + "-01")
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            return Period(first, last, str(labels[choice]))
        days = ROLLING.get(choice or "last_30", 30)
        key = choice if choice in ROLLING else "last_30"
        return Period(self.today - timedelta(days=days - 1), self.today, str(labels[key]))


class StoredPeriodForm(PeriodForm):
    """The standard periods that the recompute stores for every store (the last 7, 30 or 90
    days and the calendar months): what the organisation view reads, never computing."""

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, today=today, **kwargs)
        del self.fields["start"], self.fields["end"]
        self.choices = [c for c in self.choices if c[0] != "custom"]
        self.fields["period"].choices = self.choices  # type: ignore[attr-defined]

    @property
    def choice(self) -> str:
        """The chosen period's key; the last 30 days when nothing (valid) is chosen."""
        chosen = self.cleaned_data.get("period") if self.is_bound and self.is_valid() else ""
        return str(chosen or "last_30")

    @property
    def label(self) -> str:
        return str(dict(self.choices)[self.choice])


def stored_kind(choice: str) -> tuple[str, date | None]:
    """A StoredPeriodForm choice as the stored results' kind and, for a month, its first day."""
    if choice.startswith("month:"):
        return FunnelResult.Kind.MONTH, date.fromisoformat(choice[6:] + "-01")
    return FunnelResult.Kind(choice), None
