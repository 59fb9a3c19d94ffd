from __future__ import annotations

import pytest

from core import stats


def test_wilson_interval_matches_the_closed_form() -> None:
    # 4 of 6, z = 1.96: centre 0.6016, margin 0.3016 (worked by hand).
    low, high = stats.wilson_interval(4, 6)
    assert (round(low, 4), round(high, 4)) == (0.3, 0.9032)
    assert stats.wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    low, high = stats.wilson_interval(10, 10)
    assert (round(low, 4), round(high, 4)) == (0.7225, 1.0)
    assert stats.wilson_interval(0, 0) is None
