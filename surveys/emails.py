"""The survey email: multipart (text and HTML) in the invitation's language, with the first
question embedded as score links and a one-click unsubscribe header."""

from __future__ import annotations

import secrets
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from core.emails import bulk_headers
from surveys import buyer_texts, tokens
from surveys.models import Invitation, StoreSurveySettings
from surveys.selectors import store_survey_settings_get


def answer_url(token: str) -> str:
    return f"{settings.SITE_URL}/s/{token}/"


def unsubscribe_url(token: str) -> str:
    return f"{settings.SITE_URL}/s/{token}/unsubscribe/"


_LOAD = object()  # "load it": the default of the preloaded arguments below

# The bodies of a batch's messages are rendered once per survey, language and kind (first
# email or reminder) with this stand-in for the link token, which each message then gets in
# its place: the two templates cost a sixth of sending an email (bench/send_bench.py). The
# token only ever appears in URLs, and both it and the stand-in are plain URL characters
# that no escaping changes; the stand-in is random, so no text can contain it.
_TOKEN_STAND_IN = secrets.token_hex(16)

Bodies = dict[tuple[int, str, bool], tuple[str, str]]


def invitation_message(
    invitation: Invitation,
    *,
    reminder: bool,
    connection: Any = None,
    first_question: Any = _LOAD,
    sending: StoreSurveySettings | None = None,
    bodies: Bodies | None = None,
) -> EmailMultiAlternatives:
    """The email for one invitation. A batch passes the survey's first question and the
    store's settings, loaded once for all its messages, and a dict in which the bodies
    rendered for one message are kept for the next ones of the same survey and language."""
    survey = invitation.survey
    store = survey.store
    language = invitation.language
    token = tokens.token_for(invitation.nonce)
    bodies = {} if bodies is None else bodies
    key = (survey.pk, language, reminder)
    if key not in bodies:
        first = (
            survey.questions.order_by("position", "id").first()
            if first_question is _LOAD
            else first_question
        )
        context = _body_context(invitation, first)
        bodies[key] = (
            render_to_string("surveys/email/invitation.txt", context),
            render_to_string("surveys/email/invitation.html", context),
        )
    text, html = (body.replace(_TOKEN_STAND_IN, token) for body in bodies[key])
    sending = sending or store_survey_settings_get(store=store)
    subject = buyer_texts.fill(survey.text("email_subject", language), store=store.name)
    if reminder:
        subject = buyer_texts.text("reminder_subject_prefix", language) + subject
    _name, from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=formataddr((sending.sender_name or store.name, from_address)),
        to=[invitation.contact.email],
        reply_to=[sending.reply_to] if sending.reply_to else None,
        headers=bulk_headers(unsubscribe_url(token)),
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message


def _body_context(invitation: Invitation, first: Any) -> dict[str, Any]:
    """The templates' context, with the stand-in for the link token."""
    survey = invitation.survey
    store = survey.store
    language = invitation.language
    url = answer_url(_TOKEN_STAND_IN)
    scores: list[tuple[int, str]] = []
    labels = ("", "")
    if first is not None and first.scale is not None:
        low, high = first.scale
        scores = [(n, f"{url}?q{first.pk}={n}") for n in range(low, high + 1)]
        labels = (
            buyer_texts.text(f"scale_{first.type}_low", language),
            buyer_texts.text(f"scale_{first.type}_high", language),
        )
    return {
        "language": language,
        "store": store.name,
        "intro": buyer_texts.fill(survey.text("email_intro", language), store=store.name),
        "question": buyer_texts.fill(
            (first.text or {}).get(language, "") if first else "", store=store.name
        ),
        "scores": scores,
        "low_label": labels[0],
        "high_label": labels[1],
        "answer_url": url,
        "unsubscribe_url": unsubscribe_url(_TOKEN_STAND_IN),
        "cta": buyer_texts.text("email_cta", language),
        "open_link": buyer_texts.text("email_open_link", language),
        "footer": buyer_texts.text("email_footer", language, store=store.name),
        "unsubscribe_label": buyer_texts.text("unsubscribe_link", language),
    }
