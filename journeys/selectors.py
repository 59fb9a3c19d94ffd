"""Reads for journeys, always scoped to the caller's organisation."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.crypto import hash_token
from accounts.models import Organisation, Store
from journeys.models import Experiment, Journey, JourneyChange, Persona, Stage, Touchpoint


def _journeys(organisation: Organisation, only_store: Store | None) -> QuerySet[Journey]:
    """The organisation's journeys; with `only_store` (a store's API key), that store's only."""
    journeys = Journey.objects.filter(organisation=organisation)
    if only_store is not None:
        journeys = journeys.filter(store=only_store)
    return journeys


def journey_list(
    *,
    organisation: Organisation,
    only_store: Store | None = None,
    store_id: int | None = None,
    status: str = "",
    search: str = "",
) -> QuerySet[Journey]:
    journeys = (
        _journeys(organisation, only_store)
        .select_related("store", "updated_by")
        .annotate(
            stage_count=Count("stages", distinct=True),
            touchpoint_count=Count("stages__touchpoints", distinct=True),
            moment_of_truth_count=Count(
                "stages__touchpoints",
                filter=Q(stages__touchpoints__is_moment_of_truth=True),
                distinct=True,
            ),
        )
        .order_by("-updated_at", "-id")
    )
    if store_id:
        journeys = journeys.filter(store_id=store_id)
    if status:
        journeys = journeys.filter(status=status)
    if search:
        journeys = journeys.filter(Q(name__icontains=search) | Q(description__icontains=search))
    return journeys


def journey_get(*, organisation: Organisation, pk: int, only_store: Store | None = None) -> Journey:
    return get_object_or_404(_journeys(organisation, only_store), pk=pk)


def _with_map(journeys: QuerySet[Journey]) -> QuerySet[Journey]:
    """Stages, touchpoints and personas in a fixed number of queries, whatever the map's size."""
    return journeys.select_related("store", "created_by", "updated_by").prefetch_related(
        Prefetch(
            "stages",
            queryset=Stage.objects.order_by("position", "id").prefetch_related(
                Prefetch(
                    "touchpoints",
                    queryset=Touchpoint.objects.select_related("owner").order_by("position", "id"),
                )
            ),
        ),
        Prefetch("personas", queryset=Persona.objects.order_by("name", "id")),
    )


def journey_map_list(
    *, organisation: Organisation, only_store: Store | None = None
) -> QuerySet[Journey]:
    """The organisation's journeys, each with its whole map (for the API's detail views)."""
    return _with_map(_journeys(organisation, only_store))


def journey_map_get(
    *, organisation: Organisation, pk: int, only_store: Store | None = None
) -> Journey:
    return get_object_or_404(
        journey_map_list(organisation=organisation, only_store=only_store), pk=pk
    )


def journey_get_by_share_token(*, token: str) -> Journey | None:
    if not token:
        return None
    return (
        _with_map(Journey.objects.filter(organisation__deletion_requested_at__isnull=True))
        .filter(share_token_hash=hash_token(token))
        .first()
    )


def journey_changes(*, journey: Journey) -> QuerySet[JourneyChange]:
    return journey.changes.select_related("actor")


def stage_list(*, organisation: Organisation, only_store: Store | None = None) -> QuerySet[Stage]:
    return Stage.objects.filter(journey__in=_journeys(organisation, only_store)).select_related(
        "journey"
    )


def active_stage(*, store: Store, stage_id: int) -> Stage | None:
    """A stage of the store's active journey (the one its funnel and dashboard show), or None
    for any other id. The store must already be scoped to the caller."""
    return Stage.objects.filter(
        pk=stage_id, journey__store=store, journey__status=Journey.Status.ACTIVE
    ).first()


def touchpoint_list(
    *, organisation: Organisation, only_store: Store | None = None
) -> QuerySet[Touchpoint]:
    return Touchpoint.objects.filter(
        stage__journey__in=_journeys(organisation, only_store)
    ).select_related("stage__journey", "owner")


def persona_list(*, organisation: Organisation) -> QuerySet[Persona]:
    return Persona.objects.filter(organisation=organisation)


def persona_get(*, organisation: Organisation, pk: int) -> Persona:
    return get_object_or_404(persona_list(organisation=organisation), pk=pk)


def persona_list_with_journeys(*, organisation: Organisation) -> QuerySet[Persona]:
    """Personas and, for each, the journeys that use it, in two queries."""
    return persona_list(organisation=organisation).prefetch_related(
        Prefetch("journeys", queryset=Journey.objects.only("id", "name").order_by("name", "id"))
    )


def persona_journeys(*, persona: Persona) -> QuerySet[Journey]:
    return persona.journeys.order_by("name", "id")


def experiment_list(
    *,
    organisation: Organisation,
    only_store: Store | None = None,
    store_id: int | None = None,
    journey_id: int | None = None,
    stage_id: int | None = None,
) -> QuerySet[Experiment]:
    """The organisation's experiments in stores not being deleted, newest go-live first."""
    from accounts.selectors import store_list

    experiments = Experiment.objects.filter(
        store__in=store_list(organisation=organisation, only_store=only_store)
    ).select_related("store", "created_by")
    if store_id:
        experiments = experiments.filter(store_id=store_id)
    if journey_id:
        experiments = experiments.filter(journey_id=journey_id)
    if stage_id:
        experiments = experiments.filter(stage_id_saved=stage_id)
    return experiments.order_by("-started_on", "-id")


def experiment_get(
    *, organisation: Organisation, pk: int, only_store: Store | None = None
) -> Experiment:
    return get_object_or_404(
        experiment_list(organisation=organisation, only_store=only_store), pk=pk
    )


def experiments_overlapping(experiment: Experiment, others: list[Experiment]) -> list[Experiment]:
    """The other experiments of the store that went live on the same stage (or, for a store-wide
    metric, measure the same metric) inside this one's windows: their change is mixed into
    this one's comparison."""
    first = experiment.started_on - timedelta(days=experiment.window_days)
    last = experiment.started_on + timedelta(days=experiment.window_days)
    store_wide = experiment.metric in (Experiment.Metric.BOUNCE_RATE, Experiment.Metric.RETENTION)
    overlapping = []
    for other in others:
        if other.pk == experiment.pk or other.store_id != experiment.store_id:
            continue
        same = (
            other.metric == experiment.metric
            if store_wide
            else (
                other.stage_id_saved == experiment.stage_id_saved
                or (bool(other.stage_moment) and other.stage_moment == experiment.stage_moment)
            )
        )
        if same and first <= other.started_on <= last:
            overlapping.append(other)
    return overlapping
