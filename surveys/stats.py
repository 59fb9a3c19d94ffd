"""Survey metrics with exact formulas (see shared/docs/domain.md), with the proportions'
Wilson intervals from core.stats."""

from __future__ import annotations

from core.stats import Proportion


def csat(scores: list[int]) -> dict[str, object]:
    """Share of 4 and 5 on the 1–5 scale, and the mean."""
    share = Proportion(sum(1 for s in scores if s >= 4), len(scores))
    return {"share": share.as_dict(), "mean": _mean(scores), "count": len(scores)}


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
    """Mean of the 1–7 ease scale."""
    return {"mean": _mean(scores), "count": len(scores)}


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None
