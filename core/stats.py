"""Statistics that no domain owns: proportions with their 95 % Wilson score interval, and the
product's one significance rule for a change between two periods.

The rule (shared/docs/domain.md): a change is significant only when a two-sided test at 95 %
says so. Proportions: the two-proportion z-test with the pooled proportion. Means (CSAT mean,
CES): Welch's t-test, with the Welch–Satterthwaite degrees of freedom and the p-value from
Student's t distribution. NPS: the difference of the two scores over the square root of the
sum of their variances, each from its promoter and detractor shares; normal p-value.

When a test cannot be computed, its p-value is None and the change is not significant (never a
p-value of 1, which would read as a test that found nothing): a side with no answers (then the
change itself is None too), a mean with fewer than 2 answers on a side (no standard deviation),
or a standard error of zero (every answer alike on both sides, for a mean or an NPS; a pooled
proportion of 0 or 1, where both shares are equal and z would be 0 / 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

Z_95 = 1.959963984540054  # two-sided 95 %
ALPHA = 0.05  # two-sided


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


@dataclass(frozen=True)
class MeanSample:
    """A mean with what Welch's test needs: the sample standard deviation (n − 1 in the
    denominator; None below 2 values) and the number of values."""

    mean: float | None
    sd: float | None
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> MeanSample:
        n = len(values)
        if not n:
            return cls(mean=None, sd=None, n=0)
        mean = math.fsum(values) / n
        if n < 2:
            return cls(mean=mean, sd=None, n=n)
        squares = math.fsum((v - mean) ** 2 for v in values)
        return cls(mean=mean, sd=math.sqrt(squares / (n - 1)), n=n)


@dataclass(frozen=True)
class NpsSample:
    """Promoters and detractors among `total` answers to a 0–10 question."""

    promoters: int
    detractors: int
    total: int

    @property
    def score(self) -> float | None:
        return 100 * (self.promoters - self.detractors) / self.total if self.total else None

    @property
    def variance(self) -> float | None:
        """Of the score: 100² · (p + d − (p − d)²) / n, p and d the promoter and detractor
        shares (each answer counts +1, 0 or −1; this is the variance of their mean, × 100²)."""
        if not self.total:
            return None
        p, d = self.promoters / self.total, self.detractors / self.total
        return 100**2 * max(0.0, p + d - (p - d) ** 2) / self.total


@dataclass(frozen=True)
class Change:
    """current − previous in the figure's own unit (a proportion's value, a mean, NPS points),
    with the two-sided p-value of the product's test; None where no test can be computed."""

    change: float | None
    p_value: float | None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < ALPHA

    def as_dict(self) -> dict[str, object]:
        # Rounded for reading; `significant` is decided on the unrounded p-value.
        return {
            "change": _round(self.change),
            "p_value": _round(self.p_value),
            "significant": self.significant,
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


# --- The one significance rule


def proportion_change(*, current: Proportion, previous: Proportion) -> Change:
    """Two-proportion z-test with the pooled proportion: z = (p₁ − p₂) / √(p̂(1 − p̂)(1/n₁ +
    1/n₂)), p̂ = (x₁ + x₂) / (n₁ + n₂)."""
    if not current.total or not previous.total:
        return Change(change=None, p_value=None)
    change = current.successes / current.total - previous.successes / previous.total
    pooled = (current.successes + previous.successes) / (current.total + previous.total)
    variance = pooled * (1 - pooled) * (1 / current.total + 1 / previous.total)
    if variance <= 0:  # pooled 0 or 1: both shares are equal, z would be 0 / 0
        return Change(change=change, p_value=None)
    return Change(change=change, p_value=normal_two_sided_p(change / math.sqrt(variance)))


def mean_change(*, current: MeanSample, previous: MeanSample) -> Change:
    """Welch's t-test: t = (m₁ − m₂) / √(s₁²/n₁ + s₂²/n₂), with the Welch–Satterthwaite
    degrees of freedom (s₁²/n₁ + s₂²/n₂)² / ((s₁²/n₁)²/(n₁ − 1) + (s₂²/n₂)²/(n₂ − 1))."""
    if current.mean is None or previous.mean is None or not current.n or not previous.n:
        return Change(change=None, p_value=None)
    change = current.mean - previous.mean
    if current.sd is None or previous.sd is None or current.n < 2 or previous.n < 2:
        return Change(change=change, p_value=None)
    v1, v2 = current.sd**2 / current.n, previous.sd**2 / previous.n
    if v1 + v2 <= 0:  # every value alike on both sides: t and the df would be x / 0 and 0 / 0
        return Change(change=change, p_value=None)
    t = change / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (current.n - 1) + v2**2 / (previous.n - 1))
    return Change(change=change, p_value=t_two_sided_p(t, df))


