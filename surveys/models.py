"""Post-purchase surveys: surveys and their questions, contacts, invitations, responses.

Per-stage results group by the survey's moment code, so they survive a journey being edited
or replaced.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation, Store
from journeys.models import Moment, Touchpoint

SURVEY_LANGUAGES = [code for code, _name in settings.LANGUAGES]


class StoreSurveySettings(models.Model):
    """A store's sending settings; created with defaults when first needed."""

    # What store_survey_settings_update accepts, inclusive. A rate of 0 would never send.
    FATIGUE_DAYS_RANGE = (1, 365)
    SEND_RATE_RANGE = (1, 10_000)

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="survey_settings")
    sender_name = models.CharField(_("sender name"), max_length=120, blank=True)
    reply_to = models.EmailField(_("reply-to address"), blank=True)
    # Fatigue cap: a contact is surveyed at most once per this many days, across all surveys.
    fatigue_days = models.PositiveSmallIntegerField(_("survey at most once per (days)"), default=30)
    send_rate_per_minute = models.PositiveIntegerField(_("emails per minute at most"), default=600)

    def __str__(self) -> str:
        return f"Survey settings of {self.store}"


class Survey(models.Model):
    class Kind(models.TextChoices):
        CSAT = "csat", _("Customer satisfaction (CSAT)")
        NPS = "nps", _("Net Promoter Score (NPS)")
        CES = "ces", _("Customer effort (CES)")
        CUSTOM = "custom", _("Custom")

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("survey status", "Draft")
        ACTIVE = "active", pgettext_lazy("survey status", "Active")
        PAUSED = "paused", pgettext_lazy("survey status", "Paused")
        CLOSED = "closed", pgettext_lazy("survey status", "Closed")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="surveys")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="surveys")
    name = models.CharField(_("name"), max_length=160)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    # The moment of truth it measures: a moment code, or a custom stage's name.
    moment = models.CharField(
        _("moment of truth"), max_length=5, choices=Moment.choices, blank=True
    )
    custom_stage = models.CharField(_("custom stage"), max_length=120, blank=True)
    touchpoint = models.ForeignKey(
        Touchpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="surveys"
    )
    trigger_event = models.CharField(_("trigger event"), max_length=64, blank=True)
    delay = models.DurationField(_("delay after the event"), default=timedelta(0))
    reminder_after_days = models.PositiveSmallIntegerField(
        _("remind non-responders after (days)"), null=True, blank=True
    )
    languages = ArrayField(models.CharField(max_length=8), default=list)
    default_language = models.CharField(max_length=8, default="en")
    # Per language: {"en": "...", "lt": "..."}
    email_subject = models.JSONField(default=dict, blank=True)
    email_intro = models.JSONField(default=dict, blank=True)
    thank_you_text = models.JSONField(default=dict, blank=True)
    template_key = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["store", "status", "trigger_event"])]

    def __str__(self) -> str:
        return self.name

    def text(self, field: str, language: str) -> str:
        """A per-language text, falling back to the survey's default language."""
        values: dict[str, str] = getattr(self, field) or {}
        return values.get(language) or values.get(self.default_language) or ""


class Question(models.Model):
    class Type(models.TextChoices):
        NPS = "nps", _("Likelihood to recommend, 0–10 (NPS)")
        RATING = "rating", _("Rating 1–5 (CSAT)")
        CES = "ces", _("Ease 1–7 (CES)")
        SINGLE_CHOICE = "single_choice", _("Single choice")
        MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
        FREE_TEXT = "free_text", _("Free text")

    SCALES = {Type.NPS: (0, 10), Type.RATING: (1, 5), Type.CES: (1, 7)}

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(default=0)
    type = models.CharField(max_length=16, choices=Type.choices)
    required = models.BooleanField(default=True)
    # {"en": "How likely...", "lt": "..."}
    text = models.JSONField(default=dict)
    # {"en": ["Price", "Delivery"], "lt": ["Kaina", "Pristatymas"]}: same length in every language;
    # answers store the index, so results add up across languages.
    choices = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text.get("en") or next(iter(self.text.values()), "")

    @property
    def scale(self) -> tuple[int, int] | None:
        return self.SCALES.get(self.type)  # type: ignore[call-overload]


