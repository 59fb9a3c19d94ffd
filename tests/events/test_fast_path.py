"""The batch API's fast path (items decoded straight into typed structs, properties kept as
raw JSON) answers exactly as the general path does."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import ingest
from tests.events.conftest import item


def comparable(result: tuple[list[ingest.EventIn], list[Any]]) -> tuple[list[Any], list[Any]]:
    """The properties as the JSON they stand for: jsonb stores no whitespace."""
    good, errors = result
    rows = [(*vars_of(e)[:-1], json.loads(e.properties)) for e in good]
    return rows, errors


def vars_of(event: ingest.EventIn) -> tuple[Any, ...]:
    return (
        event.index,
        event.client_id,
        event.name,
        event.customer_key,
        event.is_anonymous,
        event.occurred_at,
        event.session_id,
        event.properties,
    )


def both(items: list[dict[str, Any]], window: ingest.Window) -> tuple[Any, Any]:
    body = json.dumps({"events": items}).encode()
    typed = ingest.batch_decode_typed(body)
    assert typed is not None
    fast = ingest.typed_items_check(typed, window=window)
    general = ingest.items_check(msgspec.json.decode(body)["events"], window=window)
    return comparable(fast), comparable(general)


@pytest.fixture
def window(now: datetime) -> ingest.Window:
    return ingest.Window(
        earliest=datetime(2024, 2, 1, tzinfo=now.tzinfo), latest=now.replace(day=16)
    )


def test_valid_and_refused_items_alike(window: ingest.Window) -> None:
    items = [
        item("a", properties={"sku": "A-1", "price": 12.5, "tags": ["x", {"y": None}]}),
        item("b", "bad name!"),
        item("c", at="2026-03-15T10:00:00"),
        item("d", properties={"x": "\u0000"}),
        item("e", properties={"deep": [[[[[[[[[1]]]]]]]]]}),
        item("f", properties={"big": "y" * 9000}),
        item("g", customer_key="Ona@Example.LT", session_id=" s1 "),
        {"id": "h", "name": "x", "occurred_at": "2026-03-15T10:00:00Z"},
        item(" ", "x"),
        item("i", at="2023-01-01T00:00:00Z"),
        item("j", properties=None),
        item("k", properties={"text": "ačiū", "emoji": "🙂"}),
    ]
    fast, general = both(items, window)
    assert fast == general
    assert [e["index"] for e in fast[1]] == [1, 2, 3, 4, 5, 7, 8, 9]


def test_bodies_the_fast_path_leaves_to_the_general_one() -> None:
    assert ingest.batch_decode_typed(b'{"events": [{"id": 1}]}') is None
    assert ingest.batch_decode_typed(b'{"events": [], "x": 1}') is None
    assert ingest.batch_decode_typed(b"not json") is None
    body = json.dumps({"events": [item("a", properties=[1, 2])]}).encode()
    assert ingest.batch_decode_typed(body) is None  # the general path words that error


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(properties=st.dictionaries(st.text(max_size=4), json_values, max_size=4))
def test_any_properties_give_the_same_answer(properties: dict[str, Any]) -> None:
    from datetime import UTC

    window = ingest.Window(earliest=None, latest=datetime(2030, 1, 1, tzinfo=UTC))
    fast, general = both([item("p", properties=properties)], window)
    assert fast[1] == general[1]
    assert fast[0] == general[0]
