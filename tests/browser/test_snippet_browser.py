"""The browser snippet on a store's page in a real browser: its page view reaches the events
table with the visitor's anonymous id and session, consent mode sends nothing before consent,
and what is queued when the visitor leaves goes with sendBeacon.

The store's page is another site than MomentMap, as in real life: a small HTTP server in this
process serves it at http://shop.localhost:<port>/ (Chromium resolves every *.localhost name
to this machine), with the Content-Security-Policy a careful shop would have, allowing scripts
and requests to MomentMap's origin only. MomentMap is the live server at http://localhost:<port>.
The store's domain is `shop.localhost`: plain http is taken from a localhost name only with
DEBUG on, which these tests turn on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from events.models import Event
from events.purges import store_events_purge
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.layout import assert_no_horizontal_scroll
from tests.factories import (
    ApiKeyFactory,
    MembershipFactory,
    OrganisationFactory,
    StoreFactory,
    UserFactory,
)

RAW_KEY = "mm_pk_snippet1_" + "k" * 32
ENDPOINT = "/api/v1/events/browser/"
FLUSH_WAIT_S = 10  # the snippet sends every 5 s: this leaves room on a busy machine


class StoreSite:
    """The store's own web server: every path answers `html`, under the store's policy."""

    def __init__(self, policy: str) -> None:
        self.html = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", policy)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the test output is for failures

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://shop.localhost:{self.server.server_address[1]}"
        self.thread = Thread(target=self.server.serve_forever, daemon=True)

    def page(self, snippet_src: str = "", attributes: str = "", *, tag: str = "") -> None:
        """Every page: the snippet's tag as given, or made of its address and attributes."""
        tag = tag or f"<script src='{snippet_src}' data-key='{RAW_KEY}'{attributes} defer></script>"
        self.html = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Linen shirt</title><link rel='icon' href='data:,'>"
            f"{tag}</head><body><h1>Linen shirt</h1></body></html>"
        )


@pytest.fixture
def store_site(live_server: Any) -> Iterator[StoreSite]:
    site = StoreSite(
        f"default-src 'none'; script-src {live_server.url}; connect-src {live_server.url}; "
        "img-src data:"
    )
    site.thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture
def shop(live_server: Any, settings: Any) -> Iterator[Any]:
    settings.DEBUG = True  # http from a *.localhost page (the live server speaks plain http)
    store = StoreFactory(organisation=OrganisationFactory(), domain="shop.localhost")
    ApiKeyFactory(store=store, kind="publishable", prefix="mm_pk_snippet1", raw_key=RAW_KEY)
    yield store
    # events_event is partitioned and unmanaged: the flush after a live-server test leaves it.
    store_events_purge(store_id=store.pk, batch_size=1000)


@pytest.fixture(scope="module")
def chromium(chromium: Any) -> Iterator[Any]:
    """Chromium that calls itself Chrome, for this file's contexts (new_context uses it). The
    endpoint drops headless Chromium's own User-Agent (HeadlessChrome) as a bot, and a beacon
    sent as the page goes carries the browser's User-Agent, not a context's override."""
    user_agent = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{chromium.version} Safari/537.36"
    )
    browser = chromium.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, f"--user-agent={user_agent}"],
    )
    yield browser
    browser.close()


# Counts, in the tab's sessionStorage (which the snippet never uses), each sendBeacon and
# fetch to the events endpoint: Playwright does not see a beacon sent as the page goes.
SEND_SPY = """
(() => {
  const endpoint = "ENDPOINT";
  const count = (how) => sessionStorage.setItem(how, Number(sessionStorage.getItem(how)) + 1);
  const beacon = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (url, body) => {
    if (String(url).includes(endpoint)) count("sent:beacon");
    return beacon(url, body);
  };
  const fetch = window.fetch;
  window.fetch = (url, options) => {
    if (String(url).includes(endpoint)) count("sent:fetch");
    return fetch(url, options);
  };
})();
""".replace("ENDPOINT", ENDPOINT)


@pytest.fixture
def visitor(context: Any) -> Any:
    context.add_init_script(SEND_SPY)
    return context


def sends(page: Any) -> dict[str, int]:
    return page.evaluate(
        "() => ({beacon: Number(sessionStorage.getItem('sent:beacon')),"
        " fetch: Number(sessionStorage.getItem('sent:fetch'))})"
    )


def sent_to_endpoint(context: Any) -> list[Any]:
    """Every request the context's pages make to the events endpoint, as they happen."""
    requests: list[Any] = []
    context.on("request", lambda r: requests.append(r) if ENDPOINT in r.url else None)
    return requests


def wait_for_events(store: Any, count: int, timeout: float = FLUSH_WAIT_S) -> list[Event]:
    deadline = time.monotonic() + timeout
    while True:
        events = list(
            Event.objects.filter(store=store)
            .select_related("customer", "event_name")
            .order_by("occurred_at", "seq")
        )
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


def storage(page: Any) -> dict[str, Any]:
    return page.evaluate(
        "() => ({local: {...localStorage}, cookie: document.cookie,"
        " anonymousId: momentmap.anonymousId()})"
    )


