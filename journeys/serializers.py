from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import Store
from journeys.models import (
    Channel,
    Experiment,
    Journey,
    JourneyChange,
    Moment,
    Persona,
    Stage,
    Touchpoint,
)

VERSION_HELP = (
    "The journey version this change is based on (from the last read). A stale version "
    "gets 409 and nothing is saved. The If-Match header may carry it instead."
)


class PersonaSerializer(serializers.ModelSerializer):
    class Meta:
        model = Persona
        fields = ["id", "name", "description", "goals", "frustrations"]


class TouchpointSerializer(serializers.ModelSerializer):
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.WEB)
    emotion = serializers.IntegerField(min_value=-2, max_value=2, default=0)
    event_names = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list
    )
    owner_email = serializers.EmailField(
        source="owner.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Touchpoint
        fields = [
            "id",
            "stage",
            "position",
            "name",
            "channel",
            "is_moment_of_truth",
            "emotion",
            "pain_points",
            "opportunities",
            "owner",
            "owner_email",
            "event_names",
        ]
        read_only_fields = ["id", "stage", "position"]


class TouchpointCreateSerializer(TouchpointSerializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.none())
    position = serializers.IntegerField(min_value=0, required=False)
    version = serializers.IntegerField(write_only=True, required=False, help_text=VERSION_HELP)

    class Meta(TouchpointSerializer.Meta):
        fields = [*TouchpointSerializer.Meta.fields, "version"]
        read_only_fields = ["id"]


class TouchpointMoveSerializer(serializers.Serializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.none())
    position = serializers.IntegerField(min_value=0)
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)


class StageSerializer(serializers.ModelSerializer):
    moment = serializers.ChoiceField(choices=[("", ""), *Moment.choices], default="")
    touchpoints = TouchpointSerializer(many=True, read_only=True)

    class Meta:
        model = Stage
        fields = [
            "id",
            "journey",
            "position",
            "name",
            "moment",
            "customer_goal",
            "description",
            "touchpoints",
        ]
        read_only_fields = ["id", "journey", "position"]


class StageCreateSerializer(StageSerializer):
    journey = serializers.PrimaryKeyRelatedField(queryset=Journey.objects.none())
    position = serializers.IntegerField(min_value=0, required=False)
    version = serializers.IntegerField(write_only=True, required=False, help_text=VERSION_HELP)

    class Meta(StageSerializer.Meta):
        fields = [*StageSerializer.Meta.fields, "version"]
        read_only_fields = ["id", "touchpoints"]


class JourneyListSerializer(serializers.ModelSerializer):
    store_name = serializers.CharField(
        source="store.name", read_only=True, default=None, allow_null=True
    )
    stage_count = serializers.IntegerField(read_only=True)
    touchpoint_count = serializers.IntegerField(read_only=True)
    moment_of_truth_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Journey
        fields = [
            "id",
            "name",
            "description",
            "store",
            "store_name",
            "status",
            "version",
            "stage_count",
            "touchpoint_count",
            "moment_of_truth_count",
            "created_at",
            "updated_at",
        ]


class JourneySerializer(serializers.ModelSerializer):
    """The whole map: personas, stages and their touchpoints."""

    store = serializers.PrimaryKeyRelatedField(
        queryset=Store.objects.none(), allow_null=True, required=False
    )
    personas = PersonaSerializer(many=True, read_only=True)
    persona_ids = serializers.PrimaryKeyRelatedField(
        source="personas",
        queryset=Persona.objects.none(),
        many=True,
        write_only=True,
        required=False,
    )
    stages = StageSerializer(many=True, read_only=True)
    share_link_active = serializers.SerializerMethodField()
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)
    template = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="On create: five-moments or ecommerce-delivery to start from a template.",
    )

    class Meta:
        model = Journey
        fields = [
            "id",
            "name",
            "description",
            "store",
            "status",
            "version",
            "personas",
            "persona_ids",
            "stages",
            "share_link_active",
            "created_at",
            "updated_at",
            "template",
        ]
        read_only_fields = ["id", "status", "created_at", "updated_at"]
        extra_kwargs = {"name": {"required": False}}

    def get_share_link_active(self, journey: Journey) -> bool:
        return bool(journey.share_token_hash)

    def get_validators(self) -> list[Any]:
        # DRF would turn the "one active journey per store" constraint into a validator that
        # makes `store` required; the services enforce that rule (409 active_journey_exists).
        return []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("name") and not attrs.get("template"):
            raise serializers.ValidationError({"name": ["Give the journey a name."]})
        return attrs


class JourneyActivateSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)
    replace_active = serializers.ChoiceField(
        choices=["", "archived", "draft"],
        required=False,
        default="",
        help_text="When the store already has an active journey: what it becomes.",
    )


class JourneyStatusSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)
    status = serializers.ChoiceField(choices=["draft", "archived"])


class ReorderSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)
    order = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)


class JourneyChangeSerializer(serializers.ModelSerializer):
    summary = serializers.CharField(
        source="summary_shown",
        read_only=True,
        help_text="What changed, in the request's language (entries written before each "
        "change was kept in every language: in the language of whoever made it).",
    )

    class Meta:
        model = JourneyChange
        fields = ["id", "created_at", "actor_label", "action", "summary", "details", "version"]


class TemplateSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    description = serializers.CharField()


class ExperimentSerializer(serializers.ModelSerializer):
    touchpoint = serializers.PrimaryKeyRelatedField(
        queryset=Touchpoint.objects.none(),
        help_text="A touchpoint of a store's active journey; the store is the journey's. "
        "Set at creation only.",
    )
    stage = serializers.IntegerField(source="stage_id_saved", read_only=True)
    metric = serializers.ChoiceField(choices=Experiment.Metric.choices)
    window_days = serializers.IntegerField(
        min_value=Experiment.WINDOW_DAYS_MIN,
        max_value=Experiment.WINDOW_DAYS_MAX,
        default=Experiment.WINDOW_DAYS_DEFAULT,
        help_text="Days in each window, before and after the go-live day.",
    )
    started_on = serializers.DateField(help_text="The day it went live, in the store's time zone.")
    ended_on = serializers.DateField(required=False, allow_null=True)
    created_by_email = serializers.EmailField(
        source="created_by.email", read_only=True, default=None, allow_null=True
    )
    result = serializers.JSONField(
        read_only=True,
        help_text="Computed in the background after each change (null until then): the "
        "metric before and after with 95 % intervals, the difference with its interval, "
        "p_value, significant, verdict (improved, worse, no_change, no_data, waiting, "
        "unmeasurable), needed_per_window and more_per_window, complete.",
    )
    verdict_text = serializers.SerializerMethodField()

    class Meta:
        model = Experiment
        fields = [
            "id",
            "store",
            "journey",
            "stage",
            "stage_moment",
            "stage_name",
            "touchpoint",
            "touchpoint_name",
            "title",
            "change",
            "started_on",
            "ended_on",
            "metric",
            "window_days",
            "created_by_email",
            "created_at",
            "result",
            "result_computed_at",
            "verdict_text",
        ]
        read_only_fields = [
            "id",
            "store",
            "journey",
            "stage_moment",
            "stage_name",
            "touchpoint_name",
            "created_at",
            "result_computed_at",
        ]

    def get_verdict_text(self, experiment: Experiment) -> str:
        from journeys.verdicts import verdict_text

        return verdict_text(experiment)
