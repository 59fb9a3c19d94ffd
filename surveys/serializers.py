"""Serializers for the survey API: input validation and the shapes of the answers.

The result serializers only describe what surveys.selectors returns, for the OpenAPI schema.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Store
from core.api import MAX_LIST_ITEMS
from journeys.models import Moment
from surveys.blueprints import TEMPLATES
from surveys.forms import validate_period_day
from surveys.models import (
    CommentThemeResult,
    Contact,
    Invitation,
    Question,
    StoreSurveySettings,
    Survey,
)

TEXTS_HELP = "Per language: {language code: text}."


@extend_schema_field(OpenApiTypes.FLOAT)
class HoursField(serializers.Field):
    """A duration as a number of hours."""

    def to_representation(self, value: timedelta) -> float:
        return value.total_seconds() / 3600

    def to_internal_value(self, data: Any) -> timedelta:
        try:
            hours = float(data)
        except (TypeError, ValueError):
            raise serializers.ValidationError(_("Give a number of hours.")) from None
        if not 0 <= hours <= 24 * 365:
            raise serializers.ValidationError(_("Give between 0 and 8760 hours."))
        return timedelta(hours=hours)


class StoreSurveySettingsSerializer(serializers.ModelSerializer):
    """A store's sending settings. The limits are the service's, with its messages."""

    sender_name = serializers.CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        help_text="The From name of the survey emails; empty: the store's name.",
    )
    reply_to = serializers.EmailField(
        required=False, allow_blank=True, help_text="Where replies go; empty: no Reply-To."
    )
    fatigue_days = serializers.IntegerField(
        required=False,
        help_text="Survey a customer at most once per this many days, across the store's "
        "surveys: 1 to 365.",
    )
    send_rate_per_minute = serializers.IntegerField(
        required=False, help_text="Emails per minute at most: 1 to 10,000."
    )

    class Meta:
        model = StoreSurveySettings
        fields = ["store", "sender_name", "reply_to", "fatigue_days", "send_rate_per_minute"]
        read_only_fields = ["store"]


class QuestionSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(choices=Question.Type.choices)
    text = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=1000), help_text=TEXTS_HELP
    )
    choices = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=200), max_length=20),
        required=False,
        default=dict,
        help_text="Choice questions: {language code: [choice, ...]}, the same number of "
        "choices in every language.",
    )

    class Meta:
        model = Question
        fields = ["id", "survey", "position", "type", "required", "text", "choices"]
        read_only_fields = ["id", "survey", "position"]


class QuestionCreateSerializer(QuestionSerializer):
    survey = serializers.PrimaryKeyRelatedField(queryset=Survey.objects.none())
    position = serializers.IntegerField(min_value=0, required=False)

    class Meta(QuestionSerializer.Meta):
        read_only_fields = ["id"]


class SurveySerializer(serializers.ModelSerializer):
    moment = serializers.ChoiceField(choices=[("", ""), *Moment.choices], default="")
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=settings.LANGUAGES), required=False
    )
    default_language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    delay_hours = HoursField(
        source="delay",
        required=False,
        help_text="Hours between the triggering event and the invitation.",
    )
    email_subject = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=200),
        required=False,
        help_text=TEXTS_HELP,
    )
    email_intro = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        required=False,
        help_text=TEXTS_HELP,
    )
    thank_you_text = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        required=False,
        help_text=TEXTS_HELP,
    )
    store_name = serializers.CharField(source="store.name", read_only=True)
    touchpoint_name = serializers.CharField(source="touchpoint.name", read_only=True, default="")
    questions = QuestionSerializer(many=True, read_only=True)

    class Meta:
        model = Survey
        fields = [
            "id",
            "store",
            "store_name",
            "name",
            "kind",
            "status",
            "moment",
            "custom_stage",
            "touchpoint",
            "touchpoint_name",
            "trigger_event",
            "delay_hours",
            "reminder_after_days",
            "languages",
            "default_language",
            "email_subject",
            "email_intro",
            "thank_you_text",
            "template_key",
            "created_at",
            "updated_at",
            "questions",
        ]
        read_only_fields = ["id", "status", "template_key", "created_at", "updated_at"]


class SurveyListSerializer(SurveySerializer):
    class Meta(SurveySerializer.Meta):
        fields = [f for f in SurveySerializer.Meta.fields if f != "questions"]


class SurveyUpdateSerializer(SurveySerializer):
    class Meta(SurveySerializer.Meta):
        read_only_fields = [*SurveySerializer.Meta.read_only_fields, "store", "kind"]


class SurveyCreateSerializer(SurveySerializer):
    """Either `template` (with `store`, optional `languages` and `name`) or the fields."""

    template = serializers.ChoiceField(
        choices=list(TEMPLATES),
        required=False,
        write_only=True,
        help_text="Create from this template (see surveys/templates/).",
    )
    name = serializers.CharField(max_length=160, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=Survey.Kind.choices, required=False)

    class Meta(SurveySerializer.Meta):
        fields = [*SurveySerializer.Meta.fields, "template"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("template"):
            errors = {}
            if not (attrs.get("name") or "").strip():
                errors["name"] = _("Give the survey a name, or choose a template.")
            if not attrs.get("kind"):
                errors["kind"] = _("Choose the survey's kind, or a template.")
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class SurveyStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Survey.Status.choices)


class QuestionReorderSerializer(serializers.Serializer):
    order = serializers.ListField(
        child=serializers.IntegerField(), help_text="Every question id, in the new order."
    )


class SurveyTemplateSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=Survey.Kind.choices)
    moment = serializers.ChoiceField(choices=Moment.choices)
    trigger_event = serializers.CharField()
    delay_hours = serializers.IntegerField()


class SendSerializer(serializers.Serializer):
    contact_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        default=list,
        max_length=MAX_LIST_ITEMS,
        help_text=f"At most {MAX_LIST_ITEMS:,} in one request; `all: true` for every contact.",
    )
    all = serializers.BooleanField(
        required=False, default=False, help_text="Every contact of the survey's store."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs["contact_ids"]) == attrs["all"]:
            raise serializers.ValidationError(
                {"contact_ids": _("Give contact_ids, or all: true, not both.")}
            )
        return attrs


class SendResultSerializer(serializers.Serializer):
    """What a send did. A contact that already has an invitation for the survey is not
    invited again; one over the store's fatigue cap gets an invitation that is never emailed."""

    invitations_created = serializers.SerializerMethodField(
        help_text="Invitations created: `queued` plus `capped`."
    )
    queued = serializers.IntegerField(help_text="Invitations queued: sent within a minute.")
    capped = serializers.IntegerField(
        help_text="Invitations created as `capped`: the contact was surveyed within the store's "
        "fatigue window (`fatigue_days`, by any survey), so no email is sent."
    )
    already_invited = serializers.IntegerField(
        help_text="Contacts left out: they already have an invitation for this survey that is "
        "waiting, sent or answered (one `capped` or `failed` does not count)."
    )

    def get_invitations_created(self, summary: Any) -> int:
        return len(summary.invitations)


