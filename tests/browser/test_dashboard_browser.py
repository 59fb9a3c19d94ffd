"""The store dashboard in a real browser, on the demo organisation Baltic Goods.

The demo is loaded as `make demo` loads it (accounts, journeys, surveys, events.demo, then
metrics.demo), at a tenth of its traffic (tests/events/test_demo.py's demo_organisation): the
same generator, stores, journeys and stages, all tracked, with a few hundred customers at the
funnel's top. The whole demo's events took 26 s to generate here against 3 s for a tenth, and
every live-server test starts from an empty database, so each test would pay it again. The
clock is frozen at 2026-03-15 12:00 UTC (`now`): "today" is the same for the page, the API
and the test.

Every figure checked on a page is compared with the funnel API's for the same period, read
with the same member's session. Full-page screenshots at desktop and phone width are left in
test-artifacts/ for a human look.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from accounts.models import Store, User
from events import demo as events_demo
from journeys.models import Journey
from metrics import demo as metrics_demo
from tests.browser.layout import assert_no_horizontal_scroll
from tests.events.test_demo import demo_organisation  # noqa: F401 - a fixture

TODAY = date(2026, 3, 15)  # NOW's day in Vilnius and Bucharest
CUSTOM = (date(2026, 1, 19), date(2026, 2, 22))
FUNNEL_BARS = ".chart-plot.js-plotly-plot .funnellayer .point"


@pytest.fixture
def demo(transactional_db: Any, demo_organisation: Any) -> Any:  # noqa: F811
    events_demo.load(organisation=demo_organisation)
    metrics_demo.load(organisation=demo_organisation)
    return demo_organisation


@pytest.fixture
def viewer(demo: Any) -> User:
    return User.objects.get(email="viewer@example.com")


@pytest.fixture
def store(demo: Any) -> Store:
    return Store.objects.get(organisation=demo, name="Baltic Goods LT")


def _funnel(page: Any, store: Store, start: date | None = None, end: date | None = None) -> Any:
    """The funnel API's answer, with the page's session (a viewer's is enough)."""
    query = {"start": start.isoformat(), "end": end.isoformat()} if start and end else {}
    answer = page.request.get(f"/api/v1/stores/{store.pk}/funnel/?{urlencode(query)}")
    assert answer.status == 200, answer.text()
    return answer.json()


def _plotly_percent(ratio: float) -> str:
    """The share of the bar before as the page writes it (core.numbers.percent, no decimal)."""
    return f"{ratio * 100:.0f} %"


def _expected_bars(body: dict[str, Any]) -> list[list[str]]:
    """Each tracked stage's bar as plotly draws it: the stage's label on the axis beside it,
    then the customers (with thousands separators) and the share of the bar before (100% for
    the first)."""
    bars = []
    for stage in (s for s in body["stages"] if s["tracked"]):
        conversion = stage["conversion"]
        share = _plotly_percent(conversion["value"]) if conversion else "100 %"
        bars.append([f"{stage['moment']} · {stage['name']}", f"{stage['funnel']:,}", share])
    return bars


def _drawn_bars(page: Any, count: int) -> list[list[str]]:
    """Each funnel bar in the chart's SVG, in the data's order: the axis label level with it,
    and the lines of its text."""
    bars = page.locator(FUNNEL_BARS)
    expect(bars).to_have_count(count)
    return bars.evaluate_all(
        """points => points.map(point => {
          const middle = (box) => (box.top + box.bottom) / 2;
          const bar = middle(point.querySelector("path").getBoundingClientRect());
          const ticks = [...point.closest(".js-plotly-plot").querySelectorAll(".ytick text")];
          const label = ticks.reduce((best, tick) =>
            Math.abs(middle(tick.getBoundingClientRect()) - bar) <
            Math.abs(middle(best.getBoundingClientRect()) - bar) ? tick : best);
          const text = point.querySelector("text.bartext");
          const lines = [...text.querySelectorAll("tspan.line")];
          return [label, ...(lines.length ? lines : [text])].map(t => t.textContent.trim());
        })"""
    )


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _expected_table(body: dict[str, Any]) -> list[list[str]]:
    rows = []
    for stage in body["stages"]:
        name = f"{stage['moment']} {stage['name']}" if stage["moment"] else stage["name"]
        if not stage["tracked"]:
            rows.append([name, "not tracked"])
            continue
        value = stage["conversion"]["value"] if stage["conversion"] else None
        rows.append([name, str(stage["funnel"]), _percent(value)])
    return rows


def _table(page: Any) -> list[list[str]]:
    """The "Numbers behind the chart" table, opened first: stage, customers, conversion."""
    numbers = page.locator("details.chart-numbers").filter(has=page.locator("#funnel-table"))
    numbers.locator("summary").click()
    expect(numbers.locator("#funnel-table")).to_be_visible()
    return page.locator("#funnel-table tbody tr").evaluate_all(
        """rows => rows.map(row => [...row.cells].slice(0, 3).map(
          cell => cell.innerText.trim().replace(/\\s+/g, " ")))"""
    )


def _check_funnel(page: Any, body: dict[str, Any]) -> None:
    tracked = [s for s in body["stages"] if s["tracked"]]
    assert len(tracked) >= 3, "the demo's funnel has several tracked stages"
    assert _drawn_bars(page, len(tracked)) == _expected_bars(body)
    assert _table(page) == _expected_table(body)
    expect(page.locator("p.help").first).to_contain_text(f"{body['start']} to {body['end']}")


def _period_form(page: Any) -> Any:
    return page.locator("form.dashboard-period")


def _stage_figures(page: Any) -> dict[str, str]:
    figures = page.locator("section[aria-labelledby=stage-figures-heading] dl.figures > div")
    return {
        row.locator("dt").inner_text().strip(): row.locator("dd").inner_text().strip()
        for row in figures.all()
    }


def _check_stage_page(page: Any, stage: dict[str, Any]) -> None:
    expect(page.locator("h1")).to_have_text(f"{stage['moment']} {stage['name']}")
    expect(page.locator("#stage-figures-heading")).to_be_visible()
    figures = _stage_figures(page)
    assert figures["In the funnel"] == str(stage["funnel"])
    assert figures["Reached"] == str(stage["reached"])


def test_the_funnel_matches_the_api_through_periods_and_drilling_into_stages(
    page: Any,
    live_server: Any,
    log_in_as: Any,
    viewer: User,
    store: Store,
    artifacts: Any,
    csp_violations: list[str],
) -> None:
    log_in_as(page.context, viewer)
    page.goto(f"/stores/{store.pk}/dashboard/")
    expect(page.locator("h1")).to_have_text("Dashboard of Baltic Goods LT")

    # The default period, the last 30 days.
    last_30 = _funnel(page, store)
    assert (last_30["start"], last_30["end"]) == (str(TODAY - timedelta(days=29)), str(TODAY))
    _check_funnel(page, last_30)
    _assert_charts_readable(page)
    page.screenshot(path=str(artifacts / "dashboard-desktop.png"), full_page=True)

    # The last 90 days, then a custom range: its dates show only once it is chosen.
    form = _period_form(page)
    period = form.get_by_role("combobox", name="Period:")
    start, end = form.get_by_label("From:"), form.get_by_label("To:")
    expect(period).to_have_value("last_30")  # what the page shows, not the first option
    expect(start).to_be_hidden()
    period.select_option(label="Last 90 days")
    expect(start).to_be_hidden()
    form.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"[?&]period=last_90"))
    _check_funnel(page, _funnel(page, store, TODAY - timedelta(days=89), TODAY))

    form = _period_form(page)
    period = form.get_by_role("combobox", name="Period:")
    start, end = form.get_by_label("From:"), form.get_by_label("To:")
    period.select_option(label="Custom range")
    expect(start).to_be_visible()
    expect(end).to_be_visible()
    start.fill(CUSTOM[0].isoformat())
    end.fill(CUSTOM[1].isoformat())
    form.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"[?&]period=custom"))
    custom = _funnel(page, store, *CUSTOM)
    _check_funnel(page, custom)
    expect(_period_form(page).get_by_role("combobox", name="Period:")).to_have_value("custom")
    dashboard_url = page.url

    # A click on a funnel bar opens that stage, in the same period.
    tracked = [s for s in custom["stages"] if s["tracked"]]
    second = tracked[1]
    bar = page.locator(FUNNEL_BARS).nth(1).locator("path").first
    box = bar.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    expect(page.locator(".hoverlayer .hovertext")).to_contain_text(f"{second['funnel']} customers")
    page.mouse.click(x, y)
    expect(page).to_have_url(
        re.compile(rf"/stores/{store.pk}/dashboard/stages/{second['id']}/\?.*period=custom")
    )
    _check_stage_page(page, second)
    expect(page.locator("p.help").first).to_contain_text(f"{CUSTOM[0]} to {CUSTOM[1]}")
    _assert_charts_readable(page)
    page.screenshot(path=str(artifacts / "dashboard-stage-desktop.png"), full_page=True)

    # The keyboard's way: Tab from the chart's numbers to the first stage card, and Enter.
    page.go_back()
    expect(page).to_have_url(dashboard_url)
    page.locator("details.chart-numbers summary").first.focus()
    page.keyboard.press("Tab")
    first = tracked[0]
    link = page.get_by_role("heading", level=3).first.get_by_role("link")
    expect(link).to_be_focused()
    expect(link).to_have_text(f"{first['moment']} {first['name']}")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/dashboard/stages/{first['id']}/\?.*period=custom"))
    _check_stage_page(page, first)
    assert csp_violations == []


