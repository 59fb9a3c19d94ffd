"""The organisation view: every store side by side from stored results, exact figures from
declared timelines and answers, medians, sorting, reasons, tenancy and a constant query count.

The frozen today is 2026-03-15 (the `now` fixture); the period read is January 2026, complete.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from accounts.models import Store
from core import clock
from journeys.models import Journey
from metrics import recompute
from metrics.funnel import stored_funnels, with_surveys
from metrics.models import FunnelResult
from surveys import services as survey_services
from surveys import tokens
from surveys.models import Answer, Invitation, Question, Response, Survey
from tests.factories import StoreFactory
from tests.journeys.factories import JourneyFactory, StageFactory, TouchpointFactory
from tests.metrics.test_funnel_api import EXAMPLE, STAGES, ingest
from tests.surveys.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db

URL = "/dashboard/organisation/"
JANUARY = {"period": "month:2026-01"}
WISHLIST = "Wish<list>"  # a custom stage whose name is markup: shown escaped, per store only


# --- Building stores: a journey, events, answers, and the stored results


def _journey(store: Store, stages: list[tuple[str, str, list[str]]]) -> Journey:
    """The store's active journey: one stage per (moment code or "", name, event names)."""
    journey = JourneyFactory(store=store, status=Journey.Status.ACTIVE)
    for position, (moment, name, names) in enumerate(stages):
        stage = StageFactory(journey=journey, moment=moment, name=name, position=position)
        TouchpointFactory(stage=stage, event_names=names)
    return journey


def _answers(store: Store, scores: list[tuple[int, datetime]], **stage: str) -> None:
    """A CSAT survey of the stage (moment= or custom_stage=) with one submitted rating for
    each (score, when)."""
    survey = SurveyFactory(store=store, status=Survey.Status.ACTIVE, **stage)
    rating = QuestionFactory(survey=survey, type=Question.Type.RATING, position=0)
    for n, (score, when) in enumerate(scores):
        contact, _created = survey_services.contact_upsert(store=store, email=f"b{n}@example.com")
        nonce = tokens.new_nonce()
        invitation = Invitation.objects.create(
            survey=survey,
            contact=contact,
            nonce=nonce,
            token_hash=tokens.token_hash(tokens.token_for(nonce)),
            language="en",
            status=Invitation.Status.ANSWERED,
            due_at=when,
            sent_at=when,
            answered_at=when,
        )
        response = Response.objects.create(
            invitation=invitation, survey=survey, store=store, language="en", submitted_at=when
        )
        Answer.objects.create(response=response, question=rating, number=score, answered_at=when)


def _store(organisation: Any, name: str, time_zone: str = "UTC", currency: str = "EUR") -> Store:
    store: Store = StoreFactory(
        organisation=organisation, name=name, time_zone=time_zone, currency=currency
    )
    store.event_retention_months = None
    store.save()
    return store


