"""Removal of deleted organisations and stores, and of expired member invitations: the work
of background tasks (accounts/tasks.py), which services enqueue once a deletion is asked for.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from django.db import models, transaction
from django.utils import timezone

from accounts.models import MemberInvitation, Organisation, Store
from accounts.signals import store_rows_purge

# Rows deleted per statement, each in its own short transaction. A batch of leaf rows (events,
# answers) is one DELETE ... WHERE id IN (SELECT id ... LIMIT n); rows with dependents of their
# own go through Django's collector, which loads the batch first: 5,000 rows are a few MB of
# memory and a fraction of a second of row locks and WAL, where one cascade over a store's
# millions of rows would hold its locks, and grow the WAL, for minutes.
PURGE_BATCH_SIZE = 5000


def _dependents_delete(
    model: type[models.Model],
    lookup: str,
    value: int,
    *,
    batch_size: int,
    skip: tuple[type[models.Model], ...] = (),
) -> None:
    """Delete, children first and in batches, every row that cascades from the `model` rows
    matching `lookup=value` (not those rows themselves).

    Found through the relations Django knows (on_delete=CASCADE), so that the apps built on
    accounts (journeys, surveys, events), which accounts never imports, are covered as they
    grow. `skip`: models not to descend into (the collector handles what is under them).
    """
    for relation in model._meta.related_objects:
        child = cast(type[models.Model], relation.related_model)  # "self" is resolved by now
        if relation.on_delete is not models.CASCADE or relation.many_to_many or child in skip:
            continue
        child_lookup = f"{relation.field.name}__{lookup}"
        # A model met again below itself (a tree) is left to the collector.
        _dependents_delete(child, child_lookup, value, batch_size=batch_size, skip=(*skip, model))
        _rows_delete(child, child_lookup, value, batch_size=batch_size)


def _rows_delete(model: type[models.Model], lookup: str, value: int, *, batch_size: int) -> None:
    rows = model._base_manager.filter(**{lookup: value}).order_by()  # any rows: no sort
    while True:
        batch = model._base_manager.filter(pk__in=rows.values("pk")[:batch_size])
        _total, per_model = batch.delete()
        if per_model.get(model._meta.label, 0) < batch_size:
            return


def _marked_delete(model: type[Organisation] | type[Store], pk: int) -> None:
    """Delete the row itself, with what is left under it (rows added while the batches ran),
    unless it is gone or no longer marked for deletion."""
    with transaction.atomic():
        row = (
            model.objects.select_for_update()
            .filter(pk=pk, deletion_requested_at__isnull=False)
            .first()
        )
        if row is not None:
            row.delete()


def organisation_purge(*, organisation_id: int, batch_size: int = PURGE_BATCH_SIZE) -> None:
    """Delete an organisation marked for deletion, with everything that belongs to it: its
    stores' rows in batches, as store_purge removes them, then the organisation's own, then
    the organisation.

    Idempotent: a second run (a worker died halfway) finds nothing or finishes the job.
    """
    marked = Organisation.objects.filter(pk=organisation_id, deletion_requested_at__isnull=False)
    if not marked.exists():
        return
    for store_id in Store.objects.filter(organisation_id=organisation_id).values_list(
        "pk", flat=True
    ):
        store_rows_purge.send(sender=Store, store_id=store_id, batch_size=batch_size)
    # Every store of the organisation in one walk of the relations (store__organisation=…).
    _dependents_delete(Store, "organisation", organisation_id, batch_size=batch_size)
    # The store rows go last, with the organisation's: its journeys are removed before them,
    # or a store's deletion would set an active journey's store to NULL, which
    # active_journey_has_store refuses (store_delete_request detaches them; this does not).
    _dependents_delete(Organisation, "pk", organisation_id, batch_size=batch_size, skip=(Store,))
    _marked_delete(Organisation, organisation_id)


def store_purge(*, store_id: int, batch_size: int = PURGE_BATCH_SIZE) -> None:
    """Remove a store marked for deletion: its rows in batches, then the store itself.

    Idempotent: a second run (a worker died halfway) finds nothing or finishes the job.
    """
    if not Store.objects.filter(pk=store_id, deletion_requested_at__isnull=False).exists():
        return
    store_rows_purge.send(sender=Store, store_id=store_id, batch_size=batch_size)
    _dependents_delete(Store, "pk", store_id, batch_size=batch_size)
    _marked_delete(Store, store_id)


def member_invitations_purge() -> int:
    """Remove invitations that expired more than a week ago."""
    cutoff = timezone.now() - timedelta(days=7)
    deleted, _counts = MemberInvitation.objects.filter(
        accepted_at__isnull=True, expires_at__lt=cutoff
    ).delete()
    return deleted


# A purge still pending this long after its request was lost (a broker restart, a task that
# ran out of retries) is queued again by tasks.deletions_resume. Longer than a purge's usual run.
PURGE_RESUME_AFTER = timedelta(hours=1)


def deletions_due() -> tuple[list[int], list[int]]:
    """The stores and organisations marked for deletion over PURGE_RESUME_AFTER ago and still
    there (a store of an organisation being deleted goes with its organisation)."""
    before = timezone.now() - PURGE_RESUME_AFTER
    store_ids = list(
        Store.objects.filter(deletion_requested_at__lt=before)
        .exclude(organisation__deletion_requested_at__isnull=False)
        .values_list("pk", flat=True)
    )
    organisation_ids = list(
        Organisation.objects.filter(deletion_requested_at__lt=before).values_list("pk", flat=True)
    )
    return store_ids, organisation_ids
