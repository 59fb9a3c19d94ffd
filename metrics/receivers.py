"""What queues a recompute of a store's standard periods: new events (debounced), a change to
its active journey or to that journey's mapping (every change to a map saves the journey with
a new version), and, from accounts, a change of the store's window or retention settings; and
what computes an experiment's result once it is recorded or changed."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.signals import store_metrics_settings_changed
from events.signals import events_ingested
from journeys.models import Journey
from journeys.signals import experiment_saved
from metrics import tasks


@receiver(events_ingested, dispatch_uid="metrics.receivers.events_ingested")
def _events_ingested(sender: Any, *, store_id: int, **kwargs: Any) -> None:
    tasks.recompute_soon(store_id)  # sent after the batch commits


@receiver(store_metrics_settings_changed, dispatch_uid="metrics.receivers.store_settings_changed")
def _store_settings_changed(sender: Any, *, store_id: int, **kwargs: Any) -> None:
    tasks.recompute_soon(store_id)  # sent after the change commits: a new window or N days


def _journey_changed(journey: Journey, update_fields: Any) -> None:
    if journey.store_id is None:
        return
    if journey.status != Journey.Status.ACTIVE and not (
        update_fields and "status" in update_fields
    ):
        return  # a draft's edit changes no figure
    store_id = journey.store_id
    transaction.on_commit(lambda: tasks.recompute_soon(store_id), robust=True)


@receiver(post_save, sender=Journey, dispatch_uid="metrics.receivers.journey_saved")
def _journey_saved(
    sender: Any, instance: Journey, update_fields: Any = None, **kwargs: Any
) -> None:
    _journey_changed(instance, update_fields)


@receiver(post_delete, sender=Journey, dispatch_uid="metrics.receivers.journey_deleted")
def _journey_deleted(sender: Any, instance: Journey, **kwargs: Any) -> None:
    if instance.status == Journey.Status.ACTIVE:
        _journey_changed(instance, None)


@receiver(experiment_saved, dispatch_uid="metrics.receivers.experiment_saved")
def _experiment_saved(sender: Any, *, experiment_id: int, **kwargs: Any) -> None:
    tasks.experiment_compute.delay(experiment_id=experiment_id)  # sent after the commit
