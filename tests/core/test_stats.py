"""core.stats: Wilson intervals and the one significance rule, with expected values worked out
independently of the code under test (by hand, from closed forms, from printed tables or by
integrating the t density numerically)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core import stats
from core.stats import Change, MeanSample, NpsSample, Proportion


def test_wilson_interval_matches_the_closed_form() -> None:
    # 4 of 6, z = 1.96: centre 0.6016, margin 0.3016 (worked by hand).
    low, high = stats.wilson_interval(4, 6)
    assert (round(low, 4), round(high, 4)) == (0.3, 0.9032)
    assert stats.wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    low, high = stats.wilson_interval(10, 10)
    assert (round(low, 4), round(high, 4)) == (0.7225, 1.0)
    assert stats.wilson_interval(0, 0) is None


# --- Student's t distribution


def closed_form_two_sided_p(t: float, df: int) -> float:
    """1 − A(t|ν) for whole ν, by Abramowitz & Stegun 26.7.3 (odd ν) and 26.7.4 (even ν),
    θ = atan(|t| / √ν): a finite sum, independent of the incomplete beta function.
    Even: A = sin θ · (1 + ½ cos²θ + (1·3)/(2·4) cos⁴θ + … + (1·3…(ν−3))/(2·4…(ν−2)) cos^(ν−2)θ).
    Odd: A = (2/π)(θ + sin θ · (cos θ + ⅔ cos³θ + … + (2·4…(ν−3))/(1·3…(ν−2)) cos^(ν−2)θ)),
    and A = 2θ/π for ν = 1."""
    theta = math.atan(abs(t) / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    if df % 2 == 0:
        term = total = 1.0
        for k in range(1, df // 2):
            term *= (2 * k - 1) / (2 * k) * cos2
            total += term
        return 1 - math.sin(theta) * total
    if df == 1:
        return 1 - 2 * theta / math.pi
    term = total = math.cos(theta)
    for k in range(1, (df - 1) // 2):
        term *= (2 * k) / (2 * k + 1) * cos2
        total += term
    return 1 - 2 / math.pi * (theta + math.sin(theta) * total)


def integrated_two_sided_p(t: float, df: float) -> float:
    """1 − 2 ∫₀^|t| f(x) dx, f the t density Γ((ν+1)/2) / (√(νπ) Γ(ν/2)) (1 + x²/ν)^(−(ν+1)/2),
    by Simpson's rule on 20,000 intervals (error far below 1e-9 for these t)."""
    x = np.linspace(0.0, abs(t), 20_001)
    scale = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    f = scale * (1 + x * x / df) ** (-(df + 1) / 2)
    h = x[1] - x[0]
    integral = h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())
    return float(1 - 2 * integral)


@pytest.mark.parametrize(
    ("t", "df", "p"),
    [
        # Critical values of Student's t as printed in the usual two-tailed tables (3 decimals;
        # so agreement to 1e-4, what the rounding of t allows).
        (12.706, 1, 0.05),
        (4.303, 2, 0.05),
        (2.571, 5, 0.05),
        (2.228, 10, 0.05),
        (1.812, 10, 0.10),
        (3.169, 10, 0.01),
        (2.042, 30, 0.05),
        (2.750, 30, 0.01),
    ],
)
def test_the_t_distribution_agrees_with_the_printed_table(t: float, df: int, p: float) -> None:
    assert stats.t_two_sided_p(t, df) == pytest.approx(p, abs=1e-4)


@pytest.mark.parametrize(
    ("t", "df", "p"),
    [
        # The same critical values to full precision (t such that the two-sided p is exactly
        # 0.05 / 0.01), where the p-value must agree to 1e-6.
        (12.706204736174707, 1, 0.05),  # = tan(0.475π), from 1 − 2θ/π = 0.05
        (4.302652729749464, 2, 0.05),  # = √(2 / (1/0.95² − 1)), from 1 − t/√(2 + t²) = 0.05
        (2.570581835636314, 5, 0.05),
        (2.228138851986273, 10, 0.05),
        (3.169272667175838, 10, 0.01),
        (2.042272456301238, 30, 0.05),
        (4.032142983557536, 5, 0.01),
    ],
)
def test_the_t_distribution_at_exact_critical_values(t: float, df: int, p: float) -> None:
    assert stats.t_two_sided_p(t, df) == pytest.approx(p, abs=1e-6)


