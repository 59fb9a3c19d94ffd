"""Survey metrics with exact formulas (see shared/docs/domain.md) and Wilson intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054  # two-sided 95 %


@dataclass(frozen=True)
class Proportion:
    """successes / total with its 95 % Wilson score interval (all None when total is 0)."""

    successes: int
    total: int

    @property
    def value(self) -> float | None:
        return self.successes / self.total if self.total else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.successes, self.total)

    def as_dict(self) -> dict[str, object]:
        interval = self.interval
        return {
            "successes": self.successes,
            "total": self.total,
            "value": _round(self.value),
            "low": _round(interval[0]) if interval else None,
            "high": _round(interval[1]) if interval else None,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def wilson_interval(successes: int, total: int, z: float = Z_95) -> tuple[float, float] | None:
    if total <= 0:
        return None
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


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