def test_the_journey_editor_shows_what_the_funnel_api_measured(
    page: Any, log_in_as: Any, viewer: User, store: Store, csp_violations: list[str]
) -> None:
    journey = Journey.objects.get(store=store, status=Journey.Status.ACTIVE)
    log_in_as(page.context, viewer)
    page.goto(f"/journeys/{journey.pk}/")
    expect(page.locator("#journey-editor.is-live")).to_be_visible()
    body = _funnel(page, store)  # the editor reads the last 30 days
    assert (body["start"], body["end"]) == (str(TODAY - timedelta(days=29)), str(TODAY))
    first = next(s for s in body["stages"] if s["tracked"])
    assert first["reached"] > 0
    measured = page.locator(f'.stage-column[data-id="{first["id"]}"] .stage-measured')
    expect(measured).to_contain_text(f"Reached {first['reached']} ")
    expect(measured.get_by_role("link", name="Details")).to_have_attribute(
        "href", f"/stores/{store.pk}/dashboard/stages/{first['id']}/"
    )
    assert csp_violations == []


def test_the_dashboard_and_a_stage_on_a_phone(
    phone_page: Any,
    log_in_as: Any,
    viewer: User,
    store: Store,
    artifacts: Any,
    csp_violations: list[str],
) -> None:
    page = phone_page
    log_in_as(page.context, viewer)
    page.goto(f"/stores/{store.pk}/dashboard/")
    body = _funnel(page, store)
    tracked = [s for s in body["stages"] if s["tracked"]]
    assert _drawn_bars(page, len(tracked)) == _expected_bars(body)
    assert_no_horizontal_scroll(page)
    _assert_charts_readable(page)
    page.screenshot(path=str(artifacts / "dashboard-phone.png"), full_page=True)

    page.goto(f"/stores/{store.pk}/dashboard/stages/{tracked[1]['id']}/")
    _check_stage_page(page, tracked[1])
    assert_no_horizontal_scroll(page)
    _assert_charts_readable(page)
    page.screenshot(path=str(artifacts / "dashboard-stage-phone.png"), full_page=True)
    assert csp_violations == []