def _day(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def alpha(organisation: Any) -> Store:
    """UTC, the five moments, the worked example: January's funnel is 7, 3, 2, 1, 1."""
    store = _store(organisation, "Alpha")
    _journey(store, [(moment, moment, names) for moment, names in STAGES])
    ingest(store, EXAMPLE)
    _answers(store, [(5, _day(3)), (4, _day(4)), (2, _day(5))], moment="FMOT")
    _answers(store, [(5, _day(6)), (5, _day(7))], moment="SMOT")
    recompute.results_recompute(store_id=store.pk)
    return store


def bravo(organisation: Any) -> Store:
    """Vilnius (UTC+2 in January), a custom stage between ZMOT and FMOT: 4, 3, 2, 1."""
    store = _store(organisation, "Bravo", time_zone="Europe/Vilnius")
    _journey(
        store,
        [
            ("ZMOT", "Research", ["search"]),
            ("", WISHLIST, ["wishlist_add"]),
            ("FMOT", "First look", ["product_view"]),
            ("SMOT", "Purchase", ["purchase"]),
        ],
    )
    ingest(
        store,
        {
            "b1": [
                ("search", 5.5),
                ("wishlist_add", 5.6),
                ("product_view", 5.7),
                ("purchase", 6.5),
            ],
            "b2": [("search", 5.5), ("wishlist_add", 5.6), ("product_view", 6.5)],
            "b3": [("search", 5.5), ("wishlist_add", 6.5)],
            "b4": [("search", 5.5)],
        },
    )
    # January in Vilnius is 2025-12-31 22:00 to 2026-01-31 22:00 UTC: the first answer is in
    # it, the last one is on 1 February there.
    _answers(
        store,
        [
            (4, datetime(2025, 12, 31, 22, 30, tzinfo=UTC)),
            (1, _day(15)),
            (5, datetime(2026, 1, 31, 22, 30, tzinfo=UTC)),
        ],
        moment="FMOT",
    )
    _answers(store, [(5, _day(10))], custom_stage=WISHLIST)
    recompute.results_recompute(store_id=store.pk)
    return store


def charlie(organisation: Any) -> Store:
    """UTC, in dollars, two moments: 5 entered, 3 reached FMOT."""
    store = _store(organisation, "Charlie", currency="USD")
    _journey(store, [("ZMOT", "Search", ["search"]), ("FMOT", "Product", ["product_view"])])
    ingest(
        store,
        {
            "c1": [("search", 10), ("product_view", 10.5)],
            "c2": [("search", 10), ("product_view", 11)],
            "c3": [("search", 10)],
            "c4": [("search", 10)],
            "c5": [("search", 10), ("product_view", 12)],
        },
    )
    feb = datetime(2026, 2, 2, 12, tzinfo=UTC)  # outside January
    _answers(
        store, [(5, _day(11)), (5, _day(12)), (5, _day(13)), (1, _day(14)), (1, feb)], moment="FMOT"
    )
    recompute.results_recompute(store_id=store.pk)
    return store


@pytest.fixture
def stores(organisation: Any, now: datetime) -> dict[str, Store]:
    """Three stores with figures; Delta without a journey; Echo's journey never recomputed."""
    delta = _store(organisation, "Delta")
    echo = _store(organisation, "Echo")
    _journey(echo, [("ZMOT", "Search", ["search"])])
    return {
        "Alpha": alpha(organisation),
        "Bravo": bravo(organisation),
        "Charlie": charlie(organisation),
        "Delta": delta,
        "Echo": echo,
    }


# --- Reading the page


class _Table(HTMLParser):
    """The text of each row of one table (by id), cell by cell, white space collapsed."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside, self.depth = table_id, False, 0
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            if self.inside:
                self.depth += 1
            elif dict(attrs).get("id") == self.table_id:
                self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.inside:
            if self.depth:
                self.depth -= 1
            else:
                self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _rows(html: str, table_id: str = "organisation-table") -> list[list[str]]:
    parser = _Table(table_id)
    parser.feed(html)
    return parser.rows


def _page(client: Client, **query: Any) -> str:
    answer = client.get(URL, query)
    assert answer.status_code == 200
    return answer.content.decode()


def _body_rows(html: str) -> list[list[str]]:
    """The stores' rows, without the two heading rows and the median row."""
    return _rows(html)[2:-1]


def _order(html: str) -> list[str]:
    return [row[0] for row in _body_rows(html)]


# --- The figures


def test_each_store_side_by_side_by_moment_code_with_the_organisations_median(
    stores: dict[str, Store], client_as: Any
) -> None:
    html = _page(client_as("viewer"), **JANUARY)
    heading, subheading, *body, median = _rows(html)
    assert heading == ["Store ▲", "Currency", "Time zone", "ZMOT", "FMOT", "SMOT", "TMOT", "UMOT"]
    moments = ("ZMOT", "FMOT", "SMOT", "TMOT", "UMOT")
    assert subheading == [f"{m} {figure}" for m in moments for figure in ("Conversion", "CSAT")]
    no = ["—", "—"]
    assert body == [
        # FMOT 3 of 7, SMOT 2 of 3, TMOT 1 of 2, UMOT 1 of 1; CSAT: [5, 4, 2] and [5, 5].
        ["Alpha", "EUR", "UTC", *no, "42.9 %", "66.7 % n = 3", "66.7 %", "100.0 % n = 2",
         "50.0 %", "—", "100.0 %", "—"],
        # FMOT 2 of the custom stage's 3, SMOT 1 of 2; CSAT [4, 1] (the answer on 1 February
        # in Vilnius is not January's).
        ["Bravo", "EUR", "Europe/Vilnius", *no, "66.7 %", "50.0 % n = 2", "50.0 %", "—",
         *no, *no],
        # FMOT 3 of 5; CSAT [5, 5, 5, 1] (February's answer left out).
        ["Charlie", "USD", "UTC", *no, "60.0 %", "75.0 % n = 4", *no, *no, *no],
        ["Delta", "EUR", "UTC", "No active journey"],
        ["Echo", "EUR", "UTC", "Not computed yet"],
    ]  # fmt: skip
    # Medians over the stores that have each figure: FMOT conversion of 3/7, 2/3 and 3/5;
    # FMOT CSAT of 2/3, 1/2 and 3/4; SMOT conversion of 2/3 and 1/2.
    assert median == [
        "Median of the stores", "", "", "—", "—",
        "60.0 % of 3 stores", "66.7 % of 3 stores", "58.3 % of 2 stores", "100.0 % of 1 store",
        "50.0 % of 1 store", "—", "100.0 % of 1 store", "—",
    ]  # fmt: skip
    # Each store links to its own dashboard for the same period.
    assert f'href="/stores/{stores["Bravo"].pk}/dashboard/?period=month%3A2026-01"' in html
    assert "January 2026, days in each store's own time zone" in html


def test_a_custom_stage_is_shown_for_its_store_only_and_escaped(
    stores: dict[str, Store], client_as: Any
) -> None:
    html = _page(client_as("viewer"), **JANUARY)
    thead = html[html.index('id="organisation-table"') : html.index("</thead>")]
    assert "Wish" not in thead
    assert WISHLIST not in html  # never as markup
    assert _rows(html, "custom-stages-" + str(stores["Bravo"].pk)) == [
        ["Stage", "Conversion", "CSAT"],
        [WISHLIST, "75.0 %", "100.0 % n = 1"],  # 3 of 4 entered; one answer of 5
    ]
    assert re.findall(r'id="custom-stages-(\d+)"', html) == [str(stores["Bravo"].pk)]
    assert f'<h3 id="custom-{stores["Bravo"].pk}">Bravo</h3>' in html


def test_the_batched_survey_figures_are_the_store_dashboards(stores: dict[str, Store]) -> None:
    """One query for every store's answers gives what with_surveys reads store by store."""
    listed = list(stores.values())
    stored = stored_funnels(stores=listed, kind=FunnelResult.Kind.MONTH, start=_day(1).date())
    assert set(stored.funnels) == {stores[n].pk for n in ("Alpha", "Bravo", "Charlie")}
    assert stored.with_journey == {stores[n].pk for n in ("Alpha", "Bravo", "Charlie", "Echo")}
    for store_id, funnel in stored.funnels.items():
        alone = with_surveys(Store.objects.get(pk=store_id), funnel.result)
        for stage_id, figures in alone.surveys.items():
            if figures["csat"]["count"]:
                assert funnel.surveys[stage_id]["csat"] == figures["csat"]
        assert {k for k, v in funnel.surveys.items() if v["csat"]["count"]} == {
            k for k, v in alone.surveys.items() if v["csat"]["count"]
        }


# --- Sorting


@pytest.mark.parametrize(
    ("sort", "direction", "order"),
    [
        ("", "", ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]),
        ("name", "desc", ["Echo", "Delta", "Charlie", "Bravo", "Alpha"]),
        # 42.9 %, 60.0 %, 66.7 %; the stores without the figure last either way, by name.
        ("FMOT-conversion", "asc", ["Alpha", "Charlie", "Bravo", "Delta", "Echo"]),
        ("FMOT-conversion", "desc", ["Bravo", "Charlie", "Alpha", "Delta", "Echo"]),
        ("SMOT-conversion", "asc", ["Bravo", "Alpha", "Charlie", "Delta", "Echo"]),
        ("FMOT-csat", "desc", ["Charlie", "Alpha", "Bravo", "Delta", "Echo"]),
        ("currency", "desc", ["Charlie", "Alpha", "Bravo", "Delta", "Echo"]),
        ("no-such-column", "desc", ["Echo", "Delta", "Charlie", "Bravo", "Alpha"]),
    ],
)
def test_sorting_by_name_or_any_column(
    stores: dict[str, Store], client_as: Any, sort: str, direction: str, order: list[str]
) -> None:
    query = {**JANUARY, "sort": sort, "dir": direction}
    assert _order(_page(client_as("viewer"), **query)) == order


