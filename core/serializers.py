"""The API's view of a background task (core.models.Task), shared by every kind of task."""

from __future__ import annotations

from rest_framework import serializers

from core.models import Task


class TaskSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(
        allow_null=True,
        read_only=True,
        help_text="done / total in whole percent; null while the total is not known yet.",
    )
    store = serializers.IntegerField(
        source="store_id", read_only=True, allow_null=True, help_text="The store's id, if any."
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "kind",
            "store",
            "state",
            "phase",
            "done",
            "total",
            "percent",
            "result",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "kind": {"help_text": "What runs, e.g. `events.csv_import`."},
            "state": {"help_text": "queued → running → done or failed."},
            "phase": {"help_text": "The step under way, for people."},
            "done": {"help_text": "Progress within the phase, in its own unit (bytes, rows)."},
            "total": {"help_text": "What `done` counts up to; null while not known."},
            "result": {"help_text": "Set when done: the kind's own report (see its docs)."},
            "error": {"help_text": "Set when failed: why, for people."},
        }
