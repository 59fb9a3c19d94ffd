"""An experiment's result: its metric in two equal windows around the go-live day, the
difference with its 95 % interval, and a verdict by the product's one significance rule
(core/stats.py). Computed here, in the background, and stored on the experiment; a page or
the API only reads it.

- Windows, days in the store's time zone: before = [go-live − W, go-live − 1], after =
  [go-live + 1, min(go-live + W, today)] (the go-live day itself is in neither: part of it
  ran the old version). The after window is incomplete until go-live + W is over and, for
  conversion and retention, until late conversions (the store's conversion window) or
  repeat purchases (its retention days) can no longer arrive after it.
- Conversion (the stage's funnel / the previous tracked stage's funnel), the bounce rate and
  retention come from one read of the compact form of the store's events for both windows
  (funnels are not additive across days); CSAT, NPS and CES from the daily sums of the
  headline scores of the stage's surveys (the stage's moment code, or a custom stage's name).
- Tests and intervals: proportions by the pooled two-proportion z-test, the difference's
  interval by Newcombe's hybrid score method; CES by Welch's t-test and interval; NPS by the
  difference of the scores with the variance of each from its promoter and detractor shares.
  A window's own interval: Wilson for a share, Student's t for a mean, normal for an NPS.
- Verdict: "improved" or "worse" when the test is significant (lower is better for the bounce
  rate, higher for everything else); else "no_change", with how many customers (answers,
  sessions, first-time buyers) each window would need for a difference of the observed size
  to be found 80 % of the time at the 5 % level; "no_data" when a window has none; "waiting"
  before the after window's first day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q

from accounts.models import Store
from core import clock
from core.stats import (
    MeanSample,
    NpsSample,
    Proportion,
    mean_change,
    mean_interval,
    newcombe_interval,
    nps_change,
    nps_difference_interval,
    nps_interval,
    proportion_change,
    sample_size_means,
    sample_size_proportions,
    welch_interval,
)
from journeys import services as journey_services
from journeys.models import Experiment
from metrics import recompute
from metrics.mapping import NoActiveJourney
from metrics.models import FunnelResult
from surveys import selectors as survey_selectors

logger = logging.getLogger(__name__)

Metric = Experiment.Metric
LOWER_IS_BETTER = {Metric.BOUNCE_RATE}
SATISFIED = (4, 5)  # CSAT: 4 and 5 on the 1–5 scale
# What each window counts, for "N more … per window".
COUNTED = {
    Metric.CONVERSION: "customers",
    Metric.CSAT: "answers",
    Metric.NPS: "answers",
    Metric.CES: "answers",
    Metric.BOUNCE_RATE: "sessions",
    Metric.RETENTION: "first_buyers",
}
TESTS = {
    Metric.CONVERSION: "two-proportion z-test (pooled); Newcombe hybrid score interval",
    Metric.CSAT: "two-proportion z-test (pooled); Newcombe hybrid score interval",
    Metric.BOUNCE_RATE: "two-proportion z-test (pooled); Newcombe hybrid score interval",
    Metric.RETENTION: "two-proportion z-test (pooled); Newcombe hybrid score interval",
    Metric.CES: "Welch's t-test; Welch interval",
    Metric.NPS: "z-test of the NPS difference (variance from promoter and detractor shares)",
}


@dataclass(frozen=True)
class Windows:
    before: tuple[date, date]
    after: tuple[date, date] | None  # None before the after window's first day
    after_days: int
    complete: bool


def experiment_windows(
    *, started_on: date, window_days: int, today: date, settle_days: int = 0
) -> Windows:
    """`settle_days`: how long after the after window its figures may still change (late
    conversions, repeat purchases)."""
    before = (started_on - timedelta(days=window_days), started_on - timedelta(days=1))
    first = started_on + timedelta(days=1)
    last = min(started_on + timedelta(days=window_days), today)
    after = (first, last) if last >= first else None
    full_end = started_on + timedelta(days=window_days)
    return Windows(
        before=before,
        after=after,
        after_days=(last - first).days + 1 if after else 0,
        complete=full_end + timedelta(days=settle_days) < today,
    )


# --- One window's figure


Sample = Proportion | MeanSample | NpsSample


def _reading(sample: Sample) -> dict[str, Any]:
    if isinstance(sample, Proportion):
        interval = sample.interval
        return {
            "n": sample.total,
            "successes": sample.successes,
            "value": sample.value,
            "low": interval[0] if interval else None,
            "high": interval[1] if interval else None,
        }
    if isinstance(sample, MeanSample):
        interval = mean_interval(sample)
        return {
            "n": sample.n,
            "value": sample.mean,
            "sd": sample.sd,
            "low": interval[0] if interval else None,
            "high": interval[1] if interval else None,
        }
    interval = nps_interval(sample)
    return {
        "n": sample.total,
        "promoters": sample.promoters,
        "detractors": sample.detractors,
        "value": sample.score,
        "low": interval[0] if interval else None,
        "high": interval[1] if interval else None,
    }


def _difference(after: Sample, before: Sample) -> tuple[Any, tuple[float, float] | None]:
    """The test's Change (after − before) and the difference's 95 % interval."""
    if isinstance(after, Proportion) and isinstance(before, Proportion):
        return (
            proportion_change(current=after, previous=before),
            newcombe_interval(current=after, previous=before),
        )
    if isinstance(after, MeanSample) and isinstance(before, MeanSample):
        return (
            mean_change(current=after, previous=before),
            welch_interval(current=after, previous=before),
        )
    assert isinstance(after, NpsSample) and isinstance(before, NpsSample)
    return (
        nps_change(current=after, previous=before),
        nps_difference_interval(current=after, previous=before),
    )


def _needed(after: Sample, before: Sample) -> int | None:
    """Per window, for a difference of the observed size at 80 % power and 5 % two-sided."""
    if isinstance(after, Proportion) and isinstance(before, Proportion):
        if after.value is None or before.value is None:
            return None
        return sample_size_proportions(before.value, after.value)
    if isinstance(after, MeanSample) and isinstance(before, MeanSample):
        if after.mean is None or before.mean is None or after.sd is None or before.sd is None:
            return None
        return sample_size_means(after.mean - before.mean, after.sd, before.sd)
    assert isinstance(after, NpsSample) and isinstance(before, NpsSample)
    if after.score is None or before.score is None:
        return None
    # Each answer counts +100, 0 or −100; its standard deviation is √(n · variance).
    sd_after = ((after.variance or 0.0) * after.total) ** 0.5
    sd_before = ((before.variance or 0.0) * before.total) ** 0.5
    return sample_size_means(after.score - before.score, sd_after, sd_before)


def _n(sample: Sample) -> int:
    return sample.total if isinstance(sample, Proportion | NpsSample) else sample.n


def result_of(
    *, metric: str, before: Sample, after: Sample | None, windows: Windows
) -> dict[str, Any]:
    """The stored result, from the two windows' samples (`after` None: not started yet)."""
    body: dict[str, Any] = {
        "metric": metric,
        "counted": COUNTED[Metric(metric)],
        "test": TESTS[Metric(metric)],
        "higher_is_better": metric not in LOWER_IS_BETTER,
        "complete": windows.complete,
        "before": {
            "start": windows.before[0].isoformat(),
            "end": windows.before[1].isoformat(),
            **_reading(before),
        },
        "after": None,
        "difference": None,
        "verdict": "waiting",
        "needed_per_window": None,
        "more_per_window": None,
    }
    if after is None or windows.after is None:
        return body
    body["after"] = {
        "start": windows.after[0].isoformat(),
        "end": windows.after[1].isoformat(),
        "days": windows.after_days,
        **_reading(after),
    }
    if not _n(before) or not _n(after):
        body["verdict"] = "no_data"
        return body
    change, interval = _difference(after, before)
    body["difference"] = {
        "value": change.change,
        "low": interval[0] if interval else None,
        "high": interval[1] if interval else None,
        "p_value": change.p_value,
        "significant": change.significant,
    }
    if change.significant:
        better = (change.change > 0) == body["higher_is_better"]
        body["verdict"] = "improved" if better else "worse"
        return body
    body["verdict"] = "no_change"
    needed = _needed(after, before)
    body["needed_per_window"] = needed
    if needed is not None:
        body["more_per_window"] = max(0, needed - min(_n(before), _n(after)))
    return body


