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


# Per body row of a table: each cell's label (data-label, "" for a title or actions cell),
# whether that label shows before it, its text, and whether it lies within the window's width.
_TABLE_CELLS = """(table) => {
  const width = document.documentElement.clientWidth;
  const box = table.closest(".table-wrap") || table.parentElement;
  const rows = [...table.tBodies].flatMap((body) => [...body.rows]).map((row) =>
    [...row.cells].map((cell) => {
      const rect = cell.getBoundingClientRect();
      const before = getComputedStyle(cell, "::before").content;
      return {
        label: cell.dataset.label || "",
        labelShown: before !== "none" && before !== "normal",
        text: cell.innerText.trim().replace(/\\s+/g, " "),
        inside: rect.width > 0 && rect.left >= 0 && rect.right <= width + 0.5,
      };
    }));
  return {scrolls: box.scrollWidth > box.clientWidth, rows};
}"""


def table_as_cards(table: Any) -> list[dict[str, str]]:
    """Each body row of `table` (a locator) as {label: text}, after checking that the table
    hides nothing on the side: its box does not scroll, every cell lies within the window's
    width, and every labelled cell shows its label. The cells without a label (a title,
    actions) are under "", joined with " | "."""
    found = table.evaluate(_TABLE_CELLS)
    assert not found["scrolls"], "the table scrolls sideways in its box"
    outside = [cell["text"] for row in found["rows"] for cell in row if not cell["inside"]]
    assert outside == [], f"cells off the window's width: {outside}"
    unlabelled = [
        c["label"] for row in found["rows"] for c in row if c["label"] and not c["labelShown"]
    ]
    assert unlabelled == [], f"labels not shown: {unlabelled}"
    cards = []
    for row in found["rows"]:
        card = {cell["label"]: cell["text"] for cell in row if cell["label"]}
        card[""] = " | ".join(cell["text"] for cell in row if not cell["label"])
        cards.append(card)
    return cards