class Contact(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="contacts"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="contacts")
    email = models.EmailField(_("email"))
    # The customer key the store's events carry for this person.
    customer_key = models.CharField(_("customer key"), max_length=128, blank=True)
    name = models.CharField(_("name"), max_length=160, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    suppressed_at = models.DateTimeField(null=True, blank=True)
    suppression_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "email"], name="contact_email_unique_in_store"
            ),
        ]
        indexes = [
            models.Index(fields=["store", "customer_key"]),
            # Bounce webhooks look an address up across stores.
            models.Index(fields=["email"], name="contact_email_idx"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def can_be_emailed(self) -> bool:
        return self.unsubscribed_at is None and self.suppressed_at is None


class Invitation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        CAPPED = "capped", _("Not sent: surveyed recently")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown: the server stopped while sending")
        OPENED = "opened", _("Opened")
        ANSWERED = "answered", _("Answered")
        BOUNCED = "bounced", _("Bounced")

    # Counted as delivered for the response rate.
    DELIVERED = (Status.SENT, Status.OPENED, Status.ANSWERED)

    # No index of their own: one_invitation_per_trigger starts with the survey and the
    # (contact, sent_at) index with the contact. Each index is written again when an answer
    # changes the status (indexed, so not a HOT update), on the public pages' hot path.
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="invitations", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="invitations", db_index=False
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    # The link token is HMAC(server key, nonce); only the nonce and the token's hash are stored.
    nonce = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64)  # unique: see Meta (no LIKE index needed)
    language = models.CharField(max_length=8)
    trigger_event = models.CharField(max_length=64, blank=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One invitation per survey, contact and triggering event: a repeated trigger
            # (a retried webhook) creates nothing new.
            models.UniqueConstraint(
                fields=["survey", "contact", "trigger_event", "triggered_at"],
                name="one_invitation_per_trigger",
            ),
            # A constraint rather than unique=True: the latter adds a second, LIKE-pattern
            # index that no query uses.
            models.UniqueConstraint(fields=["token_hash"], name="one_invitation_per_token"),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["contact", "sent_at"]),
            models.Index(
                fields=["sent_at"],
                name="reminder_candidates",
                condition=Q(reminder_sent_at__isnull=True, status__in=["sent", "opened"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.contact}"


class Response(models.Model):
    """One response per invitation; kept while partial (submitted_at empty)."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    # No index of its own: the (survey, submitted_at) index starts with it.
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="responses", db_index=False
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="survey_responses")
    language = models.CharField(max_length=8)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["survey", "submitted_at"])]

    def __str__(self) -> str:
        return f"Response to {self.survey}"


class Answer(models.Model):
    # No indexes of their own: one_answer_per_question starts with the response and the
    # (question, answered_at) index with the question.
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", db_index=False
    )
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="answers", db_index=False
    )
    # Scales and single choice (the choice's index); multiple choice: indexes; free text.
    number = models.SmallIntegerField(null=True, blank=True)
    choices = ArrayField(models.SmallIntegerField(), default=list, blank=True)
    text = models.TextField(blank=True)
    # An answer counts in the period of its submission.
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="one_answer_per_question")
        ]
        indexes = [models.Index(fields=["question", "answered_at"])]

    def __str__(self) -> str:
        return f"Answer to {self.question}"


class CommentThemeResult(models.Model):
    """The recurring words and two-word phrases of one stage's free-text answers in one
    language over one stored period, as the last computation found them
    (surveys/comment_themes.py says what counts; surveys/services/themes.py computes them).

    Example answers are kept as answer ids and read with their text when shown: an erased
    contact's answers are deleted with them, so an example is never one of theirs, even
    before the next computation drops their words from the counts."""

    class Period(models.TextChoices):
        LAST_90 = "last_90", _("Last 90 days")
        ALL_TIME = "all_time", _("All time")

    # No index of its own: one_comment_theme_result_per_group starts with the store.
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="comment_themes", db_index=False
    )
    period = models.CharField(max_length=8, choices=Period.choices)
    # The stage as the surveys name it: a moment code, or a custom stage's name (surveys of
    # neither have both empty).
    moment = models.CharField(max_length=5, choices=Moment.choices, blank=True)
    custom_stage = models.CharField(max_length=120, blank=True)
    language = models.CharField(max_length=8)
    # The period is [start, computed_at); start is None for all time.
    start = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField()
    # The stage's free-text answers in this language and period (the themes' shares are of
    # these), and per scale ("csat", "nps", "ces") their count and mean score, or None.
    answers = models.PositiveIntegerField()
    scores = models.JSONField(default=dict)
    # [{"phrase", "words", "answers", "scores", "examples": [answer ids, newest first]}],
    # most answers first.
    themes = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "period", "moment", "custom_stage", "language"],
                name="one_comment_theme_result_per_group",
            )
        ]

    def __str__(self) -> str:
        return f"Comment themes of {self.moment or self.custom_stage} ({self.language})"
