"""Layout checks shared by the browser tests."""

from __future__ import annotations

from typing import Any


def assert_no_horizontal_scroll(page: Any) -> None:
    # A mobile browser zooms out to fit content that is too wide, and window.innerWidth grows
    # with it; the viewport the test asked for is the width that must not be exceeded.
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    widths["viewport"] = page.viewport_size["width"]
    assert widths["inner"] == widths["viewport"], f"{page.url} is zoomed out: {widths}"
    assert widths["scroll"] <= widths["inner"], f"{page.url} scrolls sideways: {widths}"
