"""Statistics that no domain owns: proportions with their 95 % Wilson score interval."""

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
