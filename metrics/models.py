"""Stored results of the metrics engine: a store's funnel for a period, as the recompute
tasks leave them (metrics/rollups.py). The standard periods are replaced together in one
transaction, so a reader sees one recompute's results or the previous one's, never a mix."""

from __future__ import annotations

from django.db import models

from accounts.models import Store


class FunnelResult(models.Model):
    class Kind(models.TextChoices):
        LAST_7 = "last_7"
        PREVIOUS_7 = "previous_7"
        LAST_30 = "last_30"
        PREVIOUS_30 = "previous_30"
        LAST_90 = "last_90"
        PREVIOUS_90 = "previous_90"
        WEEK = "week"  # ISO weeks of the last 12 months
        MONTH = "month"  # calendar months of the last 12 months
        CUSTOM = "custom"  # any other range, computed on request and kept a while

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", db_index=False)
    journey_id = models.BigIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    start = models.DateField()  # days in the store's time zone, both included
    end = models.DateField()
    window_days = models.PositiveSmallIntegerField()
    complete = models.BooleanField()
    computed_at = models.DateTimeField()
    # Mapped events inside the period, and every event the engine read (all periods).
    events_counted = models.BigIntegerField()
    events_read = models.BigIntegerField()
    # Per stage in journey order: id, moment, name, tracked, event names, reached, funnel,
    # median and p90 seconds to convert, the histogram of seconds to convert.
    stages = models.JSONField()
    # Events per name inside the period (the drill-down's counts), names as the store sends them.
    names = models.JSONField()
    # The entered customers' furthest attempts (metrics/rollups.py: pack_entered): what the
    # customers list reads, so that its count is the funnel's figure.
    entered = models.BinaryField()
    # Converters' seconds to convert, per tracked stage after the first, ascending
    # (metrics/rollups.py: pack_seconds): what the median, p90 and histogram are made from,
    # kept so that an incremental recompute can take out a customer's and put in the new.
    seconds = models.BinaryField(default=b"")
    # What the figures were computed for (metrics/recompute.py: basis): the journey's mapping,
    # the window, the retention days, the store's day and time zone. An incremental recompute
    # updates only results of the current basis; any other change recomputes them all.
    basis = models.CharField(max_length=64, default="", db_default="")
    # Bounce rate: sessions with events in the period, and those whose only event in it is
    # one page view. Retention: customers whose first purchase ever is in the period, and
    # those who bought again within retention_days of it.
    sessions = models.BigIntegerField(default=0)
    bounced = models.BigIntegerField(default=0)
    first_buyers = models.BigIntegerField(default=0)
    returned = models.BigIntegerField(default=0)
    retention_days = models.PositiveSmallIntegerField(default=90)

    class Meta:
        # A range may be two standard periods at once (the previous 7 days are an ISO week on
        # a Sunday): stored under each kind, with equal figures.
        constraints = [
            models.UniqueConstraint(
                fields=["store", "start", "end", "window_days", "kind"],
                name="funnel_result_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.kind} {self.start}..{self.end}"