def test_sort_headers_are_links_that_say_the_order(
    stores: dict[str, Store], client_as: Any
) -> None:
    client = client_as("viewer")
    html = _page(client, **JANUARY, sort="FMOT-conversion", dir="asc")
    assert html.count("aria-sort=") == 1
    sorted_header = re.search(r'<th scope="col" class="num" aria-sort="ascending">(.*?)</th>', html)
    assert sorted_header, "the sorted column says so"
    # Again: the other way round; the period is kept.
    assert 'href="?period=month%3A2026-01&amp;sort=FMOT-conversion&amp;dir=desc"' in (
        sorted_header.group(1)
    )
    assert 'href="?period=month%3A2026-01&amp;sort=SMOT-csat&amp;dir=asc"' in html
    descending = _page(client, **JANUARY, sort="FMOT-conversion", dir="desc")
    assert 'aria-sort="descending"' in descending
    # Changing the period keeps the order.
    assert '<input type="hidden" name="sort" value="FMOT-conversion">' in descending
    assert '<input type="hidden" name="dir" value="desc">' in descending


# --- Reasons instead of figures


def test_a_journey_changed_since_the_recompute_is_not_computed_yet(
    stores: dict[str, Store], client_as: Any
) -> None:
    charlie = stores["Charlie"]
    TouchpointFactory(
        stage=Journey.objects.get(store=charlie, status="active").stages.get(moment="FMOT"),
        event_names=["add_to_cart"],
    )
    rows = {row[0]: row for row in _body_rows(_page(client_as("viewer"), **JANUARY))}
    assert rows["Charlie"][3:] == ["Not computed yet"]
    recompute.results_recompute(store_id=charlie.pk)
    rows = {row[0]: row for row in _body_rows(_page(client_as("viewer"), **JANUARY))}
    assert rows["Charlie"][5] == "60.0 %"


