"""A stage in detail, and the designed-vs-measured chart: exact figures from the worked example
(tests/metrics/timelines.py) and declared survey answers."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from journeys.models import Journey, Stage, Touchpoint
from metrics import recompute
from tests.factories import StoreFactory
from tests.metrics.test_funnel_api import STAGES, ingest, journey_for
from tests.surveys.test_results import Customer, given, make_survey

pytestmark = pytest.mark.django_db

JANUARY = {"period": "month:2026-01"}


def _stage(store: Any, moment: str) -> Stage:
    return Stage.objects.get(journey__store=store, journey__status="active", moment=moment)


def _page(client: Client, store: Any, stage: Stage, **query: Any) -> str:
    answer = client.get(f"/stores/{store.pk}/dashboard/stages/{stage.pk}/", query)
    assert answer.status_code == 200
    return answer.content.decode()


def _figure(html: str, name: str) -> dict[str, Any]:
    found = re.search(rf'<script id="{name}" type="application/json">(.*?)</script>', html, re.S)
    assert found, f"{name} is embedded as JSON"
    return json.loads(found.group(1))


def _cells(html: str) -> list[list[str]]:
    """Every table row's cells as text."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def test_a_stage_shows_its_events_its_times_and_its_customers(
    example_store: Any, client_as: Any
) -> None:
    fmot = _stage(example_store, "FMOT")
    html = _page(client_as("editor"), example_store, fmot, **JANUARY)
    cells = _cells(html)
    # January: 7 enter (search), 3 reach product_view within the window (c1, c2, c7): 4 drop.
    assert "42.9 %" in html
    assert re.search(r"Dropped off before it</dt><dd>4<", html)
    # product_view events dated in January: c1, c2, c3, c6, c7, c10 (c5's is on 1 February).
    assert ["product_view", "6"] in cells
    # Time to convert: c7 at once (0 s), c1 after 0.04 d = 57 min 36 s, c2 after 2 days.
    histogram = _figure(html, "histogram-figure")["data"][0]
    counts = dict(zip(histogram["x"], histogram["y"], strict=True))
    assert counts["0 s – 1 min"] == 1
    assert counts["30 min – 1 h"] == 1
    assert counts["1 d – 2 d"] == 0 and counts["2 d – 3 d"] == 1
    assert sum(histogram["y"]) == 3
    # The converted list is the figure on the card, and the dropped list its complement.
    assert html.count("<code>c") == 3
    assert all(f"<code>{key}</code>" in html for key in ("c1", "c2", "c7"))
    dropped = _page(client_as("editor"), example_store, fmot, outcome="dropped", **JANUARY)
    assert all(f"<code>{key}</code>" in dropped for key in ("c4", "c5", "c6", "c8"))
    assert dropped.count("<code>c") == 4
    assert "Converted (3)" in dropped and "Dropped off (4)" in dropped


def test_a_stage_of_two_event_names_counts_each(example_store: Any, client_as: Any) -> None:
    smot = _stage(example_store, "SMOT")
    cells = _cells(_page(client_as("viewer"), example_store, smot, **JANUARY))
    # purchase: c1 (day 1), c6 (day 2), c4 (day 3); add_to_cart: c2 (day 2). Most first.
    assert cells[cells.index(["purchase", "3"]) + 1] == ["add_to_cart", "1"]


