"""Celery tasks of the dashboards: asking the customers who dropped off before a stage, and the
weekly digest. Beat runs the dispatch every morning (the digest of a
week goes out on the first run after the week has ended in the store's time zone and its
figures are stored); each digest is sent on the `email` queue, as the survey emails are."""

from __future__ import annotations

import logging
import smtplib
from datetime import date

from celery import shared_task
from django.core.exceptions import ValidationError

from accounts.models import Store, User
from accounts.services import Actor
from core import clock
from core import services as core_services
from dashboards import dropped, selectors, services
from metrics.funnel import funnel_result
from metrics.mapping import NoActiveJourney
from metrics.selectors import BadListQuery
from surveys.models import Contact, Survey
from surveys.services import survey_send_to_contacts

logger = logging.getLogger(__name__)


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


@shared_task(acks_late=True, soft_time_limit=10 * 60, time_limit=11 * 60)
def dropped_ask(
    *,
    task_id: int,
    store_id: int,
    stage_id: int,
    survey_id: int,
    start: str,
    end: str,
    window_days: int,
    user_id: int | None,
) -> None:
    """Invite, to the survey, the contacts among the customers who dropped off before the
    stage in the period, as the stored list has them when the task runs. Invitations are
    made in one transaction (all or none); a repeated run invites nobody twice."""
    task = core_services.task_claim(task_id=task_id)
    if task is None:
        return
    store = Store.objects.filter(pk=store_id).first()
    survey = Survey.objects.filter(pk=survey_id, store_id=store_id).first()
    if store is None or survey is None:
        core_services.task_fail(task=task, error="The store or the survey no longer exists.")
        return
    try:
        result = funnel_result(
            store=store,
            start=date.fromisoformat(start),
            end=date.fromisoformat(end),
            window_days=window_days,
        )
        assert result is not None
        core_services.task_progress(task=task, done=0, total=2, phase="Reading the list")
        outlook = dropped.dropped_outlook(
            store=store, result=result, stage_id=stage_id, survey=survey
        )
        core_services.task_progress(task=task, done=1, phase="Inviting")
        user = User.objects.filter(pk=user_id).first() if user_id else None
        summary = survey_send_to_contacts(
            survey=survey,
            actor=Actor(user=user),
            contacts=Contact.objects.filter(pk__in=outlook.contact_ids),
        )
    except (NoActiveJourney, BadListQuery) as error:
        core_services.task_fail(task=task, error=str(error))
        return
    except ValidationError as error:  # the survey was paused or closed meanwhile
        core_services.task_fail(task=task, error=" ".join(error.messages))
        return
    except Exception as error:
        logger.exception("Asking the dropped customers of stage %s failed", stage_id)
        core_services.task_fail(task=task, error=f"Nobody was invited: {error}"[:300])
        return
    core_services.task_done(
        task=task,
        result={**outlook.as_dict(), "queued": summary.queued, "capped": summary.capped},
    )