def test_a_new_conversion_window_waits_for_its_recompute(
    stores: dict[str, Store], client_as: Any
) -> None:
    Store.objects.filter(pk=stores["Alpha"].pk).update(funnel_window_days=7)
    rows = {row[0]: row for row in _body_rows(_page(client_as("viewer"), **JANUARY))}
    assert rows["Alpha"][3:] == ["Not computed yet"]


def test_a_period_not_stored_is_not_computed_yet_and_nothing_is_computed(
    stores: dict[str, Store], client_as: Any
) -> None:
    FunnelResult.objects.filter(store=stores["Alpha"], kind="month", start=_day(1).date()).delete()
    before = FunnelResult.objects.count()
    rows = {row[0]: row for row in _body_rows(_page(client_as("viewer"), **JANUARY))}
    assert rows["Alpha"][3:] == ["Not computed yet"]
    assert rows["Bravo"][5] == "66.7 %"
    assert FunnelResult.objects.count() == before


def test_the_last_30_days_as_last_stored_say_when_they_end(
    stores: dict[str, Store], client_as: Any, monkeypatch: Any
) -> None:
    client = client_as("viewer")
    html = _page(client)  # the default: the last 30 days, still open
    assert "The period is still open" in html
    assert "(to 2026-03-15)" not in html
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 3, 16, 12, tzinfo=UTC))
    # The nightly recompute has not run yet: the figures shown end the day before.
    assert _order(_page(client))[:1] == ["Alpha (to 2026-03-15)"]