class SurveyInvitationSerializer(serializers.ModelSerializer):
    contact_email = serializers.EmailField(source="contact.email", read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "survey",
            "contact",
            "contact_email",
            "status",
            "language",
            "trigger_event",
            "triggered_at",
            "due_at",
            "attempts",
            "last_error",
            "sent_at",
            "opened_at",
            "answered_at",
            "reminder_sent_at",
            "created_at",
        ]
        read_only_fields = fields


class ContactSerializer(serializers.ModelSerializer):
    store = serializers.PrimaryKeyRelatedField(queryset=Store.objects.none())
    language = serializers.ChoiceField(
        choices=[("", ""), *settings.LANGUAGES], required=False, default=""
    )

    class Meta:
        model = Contact
        fields = [
            "id",
            "store",
            "email",
            "customer_key",
            "name",
            "language",
            "unsubscribed_at",
            "suppressed_at",
            "suppression_reason",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "unsubscribed_at",
            "suppressed_at",
            "suppression_reason",
            "created_at",
        ]
        # The address is the identity within a store (contact_upsert): uniqueness is the
        # service's concern, not a validation error.
        validators: list[Any] = []


class ContactUpdateSerializer(ContactSerializer):
    class Meta(ContactSerializer.Meta):
        read_only_fields = [*ContactSerializer.Meta.read_only_fields, "store", "email"]


