"""The state of long background work that a page or an API client follows: a CSV import, a
metrics recompute. One row per run: its state, how far it is (done of total, in whatever
unit the work counts: bytes read, events written), and its result or error once it ends.

core sits below every app and imports none of them: the organisation, store and user are
named by their labels ("accounts.Store"), which is a reference the ORM resolves, not an
import. Reads are scoped to the organisation (core.selectors), so another organisation's
task is a 404 like any other object.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core import clock


def _now() -> datetime:
    return clock.now()  # looked up on each call: tests freeze clock.now


class Task(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, db_index=False, related_name="+"
    )  # the index below, organisation first, serves it
    store = models.ForeignKey(
        "accounts.Store", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What runs, as "<app>.<work>" (e.g. "events.csv_import"): the page that shows the task
    # and the worker that runs it agree on it; core does not interpret it.
    kind = models.CharField(max_length=64)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    # The step under way, for people ("Reading the file"); progress counts within it.
    phase = models.CharField(max_length=120, blank=True)
    done = models.BigIntegerField(default=0)
    total = models.BigIntegerField(null=True, blank=True)  # None: not known yet
    result = models.JSONField(null=True, blank=True)  # set when done
    error = models.TextField(blank=True)  # set when failed, for people
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Every progress write moves it: a running task that stops moving has lost its worker
    # (core.services.task_claim). On the clock that the staleness rule reads.
    updated_at = models.DateTimeField(default=_now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="task_organisation_recent")
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def percent(self) -> int | None:
        """Progress in whole percent, or None while the total is unknown."""
        if not self.total:
            return None
        return min(100, self.done * 100 // self.total)
