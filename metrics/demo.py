"""The demo organisation's figures: its stores' standard periods computed once their events
are in (`make demo`, settings.DEMO_LOADERS, after the events loader), and the experiments
that match the changes the demo events make (events/demo.py: DEMO_CHANGES), with their
results: one finished with a visible effect, one still running."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from accounts.models import Organisation, Store
from accounts.services import SYSTEM
from core import clock
from events.demo import DEMO_CHANGES
from journeys import services as journey_services
from journeys.models import Experiment, Journey, Touchpoint
from metrics.experiments import experiment_compute
from metrics.recompute import results_recompute


def _experiments_load(store: Store) -> list[dict[str, Any]]:
    """Replace the store's demo experiments (a second run's days move with its events)."""
    journey = Journey.objects.filter(store=store, status=Journey.Status.ACTIVE).first()
    if journey is None:
        return []
    today = clock.now().astimezone(ZoneInfo(store.time_zone or "UTC")).date()
    done = []
    for change in (c for c in DEMO_CHANGES if c.store == store.name):
        Experiment.objects.filter(store=store, title=change.title).delete()
        touchpoint = Touchpoint.objects.filter(
            stage__journey=journey, event_names__contains=[change.touchpoint_event]
        ).first()
        if touchpoint is None:
            continue
        started_on = today - timedelta(days=change.days_ago)
        experiment = journey_services.experiment_create(
            touchpoint=touchpoint,
            actor=SYSTEM,
            title=change.title,
            change=change.change,
            started_on=started_on,
            ended_on=started_on + timedelta(days=change.days) if change.days else None,
            metric=change.metric,
            window_days=Experiment.WINDOW_DAYS_DEFAULT,
        )
        result = experiment_compute(experiment_id=experiment.pk) or {}
        done.append({"title": change.title, "verdict": result.get("verdict")})
    return done


def load(*, organisation: Organisation) -> dict[str, Any]:
    loaded: dict[str, Any] = {}
    for store in Store.objects.filter(organisation=organisation).order_by("pk"):
        loaded[store.name] = results_recompute(store_id=store.pk)
        loaded[store.name]["experiments"] = _experiments_load(store)
    return loaded