def test_the_critical_values_for_one_and_two_degrees_of_freedom_by_hand() -> None:
    # ν = 1 and ν = 2 have inverse closed forms, so these two table entries need no table.
    assert math.tan(0.475 * math.pi) == pytest.approx(12.706204736174707, rel=1e-12)
    assert math.sqrt(2 / (1 / 0.95**2 - 1)) == pytest.approx(4.302652729749464, rel=1e-12)


def test_the_t_distribution_matches_closed_forms_for_whole_degrees_of_freedom() -> None:
    for df in range(1, 41):
        for t in (0.0, 0.05, 0.3, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0, 30.0, -2.0):
            assert stats.t_two_sided_p(t, df) == pytest.approx(
                closed_form_two_sided_p(t, df), abs=1e-12
            ), (t, df)


@pytest.mark.parametrize(("t", "df"), [(2.1, 7.5), (2.46, 24.9), (0.7, 3.3), (1.0, 0.5)])
def test_the_t_distribution_matches_the_integrated_density_for_fractional_df(
    t: float, df: float
) -> None:
    assert stats.t_two_sided_p(t, df) == pytest.approx(integrated_two_sided_p(t, df), abs=1e-9)


def test_over_many_degrees_of_freedom_t_becomes_the_normal() -> None:
    assert stats.t_two_sided_p(stats.Z_95, 1e7) == pytest.approx(0.05, abs=1e-6)
    assert stats.t_two_sided_p(0.001, 1e6) == pytest.approx(
        stats.normal_two_sided_p(0.001), abs=1e-9
    )
    assert stats.normal_two_sided_p(stats.Z_95) == pytest.approx(0.05, abs=1e-12)
    assert stats.normal_two_sided_p(-2.575829303549) == pytest.approx(0.01, abs=1e-9)
    with pytest.raises(ValueError):
        stats.t_two_sided_p(1.0, 0)


def test_the_incomplete_beta_function_at_its_closed_forms() -> None:
    # I_x(a, 1) = x^a; I_x(1, b) = 1 − (1 − x)^b; I_½(a, a) = ½ by symmetry.
    for x in (0.01, 0.2, 0.5, 0.77, 0.999):
        assert stats.regularized_incomplete_beta(3.5, 1, x) == pytest.approx(x**3.5, abs=1e-13)
        assert stats.regularized_incomplete_beta(1, 2.5, x) == pytest.approx(
            1 - (1 - x) ** 2.5, abs=1e-13
        )
    # (At a = 400 the log-gamma terms are near 2,000, so 1e-12 is what doubles allow.)
    for a in (0.5, 2.0, 17.0, 400.0):
        assert stats.regularized_incomplete_beta(a, a, 0.5) == pytest.approx(0.5, abs=1e-12)
    assert stats.regularized_incomplete_beta(2, 3, 0.0) == 0.0
    assert stats.regularized_incomplete_beta(2, 3, 1.0) == 1.0


# --- Proportions: two-proportion z-test, pooled