def nps_change(*, current: NpsSample, previous: NpsSample) -> Change:
    """z = (NPS₁ − NPS₂) / √(var₁ + var₂), each variance from its promoter and detractor
    shares (NpsSample.variance); normal two-sided p-value."""
    if current.score is None or previous.score is None:
        return Change(change=None, p_value=None)
    change = current.score - previous.score
    variance = (current.variance or 0.0) + (previous.variance or 0.0)
    if variance <= 0:  # every answer in one group on both sides
        return Change(change=change, p_value=None)
    return Change(change=change, p_value=normal_two_sided_p(change / math.sqrt(variance)))


# --- Intervals of a difference, and the sample size to see one

POWER = 0.8  # the chance of seeing a real difference of a given size, for sample sizes


def newcombe_interval(*, current: Proportion, previous: Proportion) -> tuple[float, float] | None:
    """95 % interval of current − previous by Newcombe's hybrid score method (1998, method
    10), built from the two Wilson intervals: it stays inside [−1, 1] and behaves near 0 and 1,
    where the Wald interval does not."""
    a, b = current.interval, previous.interval
    if a is None or b is None:
        return None
    p1, p2 = current.successes / current.total, previous.successes / previous.total
    d = p1 - p2
    return (
        d - math.sqrt((p1 - a[0]) ** 2 + (b[1] - p2) ** 2),
        d + math.sqrt((a[1] - p1) ** 2 + (p2 - b[0]) ** 2),
    )


def mean_interval(sample: MeanSample) -> tuple[float, float] | None:
    """95 % interval of a mean, from Student's t with n − 1 degrees of freedom."""
    if sample.mean is None or sample.sd is None or sample.n < 2:
        return None
    margin = t_quantile(sample.n - 1) * sample.sd / math.sqrt(sample.n)
    return sample.mean - margin, sample.mean + margin


def welch_interval(*, current: MeanSample, previous: MeanSample) -> tuple[float, float] | None:
    """95 % interval of current − previous with Welch's standard error and degrees of
    freedom (the interval that matches mean_change's test)."""
    if current.mean is None or previous.mean is None:
        return None
    if current.sd is None or previous.sd is None or current.n < 2 or previous.n < 2:
        return None
    v1, v2 = current.sd**2 / current.n, previous.sd**2 / previous.n
    if v1 + v2 <= 0:
        return None
    df = (v1 + v2) ** 2 / (v1**2 / (current.n - 1) + v2**2 / (previous.n - 1))
    change = current.mean - previous.mean
    margin = t_quantile(df) * math.sqrt(v1 + v2)
    return change - margin, change + margin


def nps_interval(sample: NpsSample) -> tuple[float, float] | None:
    """95 % normal interval of an NPS, clipped to −100..100."""
    if sample.score is None or sample.variance is None:
        return None
    margin = Z_95 * math.sqrt(sample.variance)
    return max(-100.0, sample.score - margin), min(100.0, sample.score + margin)


