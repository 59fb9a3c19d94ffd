"""What surveys do when accounts signal a change to something a survey belongs to, and when a
contact is erased (their words leave the comment themes)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from accounts.models import Store
from accounts.signals import store_deletion_requested
from surveys import services, tasks
from surveys.models import Contact
from surveys.signals import contact_erasing


@receiver(store_deletion_requested, dispatch_uid="surveys.receivers.store_deletion_requested")
def close_surveys_of_a_deleted_store(sender: Any, *, store: Store, **kwargs: Any) -> None:
    services.surveys_close_for_store(store=store)


@receiver(contact_erasing, dispatch_uid="surveys.receivers.contact_erasing")
def recompute_comment_themes_after_an_erasure(
    sender: Any, *, contact: Contact, **kwargs: Any
) -> None:
    """The erased person's words leave the store's comment themes at the computation this
    queues once the erasure commits (their answers are gone by then). Their answers were
    never shown as examples after the erasure even before it: examples are read live."""
    store_id = contact.store_id
    transaction.on_commit(lambda: tasks.comment_themes_soon(store_id), robust=True)
