from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation, Store
from accounts.selectors import store_list
from journeys import selectors
from journeys.blueprints import TEMPLATES
from journeys.models import Experiment, Journey, Persona, Touchpoint


class JourneyCreateForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("name of a thing", "Name"), max_length=160, required=False
    )
    store: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Store.objects.none(),
        required=False,
        empty_label=_("No store yet (draft)"),
    )
    template: forms.ChoiceField = forms.ChoiceField(label=_("Starting point"), required=False)

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = store_list(organisation=organisation)  # type: ignore[attr-defined]
        choices = [("", _("An empty map")), *((key, t["label"]) for key, t in TEMPLATES.items())]
        self.fields["template"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("template") and not (data.get("name") or "").strip():
            self.add_error("name", _("Give the journey a name, or start from a template."))
        return data


class JourneyFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    store: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.none(), required=False, empty_label=_("All stores")
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Journey.Status.choices],
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = store_list(organisation=organisation)  # type: ignore[attr-defined]


class JourneyImportForm(forms.Form):
    file = forms.FileField(
        label=_("Journey export (.json)"),
        help_text=_("A file exported from MomentMap with “Export → JSON”."),
    )


class ActivateForm(forms.Form):
    replace_active = forms.ChoiceField(
        label=_("New status of the store's current active journey"),
        choices=[
            (Journey.Status.ARCHIVED.value, Journey.Status.ARCHIVED.label),
            (Journey.Status.DRAFT.value, Journey.Status.DRAFT.label),
        ],
        widget=forms.RadioSelect,
        initial="archived",
    )


class JourneyDetailsForm(forms.Form):
    """The journey's own fields; `version` is the one the editor loaded (optimistic locking)."""

    name = forms.CharField(label=pgettext_lazy("name of a thing", "Name"), max_length=160)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    store: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Store.objects.none(),
        required=False,
        empty_label=_("No store (draft)"),
    )
    personas: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label=_("Personas"),
        queryset=Persona.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        # Ids of their own: the map editor on the same page has fields of its own.
        kwargs.setdefault("auto_id", "journey-details-%s")
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = store_list(organisation=organisation)  # type: ignore[attr-defined]
        self.fields["personas"].queryset = selectors.persona_list(organisation=organisation)  # type: ignore[attr-defined]

    @classmethod
    def for_journey(cls, journey: Journey, *, organisation: Organisation) -> JourneyDetailsForm:
        """Unbound, showing the journey as saved; `journey` has its personas prefetched."""
        return cls(
            organisation=organisation,
            initial={
                "name": journey.name,
                "description": journey.description,
                "store": journey.store_id,
                "personas": [p.pk for p in journey.personas.all()],
                "version": journey.version,
            },
        )


class PersonaForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("name of a person", "Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Who they are: age, situation, how they shop."),
    )
    goals = forms.CharField(
        label=_("Goals"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What they want to get done."),
    )
    frustrations = forms.CharField(
        label=_("Frustrations"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What gets in their way."),
    )


class ExperimentForm(forms.Form):
    touchpoint: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Touchpoint"), queryset=Touchpoint.objects.none()
    )
    title = forms.CharField(label=_("Title"), max_length=160)
    change = forms.CharField(
        label=_("What changed"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    started_on = forms.DateField(
        label=_("Went live on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The day in the store's time zone."),
    )
    ended_on = forms.DateField(
        label=_("Ended on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    metric = forms.ChoiceField(label=_("Metric it should move"), choices=Experiment.Metric.choices)
    window_days = forms.IntegerField(
        label=_("Days before and after"),
        min_value=Experiment.WINDOW_DAYS_MIN,
        max_value=Experiment.WINDOW_DAYS_MAX,
        initial=Experiment.WINDOW_DAYS_DEFAULT,
    )

    def __init__(self, *args: Any, journey: Journey | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        touchpoints = (
            Touchpoint.objects.filter(stage__journey=journey)
            .select_related("stage")
            .order_by("stage__position", "stage_id", "position", "id")
            if journey is not None
            else Touchpoint.objects.none()
        )
        field = self.fields["touchpoint"]
        field.queryset = touchpoints  # type: ignore[attr-defined]
        field.label_from_instance = lambda t: f"{t.stage} · {t.name}"  # type: ignore[attr-defined]


class ExperimentEditForm(ExperimentForm):
    """An experiment's own fields; the touchpoint it was recorded on stays."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, journey=None, **kwargs)
        del self.fields["touchpoint"]
