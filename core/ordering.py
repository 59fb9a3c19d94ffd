"""Rows kept in an order of their own by a `position` field (stages, touchpoints, questions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def positions_renumber(items: Sequence[Any]) -> None:
    """Give the rows positions 0..n-1 in the given order, in one UPDATE for those that moved.

    The rows are of one model with a plain (not unique) `position` field."""
    moved = []
    for index, item in enumerate(items):
        if item.position != index:
            item.position = index
            moved.append(item)
    if moved:
        type(moved[0]).objects.bulk_update(moved, ["position"])