def test_custom_ranges_are_not_offered(stores: dict[str, Store], client_as: Any) -> None:
    html = _page(client_as("viewer"), period="custom", start="2026-01-01", end="2026-01-31")
    assert 'value="custom"' not in html
    assert 'name="start"' not in html
    # An unknown period falls back to the last 30 days.
    assert "Last 30 days, days in each store" in html


# --- Who sees it


def test_another_organisations_stores_never_appear(
    stores: dict[str, Store], client_as: Any, other_organisation: Any, member_factory: Any
) -> None:
    foreign = _store(other_organisation, "Foreign shop")
    _journey(foreign, [("ZMOT", "Search", ["search"]), ("FMOT", "Product", ["product_view"])])
    ingest(foreign, {"f1": [("search", 10), ("product_view", 10.5)]})
    _answers(foreign, [(1, _day(3))], moment="FMOT")
    recompute.results_recompute(store_id=foreign.pk)
    html = _page(client_as("viewer"), **JANUARY)
    assert "Foreign shop" not in html
    assert len(_body_rows(html)) == 5
    # Its own members see it alone.
    client = Client()
    client.force_login(member_factory(other_organisation, "viewer"))
    (row,) = _body_rows(_page(client, **JANUARY))
    assert row[:3] == ["Foreign shop", "EUR", "UTC"]
    assert row[5:7] == ["100.0 %", "0.0 % n = 1"]


def test_viewers_see_it_and_anonymous_visitors_are_sent_to_log_in(
    organisation: Any, client_as: Any, now: datetime
) -> None:
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302
    assert anonymous.url == f"/accounts/login/?next={URL}"
    html = _page(client_as("viewer"))
    assert "The organisation has no store yet." in html
    assert not re.search(r"<script(?![^>]*(src=|application/json))[^>]*>", html)


def test_the_store_dashboard_links_to_all_stores(stores: dict[str, Store], client_as: Any) -> None:
    answer = client_as("viewer").get(f"/stores/{stores['Alpha'].pk}/dashboard/", JANUARY)
    assert 'href="/dashboard/organisation/?period=month%3A2026-01">All stores</a>' in (
        answer.content.decode()
    )


# --- Queries


def test_the_page_takes_the_same_queries_for_two_stores_as_for_five(
    organisation: Any,
    client_as: Any,
    now: datetime,
    django_assert_num_queries: Any,
    django_assert_max_num_queries: Any,
) -> None:
    alpha(organisation)
    charlie(organisation)
    client = client_as("viewer")
    _page(client, **JANUARY)  # warm the session
    with django_assert_max_num_queries(20) as two:
        assert len(_body_rows(_page(client, **JANUARY))) == 2
    bravo(organisation)
    _store(organisation, "Delta")
    big = _store(organisation, "Foxtrot")
    _journey(
        big,
        [
            ("LZMOT", "Ads", ["ad_click"]),
            *((m, m, names) for m, names in STAGES),
            ("", "Unboxing", ["unboxed"]),
            ("", "Referral", ["referral"]),
        ],
    )
    ingest(big, {f"x{i}": [("search", 3 + i % 7), ("product_view", 4 + i % 7)] for i in range(40)})
    for moment in ("ZMOT", "FMOT", "SMOT", "TMOT", "UMOT"):
        _answers(big, [(4, _day(20)), (2, _day(21))], moment=moment)
    _answers(big, [(3, _day(20))], custom_stage="Unboxing")
    recompute.results_recompute(store_id=big.pk)
    with django_assert_num_queries(len(two)):
        assert len(_body_rows(_page(client, **JANUARY))) == 5
    # The stored results' customer lists are never read.
    assert not any(
        "entered" in q["sql"] for q in two.captured_queries if "metrics_funnelresult" in q["sql"]
    )
