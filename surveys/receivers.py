"""What surveys do when accounts signal a change to something a survey belongs to."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.models import Store
from accounts.signals import store_deletion_requested
from surveys import services


@receiver(store_deletion_requested, dispatch_uid="surveys.receivers.store_deletion_requested")
def close_surveys_of_a_deleted_store(sender: Any, *, store: Store, **kwargs: Any) -> None:
    services.surveys_close_for_store(store=store)