def test_two_proportions_by_the_pooled_z_test() -> None:
    # The textbook case, 45 of 100 against 30 of 100: pooled p̂ = 75/200 = 0.375;
    # SE = √(0.375 · 0.625 · (1/100 + 1/100)) = √0.0046875 = 0.0684653;
    # z = 0.15 / 0.0684653 = 2.19089; two-sided p = 2(1 − Φ(2.19089)) = 0.02846.
    change = stats.proportion_change(current=Proportion(45, 100), previous=Proportion(30, 100))
    se = math.sqrt(0.375 * 0.625 * (1 / 100 + 1 / 100))
    assert 0.15 / se == pytest.approx(2.190890, abs=1e-6)
    assert change.change == pytest.approx(0.15, abs=1e-12)
    assert change.p_value == pytest.approx(math.erfc(0.15 / se / math.sqrt(2)), abs=1e-12)
    assert change.p_value == pytest.approx(0.028460, abs=1e-6)
    assert change.significant is True
    assert change.as_dict() == {"change": 0.15, "p_value": 0.0285, "significant": True}

    # The same shares over 40 answers each: z = 0.15 / √(0.375 · 0.625 · 2/40) = 1.38564,
    # p = 0.16586: the same change, not significant.
    small = stats.proportion_change(current=Proportion(18, 40), previous=Proportion(12, 40))
    assert small.p_value == pytest.approx(0.165857, abs=1e-6)
    assert small.significant is False

    # A fall is a negative change with the same p-value.
    fall = stats.proportion_change(current=Proportion(30, 100), previous=Proportion(45, 100))
    assert (round(fall.change, 12), fall.p_value) == (-0.15, change.p_value)


def test_proportion_edge_cases() -> None:
    # No answers on a side: nothing to compare.
    none = stats.proportion_change(current=Proportion(0, 0), previous=Proportion(3, 10))
    assert none.as_dict() == {"change": None, "p_value": None, "significant": False}
    assert stats.proportion_change(current=Proportion(3, 10), previous=Proportion(0, 0)) == none
    # Pooled proportion 0 or 1: both shares equal, z = 0 / 0, so no p-value.
    for current, previous in (
        (Proportion(0, 10), Proportion(0, 50)),
        (Proportion(7, 7), Proportion(3, 3)),
    ):
        same = stats.proportion_change(current=current, previous=previous)
        assert same.as_dict() == {"change": 0.0, "p_value": None, "significant": False}
    # Equal shares otherwise: z = 0, p = 1 exactly.
    even = stats.proportion_change(current=Proportion(2, 4), previous=Proportion(5, 10))
    assert (even.change, even.p_value, even.significant) == (0.0, 1.0, False)


# --- Means: Welch's t-test


def test_welch_with_equal_variances_and_sizes_has_a_closed_form() -> None:
    # [1, 3] against [4, 6]: means 2 and 5, variances 2 and 2 (n − 1 = 1);
    # t = −3 / √(2/2 + 2/2) = −2.12132; df = (1 + 1)² / (1²/1 + 1²/1) = 2;
    # for ν = 2, p = 1 − |t| / √(2 + t²) = 1 − 2.12132 / √6.5 = 0.16795.
    change = stats.mean_change(current=MeanSample.of([1, 3]), previous=MeanSample.of([4, 6]))
    t = -3 / math.sqrt(2)
    assert change.change == -3.0
    assert change.p_value == pytest.approx(1 - abs(t) / math.sqrt(2 + t * t), abs=1e-12)
    assert change.p_value == pytest.approx(0.167949, abs=1e-6)
    assert change.significant is False

    # [5, 5, 3, 3, 4] against [4, 4, 2, 2, 3]: means 4 and 3, standard deviations 1 and 1;
    # t = 1 / √(1/5 + 1/5) = 1.58114, df = 0.4² / (2 · 0.2² / 4) = 8; A&S 26.7.4 with ν = 8:
    # p = 1 − sin θ (1 + ½cos²θ + ⅜cos⁴θ + 5/16 cos⁶θ), tan θ = t / √8, = 0.15250.
    change = stats.mean_change(
        current=MeanSample.of([5, 5, 3, 3, 4]), previous=MeanSample.of([4, 4, 2, 2, 3])
    )
    expected = closed_form_two_sided_p(1 / math.sqrt(0.4), 8)
    assert change.p_value == pytest.approx(expected, abs=1e-12)
    assert change.p_value == pytest.approx(0.152502, abs=1e-6)


