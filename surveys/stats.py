"""Survey metrics with exact formulas (see shared/docs/domain.md), with the proportions'
Wilson intervals from core.stats, and the comparison of two periods' metrics by the product's
one significance rule (core.stats)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.stats import (
    MeanSample,
    NpsSample,
    Proportion,
    mean_change,
    mean_interval,
    nps_change,
    nps_interval,
    proportion_change,
)


def csat(scores: list[int]) -> dict[str, object]:
    """Share of 4 and 5 on the 1–5 scale, and the mean with its sample standard deviation."""
    share = Proportion(sum(1 for s in scores if s >= 4), len(scores))
    return {"share": share.as_dict(), **_mean_and_sd(scores), "count": len(scores)}


def nps(scores: list[int]) -> dict[str, object]:
    """% promoters (9–10) minus % detractors (0–6), from −100 to +100."""
    total = len(scores)
    promoters = Proportion(sum(1 for s in scores if s >= 9), total)
    detractors = Proportion(sum(1 for s in scores if s <= 6), total)
    score = round(100 * (promoters.successes - detractors.successes) / total, 1) if total else None
    return {
        "score": score,
        "promoters": promoters.as_dict(),
        "passives": Proportion(total - promoters.successes - detractors.successes, total).as_dict(),
        "detractors": detractors.as_dict(),
        "count": total,
    }


def ces(scores: list[int]) -> dict[str, object]:
    """Mean of the 1–7 ease scale, with its sample standard deviation."""
    return {**_mean_and_sd(scores), "count": len(scores)}


def _mean_and_sd(values: list[int]) -> dict[str, float | None]:
    # The standard deviation (n − 1 in the denominator; None below 2 answers) lets a stored
    # result be compared with another period's by Welch's test without the scores themselves.
    sample = MeanSample.of(values)
    return {
        "mean": None if sample.mean is None else round(sample.mean, 2),
        "sd": None if sample.sd is None else round(sample.sd, 4),
    }


SURVEY_METRICS = ("csat", "nps", "ces")


def survey_change(
    *, kind: str, current: Mapping[str, Any], previous: Mapping[str, Any]
) -> dict[str, dict[str, object]]:
    """The change from `previous` to `current`, two results of csat(), nps() or ces() (as
    `kind` says), each figure as core.stats.Change.as_dict(): for csat the share (z-test) and
    the mean (Welch), for nps the score (in points), for ces the mean (Welch).

    Shares and NPS come from the exact counts; means from the results' own figures (the mean
    rounded to 2 places, as shown), so a mean's change is the difference a reader sees. A
    result stored before it carried `sd` has its means compared without a p-value."""
    if kind == "csat":
        return {
            "share": proportion_change(
                current=_share(current["share"]), previous=_share(previous["share"])
            ).as_dict(),
            "mean": mean_change(current=_mean(current), previous=_mean(previous)).as_dict(),
        }
    if kind == "nps":
        return {"score": nps_change(current=_nps(current), previous=_nps(previous)).as_dict()}
    if kind == "ces":
        return {"mean": mean_change(current=_mean(current), previous=_mean(previous)).as_dict()}
    raise ValueError(f"kind must be one of {', '.join(SURVEY_METRICS)}, not {kind!r}")


def _share(proportion: Mapping[str, Any]) -> Proportion:
    return Proportion(proportion["successes"], proportion["total"])


def _mean(result: Mapping[str, Any]) -> MeanSample:
    return MeanSample(mean=result["mean"], sd=result.get("sd"), n=result["count"])


def _nps(result: Mapping[str, Any]) -> NpsSample:
    return NpsSample(
        promoters=result["promoters"]["successes"],
        detractors=result["detractors"]["successes"],
        total=result["count"],
    )


def survey_interval(*, kind: str, result: Mapping[str, Any]) -> tuple[float, float] | None:
    """The 95 % interval of a stage's NPS (normal, from the promoter and detractor shares) or
    CES mean (Student's t, clipped to the 1–7 scale), from the figures as stored; None below
    two answers."""
    if not result or not result.get("count"):
        return None
    if kind == "nps":
        return nps_interval(_nps(result))
    bounds = mean_interval(_mean(result))
    return None if bounds is None else (max(1.0, bounds[0]), min(7.0, bounds[1]))  # the scale
