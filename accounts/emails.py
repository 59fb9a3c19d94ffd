"""Account emails: rendered here from templates, sent by a Celery task on the `email` queue."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from accounts.tasks import send_email


def email_enqueue(*, to: str, template: str, context: dict[str, Any], language: str = "") -> None:
    """Render `templates/<template>_subject.txt`, `_body.txt` and `_body.html` and send them
    after the current transaction commits (never for a rolled-back sign-up)."""
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language or translation.get_language() or "en"):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}_body.txt", context)
        html = render_to_string(f"{template}_body.html", context)
    transaction.on_commit(lambda: send_email.delay(to=to, subject=subject, text=text, html=html))