def test_a_page_view_lands_with_the_visitors_anonymous_id_and_session(
    visitor: Any, store_site: StoreSite, shop: Any, live_server: Any
) -> None:
    store_site.page(f"{live_server.url}/static/js/momentmap.js")
    requests = sent_to_endpoint(visitor)
    page = visitor.new_page()

    page.goto(
        f"{store_site.origin}/products/linen-shirt?utm_source=newsletter&email=ona@example.lt"
    )
    events = wait_for_events(shop, 1)  # sent by the timer, with nothing else happening

    assert [(e.event_name.name, e.customer.is_anonymous) for e in events] == [("page_view", True)]
    [page_view] = events
    stored = storage(page)
    assert page_view.customer.key == stored["anonymousId"]
    assert stored["local"]["momentmap_aid"] == stored["anonymousId"]
    session_id, _last = stored["local"]["momentmap_sid"].split("|")
    assert page_view.session_id == session_id
    assert len(session_id) == 36 and page_view.client_id.startswith("browser:")
    # The query string stays behind, except the campaign's utm_ parameters.
    assert page_view.properties == {
        "path": "/products/linen-shirt",
        "title": "Linen shirt",
        "utm_source": "newsletter",
    }
    assert sends(page) == {"beacon": 0, "fetch": 1}
    assert [r.method for r in requests] == ["POST"]  # text/plain: no preflight
    assert requests[0].headers["content-type"].startswith("text/plain")
    assert requests[0].response().headers["access-control-allow-origin"] == store_site.origin

    # The same visitor and session on the next event; the helpers name their events.
    page.evaluate("momentmap.addToCart({sku: 'LS-1', quantity: 1}); momentmap.flush()")
    events = wait_for_events(shop, 2)
    assert [e.event_name.name for e in events] == ["page_view", "add_to_cart"]
    assert events[1].customer_id == page_view.customer_id
    assert events[1].session_id == session_id
    assert events[1].properties == {"sku": "LS-1", "quantity": 1}


def test_consent_mode_stores_and_sends_nothing_before_consent(
    visitor: Any, store_site: StoreSite, shop: Any, live_server: Any
) -> None:
    store_site.page(f"{live_server.url}/static/js/momentmap.js", " data-consent='required'")
    page = visitor.new_page()

    page.goto(f"{store_site.origin}/")
    page.evaluate("momentmap.productView({sku: 'LS-1'}); momentmap.flush()")
    page.wait_for_timeout(6_000)  # past the snippet's 5 s timer
    assert storage(page) == {"local": {}, "cookie": "", "anonymousId": None}
    page.goto(f"{store_site.origin}/cart")  # leaving the page: no beacon either
    page.wait_for_timeout(1_000)
    assert sends(page) == {"beacon": 0, "fetch": 0}
    assert wait_for_events(shop, 1, timeout=0) == []

    page.evaluate("momentmap.consent(true)")
    page.evaluate("momentmap.flush()")
    events = wait_for_events(shop, 1)
    # The second page's view, held until consent; the first page's never left the browser.
    assert [(e.event_name.name, e.properties["path"]) for e in events] == [("page_view", "/cart")]
    assert sends(page) == {"beacon": 0, "fetch": 1}
    stored = storage(page)
    assert events[0].customer.key == stored["anonymousId"]
    assert stored["local"]["momentmap_consent"] == "granted"

    page.evaluate("momentmap.consent(false)")
    assert storage(page) == {"local": {}, "cookie": "", "anonymousId": None}


def test_what_is_queued_when_the_visitor_leaves_goes_with_send_beacon(
    visitor: Any, store_site: StoreSite, shop: Any, live_server: Any
) -> None:
    store_site.page(f"{live_server.url}/static/js/momentmap.js", " data-page-view='off'")
    page = visitor.new_page()
    page.goto(f"{store_site.origin}/checkout")

    page.evaluate("momentmap.track('checkout_start', {step: 1})")
    page.goto(f"{store_site.origin}/thanks")  # pagehide, well before the 5 s timer
    events = wait_for_events(shop, 1)

    assert [(e.event_name.name, e.properties) for e in events] == [("checkout_start", {"step": 1})]
    assert sends(page) == {"beacon": 1, "fetch": 0}


def test_an_admin_copies_the_tag_on_a_phone_and_the_shop_sends_with_it(
    phone_context: Any,
    visitor: Any,
    log_in_as: Any,
    store_site: StoreSite,
    shop: Any,
    live_server: Any,
    settings: Any,
) -> None:
    settings.SITE_URL = live_server.url  # where the tag loads the snippet from
    admin = UserFactory()
    MembershipFactory(organisation=shop.organisation, user=admin, role=Role.ADMIN)
    log_in_as(phone_context, admin)
    phone_context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = phone_context.new_page()

    page.goto(f"/stores/{shop.pk}/keys/")
    page.get_by_label("Name").fill("Storefront")
    page.get_by_label("Kind").select_option(label="Publishable (browser event ingestion only)")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="The tag for your shop's pages")).to_be_visible()
    assert_no_horizontal_scroll(page)  # the long tag wraps
    page.get_by_role("button", name="Copy the tag").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Copied", exact=True)).to_be_visible()
    tag = page.evaluate("navigator.clipboard.readText()")
    raw_key = page.locator("#new-key").inner_text().strip()
    assert tag == (
        f'<script src="{live_server.url}/static/js/momentmap.js" data-key="{raw_key}" '
        "defer></script>"
    )

    store_site.page(tag=tag)  # pasted into the shop's pages
    shopper = visitor.new_page()
    shopper.goto(f"{store_site.origin}/")
    events = wait_for_events(shop, 1)
    assert [(e.event_name.name, e.properties["path"]) for e in events] == [("page_view", "/")]
