"""Journey maps: stages (moments of truth), touchpoints, personas, and each map's history."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation, Store

# An event name as stores send it and touchpoints list it.
EVENT_NAME = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")

# The longest description, goal, pain point or opportunity a map takes: a few pages of text.
TEXT_LIMIT = 5000


class Moment(models.TextChoices):
    """The moment-of-truth codes, in their canonical order along a journey."""

    LZMOT = "LZMOT", _("Less-than-zero moment")
    ZMOT = "ZMOT", _("Zero moment")
    FMOT = "FMOT", _("First moment")
    SMOT = "SMOT", _("Second moment")
    TMOT = "TMOT", _("Third moment")
    UMOT = "UMOT", _("Ultimate moment")

    @classmethod
    def order(cls, code: str) -> int:
        return list(cls.values).index(code)


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    EMAIL = "email", _("Email")
    AD = "ad", _("Ad")
    SOCIAL = "social", _("Social")
    SEARCH = "search", _("Search")
    REVIEW_SITE = "review_site", _("Review site")
    MARKETPLACE = "marketplace", _("Marketplace")
    STORE = "store", _("Store")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    DELIVERY = "delivery", _("Delivery")
    PACKAGING = "packaging", _("Packaging")
    OTHER = "other", _("Other")


class Persona(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="personas"
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True, max_length=TEXT_LIMIT)
    goals = models.TextField(_("goals"), blank=True, max_length=TEXT_LIMIT)
    frustrations = models.TextField(_("frustrations"), blank=True, max_length=TEXT_LIMIT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Journey(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("journey status", "Draft")
        ACTIVE = "active", pgettext_lazy("journey status", "Active")
        ARCHIVED = "archived", pgettext_lazy("journey status", "Archived")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="journeys"
    )
    store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="journeys"
    )
    name = models.CharField(_("name"), max_length=160)
    description = models.TextField(_("description"), blank=True, max_length=TEXT_LIMIT)
    personas = models.ManyToManyField(Persona, blank=True, related_name="journeys")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Optimistic concurrency: every write to the map names the version it was based on.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A read-only share link; only the SHA-256 of its token is kept.
    share_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store"],
                condition=Q(status="active"),
                name="one_active_journey_per_store",
                violation_error_message=_("This store already has an active journey."),
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(store__isnull=False),
                name="active_journey_has_store",
                violation_error_message=_("An active journey needs a store."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="stages")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(_("name"), max_length=120)
    moment = models.CharField(
        _("moment of truth"), max_length=5, choices=Moment.choices, blank=True
    )
    customer_goal = models.TextField(_("customer goal"), blank=True, max_length=TEXT_LIMIT)
    description = models.TextField(_("description"), blank=True, max_length=TEXT_LIMIT)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "moment"],
                condition=~Q(moment=""),
                name="moment_once_per_journey",
                violation_error_message=_("Each moment code can be used once per journey."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.moment} {self.name}".strip() if self.moment else self.name


class Touchpoint(models.Model):
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="touchpoints")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(_("name"), max_length=160)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    is_moment_of_truth = models.BooleanField(_("moment of truth"), default=False)
    emotion = models.SmallIntegerField(_("designed emotion"), default=0)
    pain_points = models.TextField(_("pain points"), blank=True, max_length=TEXT_LIMIT)
    opportunities = models.TextField(_("opportunities"), blank=True, max_length=TEXT_LIMIT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event_names = ArrayField(models.CharField(max_length=64), default=list, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(emotion__gte=-2) & Q(emotion__lte=2),
                name="emotion_between_minus2_and_2",
            )
        ]
        indexes = [models.Index(fields=["stage", "position"])]

    def __str__(self) -> str:
        return self.name


SUMMARY_LIMIT = 300


class JourneyChange(models.Model):
    """One entry of a journey's change history: who changed what, and when.

    Its summary is written once per language of the UI (`summaries`, by language code), so
    each reader reads it in their own language, whoever made the change; `summary` is the
    site's default language. Entries written before `summaries` existed have only `summary`,
    in the language of whoever made the change."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=64)
    summary = models.CharField(max_length=SUMMARY_LIMIT)
    summaries = models.JSONField(default=dict, blank=True)
    details = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.summary

    @staticmethod
    def summary_texts(build: Callable[[], str]) -> dict[str, object]:
        """`summary` and `summaries` for a new entry: `build` makes the text in the active
        language, so every gettext it needs (field names, plural forms) must run inside it."""
        summaries = {}
        for code in [code for code, _name in settings.LANGUAGES] + [settings.LANGUAGE_CODE]:
            if code not in summaries:
                with translation.override(code):
                    summaries[code] = str(build())[:SUMMARY_LIMIT]
        return {"summary": summaries[settings.LANGUAGE_CODE], "summaries": summaries}

    @property
    def summary_shown(self) -> str:
        """The summary in the active language; an entry written before `summaries` existed
        shows the one it has."""
        code = translation.get_language() or ""
        return self.summaries.get(code) or self.summaries.get(code.split("-")[0]) or self.summary


class Experiment(models.Model):
    """A change made to a touchpoint of a store's active journey, and the metric it is meant
    to move. Its result (before and after the go-live day) is computed by the metrics app and
    stored here; a page or the API only reads it.

    The experiment outlives the map it was made on: when the touchpoint or its stage is deleted
    the links become empty, and the stage's id, moment code and name saved at creation still
    say which stage's figures it reads."""

    class Metric(models.TextChoices):
        CONVERSION = "conversion", _("Conversion from the previous stage")
        CSAT = "csat", _("CSAT (share of 4 and 5)")
        NPS = "nps", _("NPS")
        CES = "ces", _("CES (mean ease, 1–7)")
        BOUNCE_RATE = "bounce_rate", _("Bounce rate")
        RETENTION = "retention", _("Repeat-purchase retention")

    WINDOW_DAYS_DEFAULT = 28
    WINDOW_DAYS_MIN = 7
    WINDOW_DAYS_MAX = 90

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="experiments")
    journey = models.ForeignKey(
        Journey, null=True, blank=True, on_delete=models.SET_NULL, related_name="experiments"
    )
    touchpoint = models.ForeignKey(
        Touchpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="experiments"
    )
    # The stage as it was at creation: what the result reads once the map has changed.
    stage_id_saved = models.BigIntegerField()
    stage_moment = models.CharField(max_length=5, choices=Moment.choices, blank=True)
    stage_name = models.CharField(max_length=120)
    touchpoint_name = models.CharField(max_length=160)
    title = models.CharField(_("title"), max_length=160)
    change = models.TextField(_("what changed"), max_length=TEXT_LIMIT)
    started_on = models.DateField(_("went live on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    metric = models.CharField(_("metric"), max_length=16, choices=Metric.choices)
    window_days = models.PositiveSmallIntegerField(
        _("days before and after"), default=WINDOW_DAYS_DEFAULT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Written by metrics.experiments: the two windows, the difference and the verdict.
    result = models.JSONField(null=True, blank=True)
    result_computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="experiment_ends_after_it_starts",
                violation_error_message=_("An experiment cannot end before it went live."),
            ),
            models.CheckConstraint(
                condition=Q(window_days__gte=7) & Q(window_days__lte=90),
                name="experiment_window_7_to_90_days",
            ),
        ]
        indexes = [models.Index(fields=["store", "started_on"])]

    def __str__(self) -> str:
        return self.title

    @property
    def stage_label(self) -> str:
        return f"{self.stage_moment} · {self.stage_name}" if self.stage_moment else self.stage_name
