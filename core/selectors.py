"""Reads of background tasks, scoped to the caller's organisation (and, for a store's API
key, to its store): another organisation's task is simply not found. Ids, not rows: core does
not import the apps that own them."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from core.models import Task


def task_list(*, organisation_id: int, only_store_id: int | None = None) -> QuerySet[Task]:
    tasks = Task.objects.filter(organisation_id=organisation_id)
    return tasks if only_store_id is None else tasks.filter(store_id=only_store_id)


def task_get(*, organisation_id: int, pk: int, only_store_id: int | None = None) -> Task:
    return get_object_or_404(
        task_list(organisation_id=organisation_id, only_store_id=only_store_id), pk=pk
    )
