"""The metric formulas of shared/docs/domain.md, with exact values, and the comparison of two
periods' results by the one significance rule (the tests themselves: tests/core/test_stats.py)."""

from __future__ import annotations

import math

import pytest

from surveys import stats


def test_csat_is_the_share_of_fours_and_fives_with_the_mean() -> None:
    result = stats.csat([5, 4, 4, 3, 1, 5])
    assert result == {
        "share": {"successes": 4, "total": 6, "value": 0.6667, "low": 0.3, "high": 0.9032},
        "mean": 3.67,
        # Squared deviations from 22/6: 16/9 + 1/9 + 1/9 + 4/9 + 64/9 + 16/9 = 34/3;
        # √((34/3) / 5) = 1.505545.
        "sd": 1.5055,
        "count": 6,
    }
    assert stats.csat([])["share"]["value"] is None
    assert (stats.csat([])["sd"], stats.csat([4])["sd"]) == (None, None)


def test_nps_is_promoters_minus_detractors() -> None:
    result = stats.nps([10, 9, 8, 7, 6, 0, 10])
    assert result["score"] == 14.3
    assert result["promoters"]["successes"] == 3
    assert result["passives"]["successes"] == 2
    assert result["detractors"]["successes"] == 2
    assert stats.nps([0, 0])["score"] == -100.0
    assert stats.nps([9, 10])["score"] == 100.0
    assert stats.nps([])["score"] is None


def test_ces_is_the_mean_of_the_seven_point_scale() -> None:
    # Deviations from 5: 2, 1, 0, −3; √(14 / 3) = 2.160247.
    assert stats.ces([7, 6, 5, 2]) == {"mean": 5.0, "sd": 2.1602, "count": 4}
    assert stats.ces([3]) == {"mean": 3.0, "sd": None, "count": 1}
    assert stats.ces([]) == {"mean": None, "sd": None, "count": 0}


def test_csat_change_tests_the_share_and_the_mean() -> None:
    current, previous = stats.csat([5, 5, 3, 3, 4]), stats.csat([4, 4, 2, 2, 3])

    change = stats.survey_change(kind="csat", current=current, previous=previous)

    # Share: 3 of 5 against 2 of 5; pooled 0.5; z = 0.2 / √(0.25 · 2/5) = 0.632456,
    # p = 2(1 − Φ(z)) = 0.527089.
    # Mean: 4 and 3, both with sd 1 over 5 answers; t = 1 / √0.4 = 1.581139, df = 8
    # (Welch–Satterthwaite: 0.4² / (2 · 0.2² / 4)); p = 0.152502 (A&S 26.7.4, ν = 8).
    assert change == {
        "share": {"change": 0.2, "p_value": 0.5271, "significant": False},
        "mean": {"change": 1.0, "p_value": 0.1525, "significant": False},
    }
    assert math.erfc(0.2 / math.sqrt(0.1) / math.sqrt(2)) == pytest.approx(0.527089, abs=1e-6)


def test_ces_change_is_welch_on_the_stored_mean_and_sd() -> None:
    # The worked example of tests/core/test_stats.py: t = 2√2, df = 135/17, p = 0.022369; the
    # stored sd (0.8165 and 1.4142, rounded) moves p by less than 1e-5.
    current, previous = stats.ces([7, 6, 6, 5]), stats.ces([6, 4, 5, 3, 2, 4])
    assert (current["sd"], previous["sd"]) == (0.8165, 1.4142)

    change = stats.survey_change(kind="ces", current=current, previous=previous)

    assert change == {"mean": {"change": 2.0, "p_value": 0.0224, "significant": True}}


def test_nps_change_is_in_points() -> None:
    # 50 promoters, 30 passives, 20 detractors of 100 (NPS 30) against 40, 30, 30 (NPS 10):
    # variances 61 and 69 (tests/core/test_stats.py), z = 20 / √130, p = 0.079411.
    current = stats.nps([10] * 50 + [7] * 30 + [3] * 20)
    previous = stats.nps([9] * 40 + [8] * 30 + [0] * 30)

    change = stats.survey_change(kind="nps", current=current, previous=previous)

    assert change == {"score": {"change": 20.0, "p_value": 0.0794, "significant": False}}


def test_a_change_needs_answers_on_both_sides() -> None:
    empty, some = stats.csat([]), stats.csat([5, 4, 1])
    nothing = {"change": None, "p_value": None, "significant": False}
    assert stats.survey_change(kind="csat", current=some, previous=empty) == {
        "share": nothing,
        "mean": nothing,
    }
    assert stats.survey_change(kind="nps", current=stats.nps([]), previous=stats.nps([9])) == {
        "score": nothing
    }
    # One answer: a mean but no sd, so a change without a test. A result stored before it
    # carried `sd` reads the same.
    one = stats.ces([6])
    assert stats.survey_change(kind="ces", current=one, previous=stats.ces([2, 3, 4])) == {
        "mean": {"change": 3.0, "p_value": None, "significant": False}
    }
    older = {"mean": 6.0, "count": 12}
    assert stats.survey_change(kind="ces", current=older, previous=stats.ces([2, 3, 4])) == {
        "mean": {"change": 3.0, "p_value": None, "significant": False}
    }
    with pytest.raises(ValueError, match="csat, nps, ces"):
        stats.survey_change(kind="bounce", current=some, previous=some)