# Per chart: the texts that are cut off (a bar's label beyond the plot area, which clips it;
# any other text beyond the chart's SVG or the window), the axis labels that the legend
# covers, and neighbouring axis labels that run into each other.
_CHART_PROBLEMS = """(plots) => plots.flatMap((plot) => {
  const width = document.documentElement.clientWidth;
  const svg = plot.querySelector("svg.main-svg").getBoundingClientRect();
  const area = plot.querySelector("rect.nsewdrag").getBoundingClientRect();
  const legend = plot.querySelector("g.legend");
  const legendBox = legend ? legend.getBoundingClientRect() : null;
  const within = (box, outer) =>
    box.left >= outer.left - 0.5 && box.right <= outer.right + 0.5 &&
    box.top >= outer.top - 0.5 && box.bottom <= outer.bottom + 0.5;
  const overlap = (a, b) =>
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const problems = [];
  for (const text of plot.querySelectorAll("text")) {
    const label = text.textContent.trim();
    if (!label) continue;
    const box = text.getBoundingClientRect();
    const inBar = text.closest(".funnellayer, .barlayer") !== null;
    if (!within(box, inBar ? area : svg) || box.left < 0 || box.right > width + 0.5) {
      problems.push(`${plot.dataset.figure}: "${label}" is cut off`);
    }
    if (legendBox && text.closest(".xtick, .ytick") && overlap(box, legendBox)) {
      problems.push(`${plot.dataset.figure}: the legend covers "${label}"`);
    }
  }
  // Neighbouring labels of an axis, turned by the same angle, run into each other when
  // their distance across the text's direction is less than a line of text.
  for (const axis of plot.querySelectorAll(".xaxislayer-above, .yaxislayer-above")) {
    const ticks = [...axis.querySelectorAll(".xtick text, .ytick text")]
      .filter((text) => text.textContent.trim());
    for (let i = 1; i < ticks.length; i++) {
      const [a, b] = [ticks[i - 1], ticks[i]].map((text) => text.getBoundingClientRect());
      const turned = /rotate\\((-?[\\d.]+)/.exec(ticks[i].getAttribute("transform") || "");
      const angle = turned ? Math.abs(Number(turned[1])) * Math.PI / 180 : 0;
      const line = ticks[i].getBBox().height;
      const dx = Math.abs((a.left + a.right) / 2 - (b.left + b.right) / 2);
      const dy = Math.abs((a.top + a.bottom) / 2 - (b.top + b.bottom) / 2);
      const clear = angle ? Math.max(dx, dy) * Math.sin(angle) >= line * 0.9
        : !overlap(a, b);
      if (!clear) {
        const pair = `"${ticks[i - 1].textContent}" and "${ticks[i].textContent}"`;
        problems.push(`${plot.dataset.figure}: ${pair} overlap`);
      }
    }
  }
  return problems;
})"""


