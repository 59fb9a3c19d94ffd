"""How the dashboard writes its figures."""

from __future__ import annotations

from dashboards.templatetags.dashboard_format import dropoff, duration, percent, points, signed


def test_durations_in_whole_units() -> None:
    values = [None, 0, 40, 60, 12 * 60, 3600, 3600 + 20 * 60, 86400, 2 * 86400 + 4 * 3600]
    assert [duration(v) for v in values] == [
        "—",
        "0 s",
        "40 s",
        "1 min",
        "12 min",
        "1 h",
        "1 h 20 min",
        "1 d",
        "2 d 4 h",
    ]


def test_numbers_shares_and_changes() -> None:
    assert [signed(v) for v in [6, -16.6666667, 0.5, -1.1666, None]] == [
        "+6",
        "-16.67",
        "+0.5",
        "-1.17",
        "—",
    ]
    assert (percent(0.4286), points(-0.5714), dropoff(0.4286)) == ("42.9 %", "-57.1 pp", "57.1 %")


def test_nps_and_ces_intervals() -> None:
    from dashboards.templatetags.dashboard_format import interval_of
    from surveys.stats import ces, nps

    # NPS of [10, 10, 9, 7, 3]: 60 − 20 = +40; variance 100² · (0.8 − 0.16) / 5 = 1280,
    # margin 1.96 · 35.78 = 70.1: clipped at +100.
    assert interval_of(nps([10, 10, 9, 7, 3]), "nps") == "(-30.1–100.0)"
    # CES of [3, 4, 5, 4]: mean 4, sd 0.8165, t(3) = 3.1824: 4 ± 1.30.
    assert interval_of(ces([3, 4, 5, 4]), "ces") == "(2.70–5.30)"
    # [2, 4, 6]: 4 ± 4.97 with t(2) = 4.3027, clipped to the 1–7 scale.
    assert interval_of(ces([2, 4, 6]), "ces") == "(1.00–7.00)"
    assert interval_of(ces([5]), "ces") == ""
