"""Shared start-up for the benchmarks: the database (embedded PostgreSQL when DATABASE_URL is
unset), Django with bench/settings.py (production settings), the schema, and a throw-away
organisation."""

from __future__ import annotations

import atexit
import base64
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup(*, static_files: bool = False, database: bool = True) -> str:
    """Start Django with production settings; return the database URL. What production takes
    from its environment and a bench cannot have (the secrets) gets throw-away values for
    this run, in the environment, so that a gunicorn started later shares them (link tokens
    made here are HMACs with a key derived from SECRET_KEY). With `static_files`, the static
    files are collected first, as the Dockerfile does, into a temporary folder removed at
    exit: the pages' {% static %} needs the manifest, and WhiteNoise serves from there.
    Without `database` (a bench that never queries) no server is started, nothing is
    migrated, and the URL returned is empty."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["FIELD_ENCRYPTION_KEYS"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    if static_files:
        folder = tempfile.mkdtemp(prefix="momentmap-bench-static-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ["BENCH_STATIC_ROOT"] = folder
    import django

    if not database:
        django.setup()
        return ""
    from config.embedded_db import ensure_database_url

    url = ensure_database_url()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if static_files:
        call_command("collectstatic", interactive=False, verbosity=0)
    return url


def bench_store(*, languages: list[str]) -> tuple[object, object, object]:
    """A new organisation and store for one run: (organisation, store, active survey)."""
    from accounts.models import Organisation, Store
    from accounts.services import SYSTEM
    from surveys import services

    stamp = f"{time.time():.0f}-{os.getpid()}"
    organisation = Organisation.objects.create(name=f"Bench {stamp}")
    store = Store.objects.create(
        organisation=organisation,
        name="Bench store",
        domain=f"bench-{stamp}.example.com",
        currency="EUR",
        time_zone="Europe/Vilnius",
        default_language=languages[0],
    )
    survey = services.survey_create_from_template(
        organisation=organisation,
        store=store,
        actor=SYSTEM,
        template="post-purchase-csat",
        languages=languages,
    )
    survey = services.survey_set_status(survey=survey, actor=SYSTEM, status="active")
    return organisation, store, survey


def bench_invitations(
    *, store: object, survey: object, count: int, status: str, sent: bool, first: int = 0
) -> list[tuple[int, str]]:
    """`count` new contacts (buyer<first>@... on), each with one invitation of the survey;
    returns (invitation id, link token) for each."""
    from django.utils import timezone

    from surveys import tokens
    from surveys.models import Contact, Invitation

    now = timezone.now()
    languages = survey.languages  # type: ignore[attr-defined]
    contacts = Contact.objects.bulk_create(
        Contact(
            organisation_id=store.organisation_id,  # type: ignore[attr-defined]
            store=store,
            email=f"buyer{n}@example.com",
            name=f"Pirkėjas {n}",
            language=languages[n % len(languages)],
        )
        for n in range(first, first + count)
    )
    rows, links = [], []
    for n, contact in enumerate(contacts):
        nonce = tokens.new_nonce()
        token = tokens.token_for(nonce)
        links.append(token)
        rows.append(
            Invitation(
                survey=survey,
                contact=contact,
                status=status,
                nonce=nonce,
                token_hash=tokens.token_hash(token),
                language=contact.language,
                trigger_event="purchase",
                triggered_at=now - timedelta_seconds(n + 1),
                due_at=now - timedelta_seconds(1),
                sent_at=now if sent else None,
            )
        )
    created = Invitation.objects.bulk_create(rows, batch_size=2000)
    return [(i.pk, t) for i, t in zip(created, links, strict=True)]


def timedelta_seconds(seconds: float) -> object:
    from datetime import timedelta

    return timedelta(seconds=seconds)
