"""What journeys do when accounts signal a change to something a journey refers to."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.models import Store
from accounts.services import Actor
from accounts.signals import store_deletion_requested
from journeys import services


@receiver(store_deletion_requested, dispatch_uid="journeys.receivers.store_deletion_requested")
def keep_journeys_of_a_deleted_store(
    sender: Any, *, store: Store, actor: Actor, **kwargs: Any
) -> None:
    services.journeys_detach_store(store=store, actor=actor)