def test_welch_with_unequal_variances() -> None:
    # CES answers [7, 6, 6, 5] against [6, 4, 5, 3, 2, 4], by hand:
    # means 6 and 4; variances (1 + 0 + 0 + 1) / 3 = 2/3 and (4 + 0 + 1 + 1 + 4 + 0) / 5 = 2;
    # s²/n: (2/3) / 4 = 1/6 and 2 / 6 = 1/3, together 1/2;
    # t = 2 / √(1/2) = 2√2 = 2.828427;
    # df = (1/2)² / ((1/6)²/3 + (1/3)²/5) = (1/4) / (1/108 + 1/45) = (1/4) / (17/540) = 135/17
    #    = 7.941176 (Student's test would say 8);
    # p from integrating the t density with 135/17 degrees of freedom: 0.022369.
    change = stats.mean_change(
        current=MeanSample.of([7, 6, 6, 5]), previous=MeanSample.of([6, 4, 5, 3, 2, 4])
    )
    assert change.change == 2.0
    assert change.p_value == pytest.approx(
        integrated_two_sided_p(2 * math.sqrt(2), 135 / 17), abs=1e-9
    )
    assert change.p_value == pytest.approx(0.022369, abs=1e-6)
    assert change.as_dict() == {"change": 2.0, "p_value": 0.0224, "significant": True}
    # Swapped, the change turns negative and the p-value stays.
    back = stats.mean_change(
        current=MeanSample.of([6, 4, 5, 3, 2, 4]), previous=MeanSample.of([7, 6, 6, 5])
    )
    assert (back.change, back.p_value) == (-2.0, pytest.approx(change.p_value, abs=1e-15))


def test_welch_when_one_side_does_not_vary() -> None:
    # [5, 5, 5] against [3, 4, 5, 4]: s² 0 and 2/3; s²/n 0 and 1/6; t = 1 / √(1/6) = 2.44949;
    # df = (1/6)² / ((1/6)² / 3) = 3, the varying side's n − 1. A&S 26.7.3 with ν = 3:
    # p = 1 − (2/π)(θ + sin θ cos θ), tan θ = t/√3 = √2, so θ = 0.955317 and
    # sin θ cos θ = tan θ / (1 + tan²θ) = √2/3 = 0.471405: p = 1 − 0.908279 = 0.091721.
    change = stats.mean_change(
        current=MeanSample.of([5, 5, 5]), previous=MeanSample.of([3, 4, 5, 4])
    )
    theta = math.atan(math.sqrt(2))
    expected = 1 - 2 / math.pi * (theta + math.sin(theta) * math.cos(theta))
    assert change.p_value == pytest.approx(expected, abs=1e-12)
    assert change.p_value == pytest.approx(0.091721, abs=1e-6)


def test_mean_edge_cases() -> None:
    empty = MeanSample.of([])
    assert empty == MeanSample(mean=None, sd=None, n=0)
    assert stats.mean_change(current=empty, previous=MeanSample.of([4, 5])).as_dict() == {
        "change": None,
        "p_value": None,
        "significant": False,
    }
    # One answer on a side: a mean, so a change, but no standard deviation, so no test.
    one = MeanSample.of([5])
    assert one == MeanSample(mean=5.0, sd=None, n=1)
    assert stats.mean_change(current=one, previous=MeanSample.of([1, 2, 3])) == Change(
        change=3.0, p_value=None
    )
    # Every answer alike on both sides: t = 1 / 0, df = 0 / 0, no test, however clear it looks.
    flat = stats.mean_change(current=MeanSample.of([5, 5, 5]), previous=MeanSample.of([4, 4]))
    assert (flat.change, flat.p_value, flat.significant) == (1.0, None, False)
    assert MeanSample.of([1, 2, 3, 4]) == MeanSample(mean=2.5, sd=math.sqrt(5 / 3), n=4)


# --- NPS: the difference of two scores, variance from the promoter and detractor shares