class TriggerSerializer(serializers.Serializer):
    store = serializers.PrimaryKeyRelatedField(
        queryset=Store.objects.none(),
        required=False,
        help_text="Members' sessions only: the store. A secret key acts for its own store.",
    )
    customer_key = serializers.CharField(max_length=128, required=False, default="")
    email = serializers.EmailField(required=False, default="")
    event = serializers.CharField(max_length=64, help_text="The event's name, e.g. `delivered`.")
    occurred_at = serializers.DateTimeField(
        required=False, help_text="When the event happened (ISO 8601); now if left out."
    )
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, allow_blank=True, default=""
    )
    name = serializers.CharField(max_length=160, required=False, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["customer_key"].strip() and not attrs["email"]:
            raise serializers.ValidationError(
                {"customer_key": _("Give the customer's key or email address (or both).")}
            )
        attrs["customer_key"] = attrs["customer_key"].strip()
        attrs.setdefault("occurred_at", timezone.now())
        return attrs


class TriggeredInvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = ["id", "survey", "due_at", "status"]
        read_only_fields = fields


class TriggerResultSerializer(serializers.Serializer):
    invitations = TriggeredInvitationSerializer(many=True)


# --- Periods


def _day_start(value: Any, zone: ZoneInfo) -> datetime:
    return datetime.combine(value, time.min, tzinfo=zone)


class PeriodSerializer(serializers.Serializer):
    """`start` and `end` as ISO dates (days in the store's time zone; `end` is included) or
    ISO datetimes (`end` excluded). Either may be left out."""

    start = serializers.CharField(required=False)
    end = serializers.CharField(required=False)

    def __init__(self, *args: Any, time_zone: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(time_zone)

    def _moment(self, value: str, *, is_end: bool) -> datetime:
        try:
            day = parse_date(value) if len(value) == 10 else None
            moment = None if day is not None else parse_datetime(value)
        except ValueError:  # well formed, but no such day or time
            day = moment = None
        if day is not None:
            checked = day
        elif moment is not None:
            checked = moment.date()
        else:
            raise serializers.ValidationError(
                _("Use an ISO date (2025-05-31) or date and time (2025-05-31T12:00:00Z).")
            )
        try:
            validate_period_day(checked)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        if day is not None:
            return _day_start(day + timedelta(days=1) if is_end else day, self.zone)
        assert moment is not None  # checked above
        return moment if timezone.is_aware(moment) else moment.replace(tzinfo=self.zone)

    def validate_start(self, value: str) -> datetime:
        return self._moment(value.strip(), is_end=False)

    def validate_end(self, value: str) -> datetime:
        return self._moment(value.strip(), is_end=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("start") and attrs.get("end") and attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"end": _("The end must be after the start.")})
        return attrs


# --- Results (described for the schema; built by surveys.selectors)


class ProportionSerializer(serializers.Serializer):
    successes = serializers.IntegerField()
    total = serializers.IntegerField()
    value = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True, help_text="Wilson 95 % interval")
    high = serializers.FloatField(allow_null=True, help_text="Wilson 95 % interval")


def _sd_field() -> serializers.FloatField:
    return serializers.FloatField(
        allow_null=True,
        help_text="Sample standard deviation (n − 1); null below 2 answers. With `mean` and "
        "`count` it is what Welch's test needs to compare two periods.",
    )


class CsatSerializer(serializers.Serializer):
    share = ProportionSerializer(help_text="Answers of 4 or 5 on the 1–5 scale")
    mean = serializers.FloatField(allow_null=True)
    sd = _sd_field()
    count = serializers.IntegerField()


class NpsSerializer(serializers.Serializer):
    score = serializers.FloatField(allow_null=True, help_text="−100 to +100")
    promoters = ProportionSerializer()
    passives = ProportionSerializer()
    detractors = ProportionSerializer()
    count = serializers.IntegerField()


class CesSerializer(serializers.Serializer):
    mean = serializers.FloatField(allow_null=True, help_text="On the 1–7 scale")
    sd = _sd_field()
    count = serializers.IntegerField()


class ChoiceResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()
    share = ProportionSerializer()


class TextAnswerSerializer(serializers.Serializer):
    text = serializers.CharField()
    language = serializers.CharField()
    answered_at = serializers.DateTimeField()
    touchpoint = serializers.CharField()


class QuestionResultSerializer(serializers.Serializer):
    """`csat`, `nps` or `ces` for scales; `choices` for choice questions; `answers` (the
    newest 200) for free text. `count`: answers in the period (choices and free text)."""

    id = serializers.IntegerField()
    position = serializers.IntegerField()
    type = serializers.ChoiceField(choices=Question.Type.choices)
    text = serializers.CharField()
    csat = CsatSerializer(required=False)
    nps = NpsSerializer(required=False)
    ces = CesSerializer(required=False)
    count = serializers.IntegerField(required=False)
    choices = ChoiceResultSerializer(many=True, required=False)
    answers = TextAnswerSerializer(many=True, required=False)