def _assert_charts_readable(page: Any) -> None:
    """Every chart of the page is drawn, and none has a text cut off or under its legend."""
    expect(page.locator(".chart-plot[data-figure]:not(.js-plotly-plot)")).to_have_count(0)
    plots = page.locator(".chart-plot.js-plotly-plot")
    assert plots.count() > 0
    assert plots.evaluate_all(_CHART_PROBLEMS) == []


def _route_exists(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


@pytest.mark.skipif(
    not _route_exists("dashboards:organisation"),
    reason="the organisation view (/dashboard/organisation/) is not in this build",
)
def test_the_organisation_view_lists_every_store_with_a_link_to_its_dashboard(
    page: Any,
    phone_page: Any,
    log_in_as: Any,
    viewer: User,
    demo: Any,
    artifacts: Any,
    csp_violations: list[str],
) -> None:
    stores = list(Store.objects.filter(organisation=demo).order_by("name"))
    assert [s.name for s in stores] == ["Baltic Goods LT", "Baltic Goods RO"]
    log_in_as(page.context, viewer)
    page.goto("/dashboard/organisation/")
    rows = page.locator("#organisation-table > tbody > tr")
    expect(rows).to_have_count(len(stores))
    for store in stores:
        row = rows.filter(has=page.get_by_role("rowheader", name=re.compile(store.name)))
        expect(row).to_have_count(1)
        link = row.get_by_role("link", name=store.name, exact=True)
        expect(link).to_have_attribute("href", re.compile(rf"^/stores/{store.pk}/dashboard/(\?|$)"))
    page.screenshot(path=str(artifacts / "organisation-desktop.png"), full_page=True)

    log_in_as(phone_page.context, viewer)
    phone_page.goto("/dashboard/organisation/")
    expect(phone_page.locator("#organisation-table > tbody > tr")).to_have_count(len(stores))
    assert_no_horizontal_scroll(phone_page)
    phone_page.screenshot(path=str(artifacts / "organisation-phone.png"), full_page=True)

    rows.filter(has_text=stores[1].name).get_by_role("link", name=stores[1].name).click()
    expect(page.locator("h1")).to_have_text(f"Dashboard of {stores[1].name}")
    expect(page.locator(FUNNEL_BARS).first).to_be_visible()
    assert csp_violations == []


def test_experiments_are_marked_on_the_trends_and_listed_with_their_verdicts(
    page: Any,
    phone_page: Any,
    log_in_as: Any,
    viewer: User,
    store: Store,
    artifacts: Any,
    csp_violations: list[str],
) -> None:
    from journeys.models import Experiment

    titles = sorted(Experiment.objects.filter(store=store).values_list("title", flat=True))
    assert titles == ["Delivery date on product pages", "Lighter landing page"]
    log_in_as(page.context, viewer)
    page.goto(f"/stores/{store.pk}/dashboard/?trend=week")
    chart = page.locator('.chart-plot[data-figure="trend-conversion"]')
    expect(chart.locator(".main-svg").first).to_be_visible()
    marks = chart.locator(".annotation-text")
    expect(marks).to_have_count(2)
    assert sorted(marks.all_text_contents()) == titles
    page.goto(f"/stores/{store.pk}/experiments/")
    for title in titles:
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_text("Improved.", exact=True)).to_be_visible()  # the finished one

    # On a phone the charts keep their width for the periods (plotly.js widened the axis to
    # fit the markers' labels, leaving a third of the chart empty) and the results' tables
    # stack instead of pushing the page sideways.
    log_in_as(phone_page.context, viewer)
    phone_page.goto(f"/stores/{store.pk}/dashboard/?trend=week")
    phone_chart = phone_page.locator('.chart-plot[data-figure="trend-conversion"]')
    expect(phone_chart.locator(".annotation-text")).to_have_count(2)
    periods, axis = phone_chart.evaluate("g => [g.data[0].x.length, g._fullLayout.xaxis.range]")
    assert axis == [-0.5, periods - 0.5]
    phone_page.goto(f"/stores/{store.pk}/experiments/")
    expect(phone_page.get_by_role("heading", name=titles[0])).to_be_visible()
    assert_no_horizontal_scroll(phone_page)
    phone_page.screenshot(path=str(artifacts / "experiments-phone.png"), full_page=True)
    assert csp_violations == []


