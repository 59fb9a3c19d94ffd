"""Writes of the dashboards: members' weekly digest subscriptions, and sending a digest."""

from __future__ import annotations

import logging
from datetime import date

from django.db.models import Q

from accounts.models import Membership, Store
from core import clock
from dashboards import emails, selectors
from dashboards.models import DigestSubscription

logger = logging.getLogger(__name__)


class DigestOutcome:
    SENT = "sent"
    ALREADY_SENT = "already_sent"  # this week's went out (another run, or a redelivery)
    NOT_READY = "not_ready"  # the week's stored figures are not there yet: the next run retries
    NO_ACCESS = "no_access"  # the member, the store or the organisation is gone or going
    GONE = "gone"  # unsubscribed meanwhile


def digest_subscribe(*, membership: Membership, store: Store) -> DigestSubscription:
    """The member gets the store's weekly digest, from the week in progress on: the weeks
    that have ended count as sent, so that stopping and asking again never brings a week
    twice. Idempotent. The caller has scoped `store` to the membership's organisation."""
    if store.organisation_id != membership.organisation_id:
        raise ValueError("A member subscribes to their own organisation's stores only.")
    subscription, _created = DigestSubscription.objects.get_or_create(
        membership=membership,
        store=store,
        defaults={"last_sent_week": selectors.last_complete_week(store=store, now=clock.now())},
    )
    return subscription


def digest_stop(*, membership: Membership, store: Store) -> None:
    DigestSubscription.objects.filter(membership=membership, store=store).delete()


def digest_unsubscribe(*, subscription_id: int) -> None:
    """The email's unsubscribe link: stops the one subscription it names."""
    DigestSubscription.objects.filter(pk=subscription_id).delete()


def digest_send(*, subscription_id: int, week: date) -> str:
    """Send the digest of the ISO week starting on `week`, at most once.

    The week is claimed first, by a conditional update of last_sent_week that only one run can
    win: two runs, or a redelivered task, never send the same week twice. An error from the
    email backend gives the claim back (the next run tries again). A worker that dies between
    the claim and the send loses that week's digest: never two emails, as with the surveys."""
    subscription = (
        selectors.digest_subscriptions_live()
        .select_related("store", "membership__user")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None:
        exists = DigestSubscription.objects.filter(pk=subscription_id).exists()
        return DigestOutcome.NO_ACCESS if exists else DigestOutcome.GONE
    if subscription.last_sent_week is not None and subscription.last_sent_week >= week:
        return DigestOutcome.ALREADY_SENT
    try:
        digest = selectors.weekly_digest(store=subscription.store, week=week)
    except selectors.DigestNotReady as reason:
        logger.info(
            "Weekly digest of store %s for the week of %s not sent to subscription %s: %s; "
            "the next run tries again.",
            subscription.store_id,
            week,
            subscription.pk,
            reason,
        )
        return DigestOutcome.NOT_READY
    message = emails.digest_message(subscription=subscription, digest=digest)
    unsent = Q(last_sent_week__isnull=True) | Q(last_sent_week__lt=week)
    claimed = DigestSubscription.objects.filter(unsent, pk=subscription.pk).update(
        last_sent_week=week
    )
    if not claimed:
        return DigestOutcome.ALREADY_SENT
    try:
        message.send()
    except Exception:
        DigestSubscription.objects.filter(pk=subscription.pk, last_sent_week=week).update(
            last_sent_week=subscription.last_sent_week
        )
        raise
    return DigestOutcome.SENT
