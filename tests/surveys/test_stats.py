"""The metric formulas of shared/docs/domain.md, with exact values."""

from __future__ import annotations

import pytest

from surveys import stats


def test_wilson_interval_matches_the_closed_form() -> None:
    # 4 of 6, z = 1.96: centre 0.6016, margin 0.3016 (worked by hand).
    low, high = stats.wilson_interval(4, 6)
    assert (round(low, 4), round(high, 4)) == (0.3, 0.9032)
    assert stats.wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    low, high = stats.wilson_interval(10, 10)
    assert (round(low, 4), round(high, 4)) == (0.7225, 1.0)
    assert stats.wilson_interval(0, 0) is None


def test_csat_is_the_share_of_fours_and_fives_with_the_mean() -> None:
    result = stats.csat([5, 4, 4, 3, 1, 5])
    assert result == {
        "share": {"successes": 4, "total": 6, "value": 0.6667, "low": 0.3, "high": 0.9032},
        "mean": 3.67,
        "count": 6,
    }
    assert stats.csat([])["share"]["value"] is None


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
    assert stats.ces([7, 6, 5, 2]) == {"mean": 5.0, "count": 4}
    assert stats.ces([]) == {"mean": None, "count": 0}