# --- Reading the windows


def _stage_of(experiment: Experiment, stages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The experiment's stage in a result's stages: by its id, else by its moment code (the
    stage was replaced by one with the same code), else by a custom stage's name."""
    for stage in stages:
        if stage["id"] == experiment.stage_id_saved:
            return stage
    for stage in stages:
        if experiment.stage_moment and stage["moment"] == experiment.stage_moment:
            return stage
    for stage in stages:
        custom = not experiment.stage_moment and not stage["moment"]
        if custom and stage["name"] == experiment.stage_name:
            return stage
    return None


def _conversion(experiment: Experiment, result: FunnelResult) -> Proportion | None:
    stage = _stage_of(experiment, list(result.stages))
    if stage is None or not stage["tracked"]:
        return None
    previous = None
    for other in result.stages:
        if other["id"] == stage["id"]:
            break
        if other["tracked"]:
            previous = other["funnel"]
    if previous is None:
        return None  # the first tracked stage: customers enter there, nothing converts to it
    return Proportion(stage["funnel"], previous)


def _engine_samples(
    experiment: Experiment, store: Store, ranges: list[tuple[date, date]]
) -> list[Sample] | str:
    results = recompute.ranges_compute(
        store=store, ranges=ranges, window_days=store.funnel_window_days
    )
    samples: list[Sample] = []
    for result in results:
        if experiment.metric == Metric.BOUNCE_RATE:
            samples.append(Proportion(result.bounced, result.sessions))
        elif experiment.metric == Metric.RETENTION:
            samples.append(Proportion(result.returned, result.first_buyers))
        else:
            conversion = _conversion(experiment, result)
            if conversion is None:
                return "stage_without_conversion"
            samples.append(conversion)
    return samples


def _pooled(days: dict[Any, dict[int, int]], start: date, end: date) -> dict[int, int]:
    counts: dict[int, int] = {}
    for day, scores in days.items():
        if start <= day <= end:
            for score, n in scores.items():
                counts[score] = counts.get(score, 0) + n
    return counts


def _survey_sample(metric: str, counts: dict[int, int]) -> Sample:
    total = sum(counts.values())
    if metric == Metric.CSAT:
        return Proportion(sum(n for s, n in counts.items() if s in SATISFIED), total)
    if metric == Metric.NPS:
        return NpsSample(
            promoters=sum(n for s, n in counts.items() if s >= 9),
            detractors=sum(n for s, n in counts.items() if s <= 6),
            total=total,
        )
    return MeanSample.of([float(s) for s, n in sorted(counts.items()) for _ in range(n)])


def _survey_samples(
    experiment: Experiment, store: Store, ranges: list[tuple[date, date]]
) -> list[Sample]:
    zone = ZoneInfo(store.time_zone or "UTC")
    first, last = ranges[0][0], ranges[-1][1]
    scores = survey_selectors.scores_by_day(
        store=store,
        start=datetime.combine(first, time.min, tzinfo=zone),
        end=datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
        time_zone=store.time_zone,
    )
    key = (
        experiment.stage_moment,
        "" if experiment.stage_moment else experiment.stage_name,
        experiment.metric,
    )
    days = scores.get(key, {})
    return [_survey_sample(experiment.metric, _pooled(days, s, e)) for s, e in ranges]


def _settle_days(experiment: Experiment, store: Store) -> int:
    if experiment.metric == Metric.CONVERSION:
        return store.funnel_window_days
    if experiment.metric == Metric.RETENTION:
        return store.retention_days
    return 0


def experiment_result(*, experiment: Experiment) -> dict[str, Any]:
    """The result as stored (see the module's docstring); never saved here."""
    store = experiment.store
    today = clock.now().astimezone(ZoneInfo(store.time_zone or "UTC")).date()
    windows = experiment_windows(
        started_on=experiment.started_on,
        window_days=experiment.window_days,
        today=today,
        settle_days=_settle_days(experiment, store),
    )
    ranges = [windows.before] + ([windows.after] if windows.after else [])
    read: Callable[..., Any] = (
        _survey_samples
        if experiment.metric in (Metric.CSAT, Metric.NPS, Metric.CES)
        else _engine_samples
    )
    try:
        samples = read(experiment, store, ranges)
    except NoActiveJourney:
        samples = "no_active_journey"
    if isinstance(samples, str):
        return {"metric": experiment.metric, "verdict": "unmeasurable", "reason": samples}
    return result_of(
        metric=experiment.metric,
        before=samples[0],
        after=samples[1] if len(samples) > 1 else None,
        windows=windows,
    )


def experiment_compute(*, experiment_id: int) -> dict[str, Any] | None:
    """Compute and store the experiment's result. None when the experiment is gone."""
    experiment = Experiment.objects.select_related("store").filter(pk=experiment_id).first()
    if experiment is None or experiment.store.deletion_requested_at is not None:
        return None
    result = experiment_result(experiment=experiment)
    journey_services.experiment_result_save(
        experiment_id=experiment.pk, result=result, computed_at=clock.now()
    )
    return result


def experiments_open(
    *, store_id: int | None = None, computed_before: datetime | None = None
) -> list[int]:
    """Experiments whose result may still change: never computed, or not complete; with
    `computed_before`, only those not computed since then."""
    experiments = Experiment.objects.filter(store__deletion_requested_at__isnull=True).filter(
        Q(result__isnull=True) | ~Q(result__has_key="complete") | Q(result__complete=False)
    )
    if store_id is not None:
        experiments = experiments.filter(store_id=store_id)
    if computed_before is not None:
        experiments = experiments.filter(
            Q(result_computed_at__isnull=True) | Q(result_computed_at__lt=computed_before)
        )
    return list(experiments.order_by("pk").values_list("pk", flat=True))
