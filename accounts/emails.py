"""Account emails: rendered here from templates, sent by a Celery task on the `email` queue."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import Organisation, User
from accounts.tasks import send_email
from core.languages import language_offered


def email_language(
    *, user: User | None = None, organisation: Organisation | None = None, fallback: str = ""
) -> str:
    """The language of an email to `user`: their own setting; else, where the email is
    sent from a page the recipient is on (sign-up, a password reset), that page's language
    (`fallback`); else the organisation's (an invitation to an address with no account);
    else the site's default. Never the language of whoever made someone else's email go."""
    for language in (
        user.language if user is not None else "",
        fallback,
        organisation.language if organisation is not None else "",
    ):
        if language and language_offered(language):
            return language
    return settings.LANGUAGE_CODE


def email_enqueue(*, to: str, template: str, context: dict[str, Any], language: str) -> None:
    """Render `templates/<template>_subject.txt`, `_body.txt` and `_body.html` in `language`
    (see email_language) and send them after the current transaction commits (never for a
    rolled-back sign-up)."""
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}_body.txt", context)
        html = render_to_string(f"{template}_body.html", context)
    transaction.on_commit(lambda: send_email.delay(to=to, subject=subject, text=text, html=html))