class SurveyResultsSerializer(serializers.Serializer):
    survey = serializers.IntegerField()
    start = serializers.DateTimeField(allow_null=True)
    end = serializers.DateTimeField(allow_null=True)
    delivered = serializers.IntegerField(help_text="Invitations sent, opened or answered")
    responses = serializers.IntegerField(help_text="Responses submitted in the period")
    response_rate = ProportionSerializer(
        help_text="Of the invitations delivered in the period, the share answered"
    )
    csat = CsatSerializer(allow_null=True, help_text="The first rating question's")
    nps = NpsSerializer(allow_null=True, help_text="The first NPS question's")
    ces = CesSerializer(allow_null=True, help_text="The first CES question's")
    questions = QuestionResultSerializer(many=True)


class MomentResultsSerializer(serializers.Serializer):
    moment = serializers.CharField(help_text="A moment code, or empty for a custom stage")
    custom_stage = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    surveys = serializers.IntegerField()
    delivered = serializers.IntegerField()
    responses = serializers.IntegerField()
    response_rate = ProportionSerializer()
    csat = CsatSerializer()
    nps = NpsSerializer()
    ces = CesSerializer()


# --- Comment themes


class CommentThemesQuerySerializer(serializers.Serializer):
    stage = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="A stage of the store's active journey (the funnel's `stages` ids): its "
        "moment code, or a custom stage's name, selects its surveys' answers.",
    )
    moment = serializers.ChoiceField(
        choices=Moment.choices,
        required=False,
        help_text="Instead of `stage`: the surveys of this moment of truth, whatever the map.",
    )
    period = serializers.ChoiceField(
        choices=CommentThemeResult.Period.choices,
        default=CommentThemeResult.Period.LAST_90,
        help_text="last_90: the last 90 days (days in the store's time zone) up to the "
        "computation; all_time: every answer until it.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "stage" in attrs and "moment" in attrs:
            raise serializers.ValidationError({"moment": [_("Give the stage or the moment.")]})
        return attrs


class ThemeScoreSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Answers whose response has a score on the scale")
    mean = serializers.FloatField(help_text="Their mean score, to 2 places")


class ThemeScoresSerializer(serializers.Serializer):
    """Per scale, the mean of the responses' headline scores (each survey's first question of
    the scale); null where none of the answers' responses has one. Scales are never mixed:
    a stage asked with a CSAT survey and a CES survey has both."""

    csat = ThemeScoreSerializer(allow_null=True, help_text="Rating 1–5")
    nps = ThemeScoreSerializer(allow_null=True, help_text="Likelihood to recommend 0–10")
    ces = ThemeScoreSerializer(allow_null=True, help_text="Ease 1–7")


class ThemeExampleSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="As the buyer wrote it (never who wrote it)")
    answered_at = serializers.DateTimeField()
    language = serializers.CharField()


class CommentThemeSerializer(serializers.Serializer):
    phrase = serializers.CharField(help_text="A word's lemma, or two words' lemmas")
    words = serializers.IntegerField(help_text="1 for a word, 2 for a two-word phrase")
    answers = serializers.IntegerField(help_text="Answers that use it (once per answer)")
    share = ProportionSerializer(help_text="Of the stage's answers in this language")
    scores = ThemeScoresSerializer()
    examples = ThemeExampleSerializer(
        many=True, help_text="Up to 3 answers that use it, newest first"
    )


class CommentThemeLanguageSerializer(serializers.Serializer):
    language = serializers.CharField(help_text="The answers' language (the response's)")
    answers = serializers.IntegerField(help_text="The stage's free-text answers in it")
    scores = ThemeScoresSerializer(help_text="Of all those answers, to compare with")
    themes = CommentThemeSerializer(
        many=True, help_text="Used in 2 answers or more, most answers first; at most 50"
    )


class CommentThemeStageSerializer(serializers.Serializer):
    moment = serializers.CharField(help_text="A moment code, or empty for a custom stage")
    custom_stage = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    languages = CommentThemeLanguageSerializer(many=True, help_text="Most answers first")


class CommentThemesSerializer(serializers.Serializer):
    store = serializers.IntegerField()
    period = serializers.ChoiceField(choices=CommentThemeResult.Period.choices)
    start = serializers.DateTimeField(allow_null=True, help_text="Null for all time")
    computed_at = serializers.DateTimeField(
        allow_null=True,
        help_text="The period's end: the last computation (null before the first, or while "
        "the store has no free-text answer)",
    )
    stages = CommentThemeStageSerializer(many=True)
