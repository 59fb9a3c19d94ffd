"""Thin Celery tasks: take ids, call the work (accounts.purges), retry with backoff where that
helps. Services enqueue these; nothing here imports the services."""

from __future__ import annotations

import smtplib
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.core.mail import EmailMultiAlternatives
from django.db import OperationalError

from accounts import purges


@shared_task(
    autoretry_for=(smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError),
    retry_backoff=30,
    retry_backoff_max=15 * 60,
    max_retries=6,
)
def send_email(*, to: str, subject: str, text: str, html: str) -> None:
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()


# Removal of a store's or an organisation's rows, in batches that each commit: a run stopped by
# its time limit (or a database hiccup) is retried and carries on where it stopped, on the
# default queue, for up to a day of work.
PURGE_TASK: dict[str, Any] = {
    "soft_time_limit": 30 * 60,
    "time_limit": 31 * 60,
    "autoretry_for": (SoftTimeLimitExceeded, OperationalError),
    "retry_backoff": 10,
    "retry_backoff_max": 10 * 60,
    "max_retries": 48,
}


@shared_task(**PURGE_TASK)
def organisation_purge(*, organisation_id: int) -> None:
    purges.organisation_purge(organisation_id=organisation_id)


@shared_task(**PURGE_TASK)
def store_purge(*, store_id: int) -> None:
    purges.store_purge(store_id=store_id)


@shared_task
def member_invitations_purge() -> None:
    purges.member_invitations_purge()


@shared_task
def deletions_resume() -> tuple[list[int], list[int]]:
    """Queue again the purges that were lost (purges.deletions_due); a purge is idempotent, so
    one still running is harmless to repeat. Returns the store and organisation ids queued."""
    store_ids, organisation_ids = purges.deletions_due()
    for store_id in store_ids:
        store_purge.delay(store_id=store_id)
    for organisation_id in organisation_ids:
        organisation_purge.delay(organisation_id=organisation_id)
    return store_ids, organisation_ids
