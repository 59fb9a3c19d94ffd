"""Thin Celery tasks of the weekly digest. Beat runs the dispatch every morning (the digest of a
week goes out on the first run after the week has ended in the store's time zone and its
figures are stored); each digest is sent on the `email` queue, as the survey emails are."""

from __future__ import annotations

import smtplib
from datetime import date

from celery import shared_task

from core import clock
from dashboards import selectors, services


@shared_task
def digests_dispatch() -> int:
    """Queue each subscription's digest of its store's last complete week, unless sent."""
    due = selectors.digests_due(now=clock.now())
    for subscription_id, week in due:
        digest_send.delay(subscription_id=subscription_id, week=week.isoformat())
    return len(due)


@shared_task(
    autoretry_for=(smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError),
    retry_backoff=60,
    retry_backoff_max=30 * 60,
    max_retries=5,
)
def digest_send(*, subscription_id: int, week: str) -> str:
    return services.digest_send(subscription_id=subscription_id, week=date.fromisoformat(week))
