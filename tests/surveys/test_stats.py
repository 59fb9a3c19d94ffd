"""The metric formulas of shared/docs/domain.md, with exact values."""

from __future__ import annotations

from surveys import stats


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
