"""The weekly digest email: multipart (text and HTML) in the member's language, with a link to
the store's dashboard for that week and a one-click unsubscribe link and header (RFC 8058), as
the survey emails have."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode

from accounts.emails import email_language
from core.emails import bulk_headers
from dashboards import tokens
from dashboards.models import DigestSubscription
from dashboards.selectors import WeeklyDigest


def unsubscribe_url(subscription: DigestSubscription) -> str:
    path = reverse("dashboards:digest-unsubscribe", args=[tokens.token_for(subscription.pk)])
    return f"{settings.SITE_URL}{path}"


def dashboard_url(digest: WeeklyDigest) -> str:
    """The store's dashboard for the digest's week, as a custom range (compared, as always,
    with the 7 days before it: the week before)."""
    path = reverse("dashboards:store", args=[digest.store.pk])
    query = urlencode(
        {"period": "custom", "start": digest.start.isoformat(), "end": digest.end.isoformat()}
    )
    return f"{settings.SITE_URL}{path}?{query}"


def digest_message(
    *, subscription: DigestSubscription, digest: WeeklyDigest, connection: Any = None
) -> EmailMultiAlternatives:
    user = subscription.membership.user
    unsubscribe = unsubscribe_url(subscription)
    context = {
        "digest": digest,
        "store": digest.store,
        "stages": digest.stages,
        "significant": digest.significant,
        "window_days": digest.body["window_days"],
        "dashboard_url": dashboard_url(digest),
        "unsubscribe_url": unsubscribe,
    }
    language = email_language(user=user, organisation=subscription.membership.organisation)
    with translation.override(language):
        subject = render_to_string("dashboards/email/digest_subject.txt", context)
        text = render_to_string("dashboards/email/digest.txt", context)
        html = render_to_string("dashboards/email/digest.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[user.email],
        headers=bulk_headers(unsubscribe),
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message