def test_event_counts_carry_the_languages_thousands_separator(
    example_store: Any, client_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy stage's event counts are written like every other count on the page."""
    from dashboards import drilldown

    original = drilldown.stage_detail

    def busier(**kwargs: Any) -> drilldown.StageDetail:
        detail = original(**kwargs)
        detail.names = [("purchase", 2182)]
        return detail

    monkeypatch.setattr(drilldown, "stage_detail", busier)
    smot = _stage(example_store, "SMOT")
    client = client_as("viewer")
    assert ["purchase", "2,182"] in _cells(_page(client, example_store, smot, **JANUARY))
    romanian = client.get(
        f"/stores/{example_store.pk}/dashboard/stages/{smot.pk}/",
        JANUARY,
        HTTP_ACCEPT_LANGUAGE="ro",
    )
    assert ["purchase", "2.182"] in _cells(romanian.content.decode())


def test_answers_and_comments_without_who_wrote_them(example_store: Any, client_as: Any) -> None:
    survey = make_survey(example_store, questions=["rating", "text"], moment="FMOT", name="Pages")
    in_january = datetime(2026, 1, 20, tzinfo=UTC)
    given(
        survey,
        [
            Customer(
                "ona@example.com",
                answers={"rating": 5, "text": "Puiku <b>!</b>"},
                answered_at=in_january,
                language="lt",
            ),
            Customer(
                "tom@example.com",
                answers={"rating": 2, "text": "Slow photos"},
                answered_at=in_january,
            ),
            Customer("eve@example.com", answers={"rating": 4}, answered_at=in_january),
            Customer(
                "old@example.com",
                answers={"rating": 1, "text": "Too late"},
                answered_at=datetime(2025, 12, 20, tzinfo=UTC),
            ),
        ],
    )
    fmot = _stage(example_store, "FMOT")
    html = _page(client_as("viewer"), example_store, fmot, **JANUARY)
    cells = _cells(html)
    assert ["2", "1"] in cells and ["4", "1"] in cells and ["5", "1"] in cells
    assert "2 comments in the period, newest first." in html
    assert "Puiku &lt;b&gt;!&lt;/b&gt;" in html  # escaped
    assert "Slow photos" in html and "Too late" not in html
    assert "ona@example.com" not in html and "tom@example.com" not in html
    # Viewers see counts, never the customers behind them.
    assert "<code>c1</code>" not in html and "Download as CSV" not in html


def test_designed_against_measured_on_the_dashboard(example_store: Any, client_as: Any) -> None:
    journey = Journey.objects.get(store=example_store, status="active")
    fmot = _stage(example_store, "FMOT")
    Touchpoint.objects.filter(stage=fmot).update(emotion=2)
    Touchpoint.objects.create(stage=fmot, name="Photos", emotion=-1, position=9)
    survey = make_survey(example_store, questions=["rating"], moment="FMOT", name="Pages")
    given(
        survey,
        [
            Customer(
                f"b{i}@example.com",
                answers={"rating": score},
                answered_at=datetime(2026, 1, 9, tzinfo=UTC),
            )
            for i, score in enumerate([2, 3, 2])
        ],
    )
    answer = client_as("viewer").get(f"/stores/{example_store.pk}/dashboard/", JANUARY)
    html = answer.content.decode()
    trace_designed, trace_measured = _figure(html, "designed-figure")["data"]
    labels = [f"{s.moment} · {s.name}" for s in journey.stages.all()]
    assert trace_designed["x"] == labels
    # FMOT: touchpoints +2 and −1 → +0.5 designed; CSAT mean 7 / 3 = 2.33 → −0.67 measured.
    index = labels.index(f"FMOT · {fmot.name}")
    assert trace_designed["y"][index] == 0.5
    assert trace_measured["y"][index] == -0.67
    assert ["FMOT · " + fmot.name, "+0.5", "-0.67", "-1.17", "3"] in _cells(html)
    assert trace_measured["y"][0] is None  # ZMOT has no answers


def test_a_stage_of_another_store_or_map_is_not_found(
    example_store: Any, client_as: Any, organisation: Any, other_organisation: Any
) -> None:
    viewer = client_as("viewer")
    other = StoreFactory(organisation=organisation, time_zone="UTC")
    journey_for(other, STAGES)
    foreign_stage = _stage(other, "FMOT")
    url = f"/stores/{example_store.pk}/dashboard/stages/{foreign_stage.pk}/"
    assert viewer.get(url).status_code == 404
    foreign = StoreFactory(organisation=other_organisation)
    fmot = _stage(example_store, "FMOT")
    assert viewer.get(f"/stores/{foreign.pk}/dashboard/stages/{fmot.pk}/").status_code == 404


def test_the_dashboard_links_each_stage_to_its_detail(example_store: Any, client_as: Any) -> None:
    html = client_as("viewer").get(f"/stores/{example_store.pk}/dashboard/", JANUARY)
    text = html.content.decode()
    fmot = _stage(example_store, "FMOT")
    assert (
        f'href="/stores/{example_store.pk}/dashboard/stages/{fmot.pk}/?period=month%3A2026-01"'
        in text
    )
    assert _figure(text, "funnel-figure")["data"][0]["customdata"][1] == fmot.pk


def test_trends_by_week_and_month_with_open_periods_marked(
    example_store: Any, client_as: Any
) -> None:
    client = client_as("viewer")
    html = client.get(f"/stores/{example_store.pk}/dashboard/", {"trend": "month"}).content
    page = html.decode()
    conversion = _figure(page, "trend-conversion")["data"]
    # Months from the first with a customer (December: c10 searched on 29 December) to this
    # one, oldest first; one line per converting stage.
    fmot = conversion[0]
    assert fmot["x"] == ["2025-12", "2026-01", "2026-02", "2026-03"]
    # January: FMOT 3 of 7; SMOT 2 of 3 (see tests/metrics/test_rollups.py).
    assert fmot["y"][-3] == pytest.approx(3 / 7)
    assert conversion[1]["y"][-3] == pytest.approx(2 / 3)
    # Shares in hovers and on the axis as the page writes them, in the page's language.
    assert fmot["customdata"][-3] == "42.9 %"
    assert fmot["hovertemplate"] == "%{x|%B %Y}: %{customdata}<extra>%{fullData.name}</extra>"
    yaxis = _figure(page, "trend-conversion")["layout"]["yaxis"]
    assert yaxis["ticktext"] == ["0 %", "20 %", "40 %", "60 %", "80 %", "100 %"]
    assert yaxis["tickvals"] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    lithuanian = client.get(
        f"/stores/{example_store.pk}/dashboard/", {"trend": "month"}, HTTP_ACCEPT_LANGUAGE="lt"
    ).content.decode()
    assert _figure(lithuanian, "trend-conversion")["data"][0]["customdata"][-3] == "42,9 %"
    # With a 30-day window on 15 March, January is complete, February and March are not.
    assert fmot["marker"]["symbol"][-3:] == ["circle", "circle-open", "circle-open"]
    rows = _cells(page)
    assert ["2026-01", "42.9 %", "66.7 %", "50.0 %", "100.0 %"] in rows
    assert any(row[0] == "2026-03 *" for row in rows)
    weeks = client.get(f"/stores/{example_store.pk}/dashboard/", {"trend": "week"}).content
    week_figure = _figure(weeks.decode(), "trend-conversion")["data"][0]
    # 29 December 2025 (c10's search) is in ISO week 1 of 2026.
    assert week_figure["x"][0] == "2026-W01" and week_figure["x"][-1] == "2026-W11"
    store_chart = _figure(page, "trend-store")["data"]
    assert [trace["name"] for trace in store_chart] == ["Bounce rate", "Retention"]


def test_every_figure_downloads_as_csv_with_its_period(example_store: Any, client_as: Any) -> None:
    import csv
    import io

    answer = client_as("viewer").get(
        f"/stores/{example_store.pk}/dashboard/export.csv", {**JANUARY, "trend": "month"}
    )
    assert answer.status_code == 200
    assert answer["Content-Disposition"].endswith(
        f'dashboard-{example_store.pk}-20260101-20260131.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    fmot = _stage(example_store, "FMOT")
    conversion = next(
        r
        for r in rows
        if r["section"] == "funnel"
        and r["stage_id"] == str(fmot.pk)
        and r["figure"] == "conversion"
    )
    assert (conversion["successes"], conversion["total"], conversion["value"]) == (
        "3",
        "7",
        "0.4286",
    )
    assert (conversion["previous_value"], conversion["change"]) == ("1.0", "-0.5714")
    assert (conversion["period_start"], conversion["period_end"]) == ("2026-01-01", "2026-01-31")
    assert conversion["computed_at"]
    january = [
        r
        for r in rows
        if r["section"] == "trend_month"
        and r["period_start"] == "2026-01-01"
        and r["figure"] == "conversion"
    ]
    assert [(r["successes"], r["total"]) for r in january] == [
        ("3", "7"),
        ("2", "3"),
        ("1", "2"),
        ("1", "1"),
    ]
    assert any(r["figure"] == "bounce_rate" for r in rows)
    empty = StoreFactory(organisation=example_store.organisation, time_zone="UTC")
    assert client_as("viewer").get(f"/stores/{empty.pk}/dashboard/export.csv").status_code == 409


def test_the_stage_page_takes_the_same_queries_whatever_the_size(
    example_store: Any,
    client_as: Any,
    organisation: Any,
    django_assert_num_queries: Any,
    django_assert_max_num_queries: Any,
) -> None:
    editor = client_as("editor")
    fmot = _stage(example_store, "FMOT")
    _page(editor, example_store, fmot, outcome="dropped", **JANUARY)  # warm the session
    with django_assert_max_num_queries(40) as small:
        _page(editor, example_store, fmot, outcome="dropped", **JANUARY)
    queries = len(small)  # now: the log is a bounded deque that the set-up below rolls over
    big = StoreFactory(organisation=organisation, time_zone="UTC")
    journey_for(big, [("ZMOT", ["search"]), ("FMOT", ["product_view", "review_read", "zoom"])])
    stage = _stage(big, "FMOT")
    for n in range(6):
        Touchpoint.objects.create(stage=stage, name=f"Extra {n}", position=10 + n)
    ingest(
        big,
        {
            f"c{i}": [("search", 10 + i % 9), ("product_view", 10.5 + i % 9), ("zoom", 11 + i % 9)]
            for i in range(80)
        }
        | {f"d{i}": [("search", 12)] for i in range(30)},
    )
    recompute.results_recompute(store_id=big.pk)
    _page(editor, big, stage, outcome="dropped", **JANUARY)
    with django_assert_num_queries(queries):
        _page(editor, big, stage, outcome="dropped", **JANUARY)


def test_experiments_are_marked_on_the_trend_charts_at_their_go_live_day(
    example_store: Any, client_as: Any, actor: Any
) -> None:
    from datetime import date

    from journeys.models import Touchpoint
    from journeys.services import experiment_create

    touchpoint = Touchpoint.objects.filter(stage=_stage(example_store, "FMOT")).first()
    assert touchpoint is not None
    for title, day in (
        ("Bigger photos", date(2026, 2, 10)),
        ("Free returns", date(2025, 12, 8)),
        ("Too early", date(2025, 6, 1)),
    ):
        experiment_create(
            touchpoint=touchpoint,
            actor=actor,
            title=title,
            change="A change.",
            started_on=day,
            metric="conversion",
        )
    html = client_as("viewer").get(f"/stores/{example_store.pk}/dashboard/", {"trend": "month"})
    page = html.content.decode()
    for key in ("trend-conversion", "trend-store"):
        figure = _figure(page, key)
        layout = figure["layout"]
        assert figure["data"][0]["x"] == ["2025-12", "2026-01", "2026-02", "2026-03"]
        # Only the experiments inside the charted months, on their months' categories.
        assert sorted((s["x0"], s["x1"]) for s in layout["shapes"]) == [
            ("2025-12", "2025-12"),
            ("2026-02", "2026-02"),
        ]
        # Each label runs towards the middle, and the axis holds the months only: plotly.js
        # would widen an axis it ranges itself to fit the labels (a third of a phone's chart).
        assert sorted((a["x"], a["text"], a["xanchor"]) for a in layout["annotations"]) == [
            ("2025-12", "Free returns", "left"),
            ("2026-02", "Bigger photos", "right"),
        ]
        # Months are a date axis (plotly.js names them in the page's language): half a month
        # either side of the first and last.
        assert layout["xaxis"]["type"] == "date"
        assert layout["xaxis"]["range"] == ["2025-11-16", "2026-03-16"]
        february = next(a for a in layout["annotations"] if a["x"] == "2026-02")
        assert february["hovertext"].startswith("2026-02-10 · FMOT · ")
    # ISO weeks stay categories, ranged over the weeks alone.
    weekly = client_as("viewer").get(f"/stores/{example_store.pk}/dashboard/", {"trend": "week"})
    figure = _figure(weekly.content.decode(), "trend-conversion")
    weeks = figure["data"][0]["x"]
    assert weeks[0].startswith("20") and "-W" in weeks[0]
    assert figure["layout"]["xaxis"]["type"] == "category"
    assert figure["layout"]["xaxis"]["range"] == [-0.5, len(weeks) - 0.5]


def test_what_buyers_write_per_language_with_examples(example_store: Any, client_as: Any) -> None:
    from surveys import services as survey_services

    survey = make_survey(example_store, questions=["rating", "text"], moment="FMOT", name="Pages")
    given(
        survey,
        [
            Customer(
                "ona@example.com",
                answers={"rating": 2, "text": "Puslapis <b>lėtas</b>, nuotraukos kraunasi ilgai."},
                answered_at=datetime(2026, 1, 20, tzinfo=UTC),
                language="lt",
            ),
            Customer(
                "jonas@example.com",
                answers={"rating": 1, "text": "Lėtas puslapis."},
                answered_at=datetime(2026, 1, 21, tzinfo=UTC),
                language="lt",
            ),
            Customer(
                "tom@example.com",
                answers={"rating": 5, "text": "Slow photos"},
                answered_at=datetime(2026, 1, 22, tzinfo=UTC),
            ),
        ],
    )
    survey_services.comment_themes_compute(store_id=example_store.pk)
    fmot = _stage(example_store, "FMOT")

    html = _page(client_as("viewer"), example_store, fmot, **JANUARY)

    themes = html[html.index('id="themes"') : html.index("</section>", html.index('id="themes"'))]
    cells = _cells(themes)
    assert cells[0] == ["Word or phrase", "Comments", "Share", "Mean CSAT (1–5)", "Examples"]
    # The markup between "Puslapis" and "lėtas" ends a clause: they make no phrase there.
    assert [row[:4] for row in cells[1:]] == [
        ["lėtas", "2", "100.0 %", "1.50"],
        ["puslapis", "2", "100.0 %", "1.50"],
        ["All comments", "2", "100.0 %", "1.50"],
    ]
    assert "Lithuanian" in themes and "English" in themes
    assert "No word comes back in two of these comments yet." in themes  # one English comment
    # The examples, newest first and escaped, never with who wrote them.
    first = themes.index("Lėtas puslapis.")
    assert first < themes.index("Puslapis &lt;b&gt;lėtas&lt;/b&gt;, nuotraukos kraunasi ilgai.")
    assert "<b>lėtas</b>" not in themes
    assert "ona@example.com" not in html and "jonas@example.com" not in html
    assert "Counted 2026-03-15 12:00 (store time), whatever the period above." in themes
    assert 'href="?period=month%3A2026-01&amp;themes=all_time#themes"' in themes

    all_time = _page(client_as("viewer"), example_store, fmot, themes="all_time", **JANUARY)
    assert '#themes" aria-current="page">All time' in all_time
    empty = _page(client_as("viewer"), example_store, _stage(example_store, "ZMOT"), **JANUARY)
    assert "No comment of this stage's surveys has been counted yet" in empty


def test_trends_in_lithuanian_carry_its_separators_and_month_names(
    example_store: Any, client_as: Any
) -> None:
    html = client_as("viewer").get(
        f"/stores/{example_store.pk}/dashboard/",
        {"trend": "month"},
        HTTP_ACCEPT_LANGUAGE="lt",
    )
    page = html.content.decode()
    chart = _figure(page, "trend-conversion")
    # plotly.js draws "72,0 %" and "5 000", and names the months from Django's Lithuanian.
    assert chart["layout"]["separators"] == ",\xa0"
    assert chart["config"]["locale"] == "lt"
    assert chart["locale"]["name"] == "lt"
    assert chart["locale"]["format"]["months"][:3] == ["sausis", "vasaris", "kovas"]
    assert chart["locale"]["format"]["shortMonths"][11] == "grd"
    # Months are dates, so that plotly.js writes their names; the data stay ISO months.
    assert chart["layout"]["xaxis"]["type"] == "date"
    assert chart["data"][0]["x"] == ["2025-12", "2026-01", "2026-02", "2026-03"]
    assert chart["data"][0]["hovertemplate"].startswith("%{x|%B %Y}: %{customdata}")
    assert chart["data"][0]["customdata"][1] == "42,9 %"
    assert chart["layout"]["yaxis"]["ticktext"][-1] == "100 %"
    # The table under it: the shares with a decimal comma.
    assert ["2026-01", "42,9 %", "66,7 %", "50,0 %", "100,0 %"] in _cells(page)
    funnel = _figure(page, "funnel-figure")
    assert funnel["layout"]["separators"] == ",\xa0"
    english = client_as("viewer").get(f"/stores/{example_store.pk}/dashboard/", {"trend": "week"})
    week_chart = _figure(english.content.decode(), "trend-conversion")
    assert week_chart["layout"]["separators"] == ".,"
    assert week_chart["layout"]["xaxis"]["type"] == "category"