def test_nps_change() -> None:
    # 50 promoters and 20 detractors of 100: NPS 30; var = 100² (0.5 + 0.2 − 0.3²) / 100 = 61.
    # 40 and 30 of 100: NPS 10; var = 100² (0.4 + 0.3 − 0.1²) / 100 = 69.
    # z = 20 / √130 = 1.754116; p = 2(1 − Φ(z)) = 0.079411: not significant.
    current, previous = NpsSample(50, 20, 100), NpsSample(40, 30, 100)
    assert (current.score, current.variance) == (30.0, pytest.approx(61.0, abs=1e-9))
    assert (previous.score, previous.variance) == (10.0, pytest.approx(69.0, abs=1e-9))
    change = stats.nps_change(current=current, previous=previous)
    assert change.change == pytest.approx(20.0, abs=1e-12)
    assert change.p_value == pytest.approx(math.erfc(20 / math.sqrt(130) / math.sqrt(2)), abs=1e-12)
    assert change.p_value == pytest.approx(0.079411, abs=1e-6)
    assert change.significant is False
    # The same shares over 200 answers each halve the variances: z = 20 / √65 = 2.480695,
    # p = 0.013113: significant.
    bigger = stats.nps_change(current=NpsSample(100, 40, 200), previous=NpsSample(80, 60, 200))
    assert bigger.p_value == pytest.approx(0.013113, abs=1e-6)
    assert bigger.as_dict() == {"change": 20.0, "p_value": 0.0131, "significant": True}


def test_nps_edge_cases() -> None:
    assert stats.nps_change(current=NpsSample(0, 0, 0), previous=NpsSample(3, 1, 5)) == Change(
        change=None, p_value=None
    )
    # All promoters against all detractors: each score has variance 0 (p + d − (p − d)² = 0),
    # so z = 200 / 0: no test.
    assert stats.nps_change(current=NpsSample(4, 0, 4), previous=NpsSample(0, 3, 3)) == Change(
        change=200.0, p_value=None
    )
    # One side that does not vary is fine: the other carries the variance.
    # 100 (all 5 promoters, var 0) against 1 promoter, 1 detractor of 4 (NPS 0,
    # var = 100² (0.5 − 0) / 4 = 1250): z = 100 / √1250 = 2.828427, p = 0.004678.
    one_sided = stats.nps_change(current=NpsSample(5, 0, 5), previous=NpsSample(1, 1, 4))
    assert one_sided.p_value == pytest.approx(math.erfc(2.0), abs=1e-12)  # z/√2 = 2 exactly
    assert one_sided.p_value == pytest.approx(0.004678, abs=1e-6)


def test_significance_is_p_below_five_percent() -> None:
    assert Change(change=1.0, p_value=0.0499).significant is True
    assert Change(change=1.0, p_value=0.05).significant is False
    assert Change(change=1.0, p_value=None).significant is False


# --- Intervals of a difference and sample sizes (the experiments' verdicts)


def test_newcombe_interval_matches_the_papers_worked_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 − 48/80 = 0.2, and
    # method 10 (hybrid score) gives 0.0524 to 0.3339.
    low, high = stats.newcombe_interval(current=Proportion(56, 70), previous=Proportion(48, 80))
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_sample_size_for_two_proportions_matches_r_power_prop_test() -> None:
    # R's documented example: power.prop.test(p1 = .50, p2 = .75, power = .90) gives
    # n = 76.65 per group; at 80 % power it gives 57.67.
    assert stats.sample_size_proportions(0.5, 0.75, power=0.9) == 77
    assert stats.sample_size_proportions(0.5, 0.75) == 58
    assert stats.sample_size_proportions(0.75, 0.5) == 58  # the direction does not matter
    assert stats.sample_size_proportions(0.3, 0.3) is None


def test_sample_size_for_two_means_matches_the_normal_approximation() -> None:
    # A difference of half a standard deviation at 5 % two-sided and 80 % power: 2 (1.95996
    # + 0.84162)² / 0.5² = 62.79, so 63 per group (the textbook's "about 63").
    assert stats.sample_size_means(0.5, 1.0, 1.0) == 63
    assert stats.sample_size_means(0.0, 1.0, 1.0) is None


def test_t_quantile_matches_the_printed_table() -> None:
    assert round(stats.t_quantile(1), 4) == 12.7062
    assert round(stats.t_quantile(10), 4) == 2.2281
    assert round(stats.t_quantile(1e9), 4) == 1.96