def test_the_trends_name_months_in_the_pages_language(
    page: Any, log_in_as: Any, viewer: User, store: Store, csp_violations: list[str]
) -> None:
    log_in_as(page.context, viewer)
    page.goto("/")
    page.context.add_cookies([{"name": "django_language", "value": "lt", "url": page.url}])
    page.goto(f"/stores/{store.pk}/dashboard/?trend=month")
    expect(page.locator("html")).to_have_attribute("lang", "lt")
    chart = page.locator('.chart-plot[data-figure="trend-conversion"]')
    expect(chart.locator(".xtick").first).to_be_visible()
    ticks = [t.strip() for t in chart.locator(".xtick").all_text_contents()]
    # The locale registered from Django's Lithuanian month names, not plotly.js' English.
    lithuanian = ("sau", "vas", "kov", "bal", "geg", "bir", "lie", "rugp", "rugs", "spa", "lap")
    assert ticks and all(re.fullmatch(r"(\w+) \d{4}", t) for t in ticks), ticks
    assert all(t.split()[0] in (*lithuanian, "grd") for t in ticks), ticks
    # The funnel's counts are grouped with the Lithuanian no-break space, never a comma.
    funnel = page.locator('.chart-plot[data-figure="funnel-figure"]')
    expect(funnel.locator(".main-svg").first).to_be_visible()
    assert not re.search(r"\d,\d{3}", funnel.inner_text())
    assert csp_violations == []
