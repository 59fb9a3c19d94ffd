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