def nps_difference_interval(
    *, current: NpsSample, previous: NpsSample
) -> tuple[float, float] | None:
    if current.score is None or previous.score is None:
        return None
    margin = Z_95 * math.sqrt((current.variance or 0.0) + (previous.variance or 0.0))
    change = current.score - previous.score
    return change - margin, change + margin


def sample_size_proportions(
    p1: float, p2: float, *, alpha: float = ALPHA, power: float = POWER
) -> int | None:
    """Customers needed in each of two equal groups for the pooled two-proportion z-test at
    `alpha` (two-sided) to find p1 ≠ p2 with probability `power` (Fleiss, without continuity
    correction; what R's power.prop.test solves): n = (z_{α/2} √(2 p̄ q̄) + z_β √(p₁q₁ +
    p₂q₂))² / (p₁ − p₂)², p̄ the mean of p1 and p2. None when p1 = p2 (no sample size sees a
    difference of 0)."""
    if p1 == p2:
        return None
    z_alpha, z_beta = _z(1 - alpha / 2), _z(power)
    mean = (p1 + p2) / 2
    root = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_beta * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    return math.ceil(root**2 / (p1 - p2) ** 2)


def sample_size_means(
    difference: float, sd1: float, sd2: float, *, alpha: float = ALPHA, power: float = POWER
) -> int | None:
    """Values needed in each of two equal groups to find a difference of means of this size
    with probability `power` at `alpha` (two-sided), normal approximation: n = (z_{α/2} +
    z_β)² (s₁² + s₂²) / d². The NPS uses it with each answer as +100, 0 or −100. None when
    the difference is 0."""
    if difference == 0:
        return None
    return math.ceil((_z(1 - alpha / 2) + _z(power)) ** 2 * (sd1**2 + sd2**2) / difference**2)


def _z(probability: float) -> float:
    return NormalDist().inv_cdf(probability)


def t_quantile(df: float, *, alpha: float = ALPHA) -> float:
    """The t with P(|T| ≥ t) = alpha for Student's T with df degrees of freedom, by
    bisection on t_two_sided_p (60 halvings: far below any digit shown)."""
    low, high = 0.0, 1.0
    while t_two_sided_p(high, df) > alpha:
        high *= 2
    for _step in range(60):
        middle = (low + high) / 2
        if t_two_sided_p(middle, df) > alpha:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def normal_two_sided_p(z: float) -> float:
    """P(|Z| ≥ |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2))


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| ≥ |t|) for Student's T with df (> 0, not necessarily whole) degrees of freedom:
    the regularized incomplete beta I_x(df/2, 1/2) at x = df / (df + t²)."""
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    t2 = t * t
    # 1 − x computed on its own, so that a small t over many degrees of freedom keeps its digits.
    return regularized_incomplete_beta(df / 2, 0.5, df / (df + t2), t2 / (df + t2))


def regularized_incomplete_beta(a: float, b: float, x: float, y: float | None = None) -> float:
    """I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1 (y: 1 − x, if the caller has it more exactly), by
    the continued fraction of Numerical Recipes (betai / betacf, modified Lentz), on the side
    of the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where it converges quickly."""
    if y is None:
        y = 1.0 - x
    if x <= 0:
        return 0.0
    if y <= 0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(y)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, y) / b


_TINY = 1e-300
_EPSILON = 1e-15
# For the t distribution the fraction converges within a few dozen terms (at most 40 measured,
# from 1 to 10⁸ degrees of freedom); the cap only stops a runaway on other arguments.
_MAX_TERMS = 10_000


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1, a - 1
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) >= _TINY else _TINY)
    h = d
    for m in range(1, _MAX_TERMS + 1):
        m2 = 2 * m
        # The even step, then the odd step, of the fraction's terms.
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) >= _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) >= _TINY else _TINY
            delta = d * c
            h *= delta
        if abs(delta - 1.0) < _EPSILON:
            return h
    raise ArithmeticError(f"incomplete beta did not converge (a={a}, b={b}, x={x})")
