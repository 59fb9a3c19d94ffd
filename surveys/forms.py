"""Forms of the survey pages. They only parse and shape input; the services validate the
survey's rules (languages, choice counts, activation) and the views show their messages."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation, Store
from accounts.selectors import store_list
from journeys.models import Moment, Touchpoint
from surveys.blueprints import TEMPLATES
from surveys.imports import FIELD_LABELS, detect_columns
from surveys.models import SURVEY_LANGUAGES, Question, StoreSurveySettings, Survey

LANGUAGE_NAMES = dict(settings.LANGUAGES)
LANGUAGE_CHOICES = [(code, LANGUAGE_NAMES[code]) for code in SURVEY_LANGUAGES]
CHOICE_TYPES = (Question.Type.SINGLE_CHOICE, Question.Type.MULTIPLE_CHOICE)
# Offered as suggestions for the trigger; a store may send and map any other event name.
TRIGGER_EVENTS = [
    "purchase",
    "shipped",
    "out_for_delivery",
    "delivered",
    "support_contact",
    "return_requested",
    "review_posted",
    "repeat_purchase",
]
MAX_DELAY_HOURS = 24 * 90


def language_label(code: str) -> str:
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


class StoreChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Store.objects.none(), **kwargs)


class SurveyFilterForm(forms.Form):
    store = StoreChoiceField(label=_("Store"), required=False, empty_label=_("All stores"))
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Survey.Status.choices]
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = store_list(organisation=organisation)  # type: ignore[attr-defined]


class SurveyCreateForm(forms.Form):
    store = StoreChoiceField(label=_("Store"), empty_label=None)
    template = forms.ChoiceField(
        label=_("Template"), widget=forms.RadioSelect, initial="post-purchase-csat"
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=LANGUAGE_CHOICES,
        initial=["en"],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one language.")},
    )
    name = forms.CharField(
        label=pgettext_lazy("name of a thing", "Name"),
        max_length=160,
        required=False,
        help_text=_("Leave empty to use the template's name."),
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        # Its own ids: the list's filter form beside it has a store field too.
        kwargs.setdefault("auto_id", "new-survey-%s")
        super().__init__(*args, **kwargs)
        stores = store_list(organisation=organisation)
        self.fields["store"].queryset = stores  # type: ignore[attr-defined]
        self.fields["template"].choices = [  # type: ignore[attr-defined]
            (key, blueprint["label"]) for key, blueprint in TEMPLATES.items()
        ]
        # Ticked at first: the language of the chosen store's buyers, and English for everyone
        # else; every template has all six, a click away. The store chosen at first is the
        # list's first; static/js/survey-create.js ticks another store's language when the
        # store changes (store_languages), unless the user ticked or unticked it.
        self.store_languages = {store.pk: store.default_language for store in stores}
        first = next(iter(self.store_languages), None)
        self.fields["store"].initial = first
        spoken = {self.store_languages.get(first), "en"} if first else {"en"}
        self.fields["languages"].initial = [c for c in SURVEY_LANGUAGES if c in spoken]

    def template_options(self) -> list[tuple[Any, str]]:
        """Each template's radio button with its description."""
        descriptions = [str(t.get("description", "")) for t in TEMPLATES.values()]
        return list(zip(self["template"], descriptions, strict=True))


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class SurveySettingsForm(forms.Form):
    """The survey's settings; per-language email texts for each of the survey's languages."""

    name = forms.CharField(label=pgettext_lazy("name of a thing", "Name"), max_length=160)
    moment = forms.ChoiceField(
        label=_("Moment of truth"),
        required=False,
        choices=[("", _("None: a custom stage")), *Moment.choices],
    )
    custom_stage = forms.CharField(
        label=_("Custom stage"),
        max_length=120,
        required=False,
        help_text=_("Only when the survey measures a stage without a moment code."),
    )
    touchpoint = forms.ModelChoiceField(
        label=_("Touchpoint"),
        queryset=Touchpoint.objects.none(),
        required=False,
        empty_label=_("No touchpoint"),
        help_text=_("From the store's journey maps; shown beside the answers in the results."),
    )
    trigger_event = forms.CharField(
        label=_("Trigger event"),
        max_length=64,
        required=False,
        help_text=_("The event from the store that starts the survey, e.g. delivered."),
        widget=forms.TextInput(attrs={"list": "trigger-events", "autocomplete": "off"}),
    )
    delay_hours = forms.IntegerField(
        label=_("Delay after the event (hours)"), min_value=0, max_value=MAX_DELAY_HOURS
    )
    reminder_after_days = forms.IntegerField(
        label=_("Remind non-responders after (days)"),
        min_value=1,
        max_value=60,
        required=False,
        help_text=_("Empty: no reminder. One reminder at most."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=LANGUAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one language.")},
    )
    default_language = forms.ChoiceField(label=_("Default language"), choices=LANGUAGE_CHOICES)

    TEXT_FIELDS = (
        ("email_subject", _("Email subject"), forms.TextInput),
        ("email_intro", _("Email introduction"), forms.Textarea),
        ("thank_you_text", _("Thank-you text"), forms.Textarea),
    )

    def __init__(self, *args: Any, survey: Survey, **kwargs: Any) -> None:
        self.survey = survey
        initial = {
            "name": survey.name,
            "moment": survey.moment,
            "custom_stage": survey.custom_stage,
            "touchpoint": survey.touchpoint_id,
            "trigger_event": survey.trigger_event,
            "delay_hours": int(survey.delay.total_seconds() // 3600),
            "reminder_after_days": survey.reminder_after_days,
            "languages": survey.languages,
            "default_language": survey.default_language,
        }
        for field, _label, _widget in self.TEXT_FIELDS:
            values = getattr(survey, field) or {}
            for code in survey.languages:
                initial[f"{field}_{code}"] = values.get(code, "")
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.fields["touchpoint"].queryset = (  # type: ignore[attr-defined]
            Touchpoint.objects.filter(
                stage__journey__organisation_id=survey.organisation_id,
                stage__journey__store_id=survey.store_id,
            )
            .select_related("stage__journey")
            .order_by("stage__journey__name", "stage__position", "position", "id")
        )
        self.fields["touchpoint"].label_from_instance = (  # type: ignore[attr-defined]
            lambda tp: f"{tp.stage.journey.name} › {tp.stage.name} › {tp.name}"
        )
        for field, label, widget in self.TEXT_FIELDS:
            for code in survey.languages:
                attrs = {"rows": 3} if widget is forms.Textarea else {}
                self.fields[f"{field}_{code}"] = forms.CharField(
                    label=f"{label} · {language_label(code)}",
                    required=False,
                    max_length=2000,
                    widget=widget(attrs={**attrs, "lang": code, "data-language": code}),
                )

    def language_fields(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """Per language: its code, name and email texts (for the language panels)."""
        return [
            (
                code,
                language_label(code),
                [self[f"{field}_{code}"] for field, _label, _widget in self.TEXT_FIELDS],
            )
            for code in self.survey.languages
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        languages = data.get("languages") or []
        if data.get("default_language") and languages and data["default_language"] not in languages:
            self.add_error(
                "default_language",
                _("The default language must be one of the survey's languages."),
            )
        return data

    def survey_fields(self) -> dict[str, Any]:
        """The cleaned input as survey_update() keyword arguments."""
        data = self.cleaned_data
        fields: dict[str, Any] = {
            "name": data["name"].strip(),
            "moment": data["moment"] or "",
            "custom_stage": "" if data["moment"] else data["custom_stage"].strip(),
            "touchpoint": data["touchpoint"],
            "trigger_event": data["trigger_event"].strip(),
            "delay": timedelta(hours=data["delay_hours"]),
            "reminder_after_days": data["reminder_after_days"],
            "languages": list(data["languages"]),
            "default_language": data["default_language"],
        }
        for field, _label, _widget in self.TEXT_FIELDS:
            # Texts of languages that are not shown are kept; a removed language's texts too,
            # so that adding it back restores them.
            values = dict(getattr(self.survey, field) or {})
            for code in self.survey.languages:
                text = data.get(f"{field}_{code}", "").strip()
                if text:
                    values[code] = text
                else:
                    values.pop(code, None)
            fields[field] = values
        return fields


class QuestionForm(forms.Form):
    """One question: its text and choices in each of the survey's languages."""

    type = forms.ChoiceField(label=_("Type"), choices=Question.Type.choices)
    required = forms.BooleanField(label=_("Required"), required=False)

    def __init__(
        self, *args: Any, survey: Survey, question: Question | None = None, **kwargs: Any
    ) -> None:
        self.survey = survey
        self.question = question
        initial: dict[str, Any] = {"type": Question.Type.RATING, "required": True}
        if question is not None:
            initial = {"type": question.type, "required": question.required}
            for code in survey.languages:
                initial[f"text_{code}"] = (question.text or {}).get(code, "")
                initial[f"choices_{code}"] = "\n".join((question.choices or {}).get(code, []))
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        if question is not None:
            # The type is fixed once answers may exist; a different kind is a new question.
            del self.fields["type"]
        for code in survey.languages:
            self.fields[f"text_{code}"] = forms.CharField(
                label=_("Question · %(language)s") % {"language": language_label(code)},
                required=False,
                max_length=500,
                widget=forms.Textarea(attrs={"rows": 2, "lang": code, "data-language": code}),
            )
            if self.has_choices:
                self.fields[f"choices_{code}"] = forms.CharField(
                    label=_("Choices · %(language)s") % {"language": language_label(code)},
                    help_text=_("One per line, in the same order in every language."),
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 4, "lang": code, "data-language": code}),
                )

    @property
    def has_choices(self) -> bool:
        """Choice fields: for a choice question, and on the new-question form (any type)."""
        return self.question is None or self.question.type in CHOICE_TYPES

    def language_fields(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        return [
            (
                code,
                language_label(code),
                [self[f"text_{code}"], *([self[f"choices_{code}"]] if self.has_choices else [])],
            )
            for code in self.survey.languages
        ]

    def question_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = self.question.type if self.question is not None else data["type"]
        fields: dict[str, Any] = {
            "required": data["required"],
            "text": {
                code: data[f"text_{code}"].strip()
                for code in self.survey.languages
                if data.get(f"text_{code}", "").strip()
            },
        }
        if self.question is None:
            fields["type"] = kind
        if kind in CHOICE_TYPES:
            fields["choices"] = {
                code: _lines(data.get(f"choices_{code}", ""))
                for code in self.survey.languages
                if _lines(data.get(f"choices_{code}", ""))
            }
        if self.question is not None:
            # Texts of languages the survey no longer has are kept, as on the survey.
            fields["text"] = {
                **{
                    k: v
                    for k, v in (self.question.text or {}).items()
                    if k not in self.survey.languages
                },
                **fields["text"],
            }
        return fields


class PreviewForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)

    def __init__(self, *args: Any, survey: Survey, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"language": survey.default_language})
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [  # type: ignore[attr-defined]
            (code, LANGUAGE_NAMES.get(code, code)) for code in survey.languages
        ]

    def chosen_language(self, survey: Survey) -> str:
        if self.is_valid() and self.cleaned_data.get("language"):
            return str(self.cleaned_data["language"])
        return survey.default_language


# Periods are days in this range: far wider than any store's history, and narrow enough that
# a day plus one or a time-zone shift never leaves the years Python and PostgreSQL can hold.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


def validate_period_day(day: date) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(
            _("Choose a day from %(first)s to %(last)s.")
            % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}
        )


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_period_day],
    )
    end = forms.DateField(
        label=_("To (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_period_day],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError(_("The end date is before the start date."))
        return data

    def bounds(self, time_zone: str) -> tuple[datetime | None, datetime | None]:
        """[start, end) as aware datetimes at midnight in the store's time zone."""
        if not self.is_valid():
            return None, None
        zone = ZoneInfo(time_zone or "UTC")

        def midnight(day: date | None, plus_days: int = 0) -> datetime | None:
            if day is None:
                return None
            return datetime.combine(day + timedelta(days=plus_days), time.min, tzinfo=zone)

        return midnight(self.cleaned_data.get("start")), midnight(self.cleaned_data.get("end"), 1)


class ContactFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    store = StoreChoiceField(label=_("Store"), required=False, empty_label=_("All stores"))

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = store_list(organisation=organisation)  # type: ignore[attr-defined]


class ContactForm(forms.Form):
    store = StoreChoiceField(label=_("Store"), empty_label=None)
    email = forms.CharField(label=_("Email"), max_length=254)
    name = forms.CharField(
        label=pgettext_lazy("name of a person", "Name"), max_length=160, required=False
    )
    customer_key = forms.CharField(
        label=_("Customer key"),
        max_length=128,
        required=False,
        help_text=_("The customer id the store's events carry for this person."),
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("Store default")), *LANGUAGE_CHOICES]
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = store_list(organisation=organisation)  # type: ignore[attr-defined]


class SendForm(forms.Form):
    """Who gets the survey now: the ticked contacts (`contacts`, ids), or everyone."""

    everyone = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = self.data.getlist("contacts") if hasattr(self.data, "getlist") else []
        try:
            data["contact_ids"] = sorted({int(value) for value in raw})
        except (TypeError, ValueError):
            raise ValidationError(_("Choose the contacts to send the survey to.")) from None
        if not data.get("everyone") and not data["contact_ids"]:
            raise ValidationError(_("Choose the contacts to send the survey to."))
        return data


class ContactImportForm(forms.Form):
    KINDS = [
        ("contacts", _("Contacts: add new addresses, update known ones")),
        ("bounces", _("Bounced or complained addresses: never email them again")),
    ]

    store = StoreChoiceField(label=_("Store"), empty_label=None)
    kind = forms.ChoiceField(
        label=_("Contents of the file"), choices=KINDS, initial="contacts", widget=forms.RadioSelect
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Comma, semicolon or tab separated, from Excel or your shop. Columns are recognised "
            "by their headers in any of the six languages: email, customer key, name, language."
        ),
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = store_list(organisation=organisation)  # type: ignore[attr-defined]


# What a column of a contacts file can be imported as (surveys.imports.FIELDS, or nothing).
COLUMN_TARGETS = [
    *FIELD_LABELS.items(),
    ("ignore", _("Ignore this column")),
]
SAMPLES_SHOWN = 3


class ContactMappingForm(forms.Form):
    """Step 2 of a contacts import: what each column of the uploaded file holds, one select
    per column (`column_0`, `column_1`...), preset to what the headers suggest.

    `upload` carries the signed file from step 1 (see views.contact_import); `file` asks for
    the same file again when it was too large to carry. A file without a header row (bare
    addresses) has no selects: its column of addresses is the email, the rest is ignored.
    """

    upload = forms.CharField(widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, preview: dict[str, Any], needs_file: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.header: list[str] = list(preview["header"])
        self.headerless = bool(preview.get("headerless"))
        self.needs_file = needs_file
        if needs_file:
            self.fields["file"] = forms.FileField(
                label=_("The same CSV file again"),
                help_text=_(
                    "The file is too large to keep between the two steps: choose it again."
                ),
            )
        detected = {} if self.headerless else detect_columns(self.header)
        self.email_detected = "email" in detected.values()
        self.columns: list[tuple[forms.BoundField, list[str]]] = []
        if self.headerless:
            return
        rows: list[list[str]] = preview["rows"]
        for index, header in enumerate(self.header):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or _("Column %(number)s (no header)") % {"number": index + 1},
                choices=COLUMN_TARGETS,
                initial=detected.get(index, "ignore"),
                # The sample values below the select; the id is the template's.
                widget=forms.Select(attrs={"aria-describedby": f"id_{name}-samples"}),
            )
            samples = [row[index].strip() for row in rows if index < len(row)]
            self.columns.append((self[name], [v for v in samples if v][:SAMPLES_SHOWN]))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = {
            index: data.get(f"column_{index}", "ignore") for index in range(len(self.columns))
        }
        labels = dict(COLUMN_TARGETS)
        for target in ("email", "customer_key", "language"):
            if list(chosen.values()).count(target) > 1:
                self.add_error(
                    None,
                    _("Only one column can be imported as “%(field)s”.")
                    % {"field": labels[target]},
                )
        # The importer names columns by their header: same-named ones cannot differ.
        by_header: dict[str, set[str]] = {}
        for index, target in chosen.items():
            by_header.setdefault(self.header[index].strip(), set()).add(target)
        for header, targets in by_header.items():
            if len(targets) > 1 and header:
                self.add_error(
                    None,
                    _(
                        "Several columns are headed “%(header)s”: import them the same way, or "
                        "rename them in the file."
                    )
                    % {"header": header},
                )
            elif len(targets) > 1:
                self.add_error(
                    None,
                    _(
                        "Several columns have no header: import them the same way, or give "
                        "them headers in the file."
                    ),
                )
        return data

    def mapping(self) -> dict[str, str] | None:
        """The importer's `mapping` (header -> field or "ignore"); None for a file without a
        header row, whose addresses the importer finds by itself."""
        if self.headerless:
            return None
        return {
            self.header[index]: self.cleaned_data[f"column_{index}"]
            for index in range(len(self.columns))
        }


class StoreSurveySettingsForm(forms.Form):
    """A store's sending settings. The service checks the limits and shows its messages on
    the fields; min and max here only help browsers and phones (a number keypad)."""

    sender_name = forms.CharField(
        label=_("Sender name"),
        max_length=120,
        required=False,
        help_text=_("Shown as the From name of the survey emails. Empty: the store's name."),
    )
    reply_to = forms.EmailField(
        label=_("Reply-to address"),
        required=False,
        help_text=_(
            "Where a customer's reply to a survey email goes, e.g. your support address. "
            "Empty: to the address the emails are sent from."
        ),
    )
    fatigue_days = forms.IntegerField(
        label=_("Fatigue cap: days before a customer can get another survey"),
        help_text=_(
            "Across all of the store's surveys: a customer who was sent a survey in this many "
            "days is not sent another one. From 1 to 365."
        ),
    )
    send_rate_per_minute = forms.IntegerField(
        label=_("Emails per minute at most"),
        help_text=_("Keeps large sends within your email provider's limits. From 1 to 10,000."),
    )

    def __init__(self, *args: Any, current: StoreSurveySettings, **kwargs: Any) -> None:
        kwargs["initial"] = {
            "sender_name": current.sender_name,
            "reply_to": current.reply_to,
            "fatigue_days": current.fatigue_days,
            "send_rate_per_minute": current.send_rate_per_minute,
        }
        super().__init__(*args, **kwargs)
        self.fields["sender_name"].widget.attrs.update(
            {"placeholder": current.store.name, "autocomplete": "organization"}
        )
        for name, (low, high) in (
            ("fatigue_days", StoreSurveySettings.FATIGUE_DAYS_RANGE),
            ("send_rate_per_minute", StoreSurveySettings.SEND_RATE_RANGE),
        ):
            self.fields[name].widget.attrs.update({"min": low, "max": high, "inputmode": "numeric"})
