"""The demo surveys: idempotent, realistic, and never emailing anyone.

The data comes from a fixed seed, so the counts below are exact; they change when the
demo's parameters or the survey templates (delays, reminders, questions) change.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts import demo as accounts_demo
from accounts.models import Organisation, Store
from surveys import demo, selectors, services
from surveys.models import (
    Answer,
    CommentThemeResult,
    Contact,
    Invitation,
    Response,
    StoreSurveySettings,
    Survey,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def organisation() -> Organisation:
    organisation = accounts_demo.load()
    demo.load(organisation=organisation, now=NOW)
    return organisation


def _store(organisation: Organisation, code: str) -> Store:
    return Store.objects.get(organisation=organisation, name=f"Baltic Goods {code}")


def _fingerprint(organisation: Organisation) -> dict[str, Any]:
    """Everything the demo makes, without ids, nonces and the rows' own insert times."""
    return {
        "surveys": sorted(
            Survey.objects.filter(organisation=organisation).values_list(
                "store__name", "template_key", "status", "languages", "created_at"
            )
        ),
        "contacts": sorted(
            Contact.objects.filter(organisation=organisation).values_list(
                "store__name",
                "email",
                "customer_key",
                "name",
                "language",
                "created_at",
                "unsubscribed_at",
                "suppressed_at",
                "suppression_reason",
            )
        ),
        "invitations": sorted(
            Invitation.objects.filter(survey__organisation=organisation).values_list(
                "survey__template_key",
                "contact__email",
                "status",
                "language",
                "trigger_event",
                "triggered_at",
                "due_at",
                "sent_at",
                "opened_at",
                "answered_at",
                "reminder_sent_at",
                "last_error",
                "created_at",
            )
        ),
        "answers": sorted(
            Answer.objects.filter(response__survey__organisation=organisation).values_list(
                "response__invitation__contact__email",
                "response__survey__template_key",
                "response__language",
                "response__started_at",
                "response__submitted_at",
                "question__position",
                "number",
                "choices",
                "text",
                "answered_at",
            )
        ),
    }


def test_loading_twice_gives_the_same_data(organisation: Organisation) -> None:
    first = _fingerprint(organisation)

    demo.load(organisation=organisation, now=NOW)

    assert _fingerprint(organisation) == first
    assert len(first["contacts"]) == 500
    assert len(first["invitations"]) == 496
    assert len(first["answers"]) == 325


def test_a_later_run_moves_the_data_to_the_last_90_days(organisation: Organisation) -> None:
    before = Invitation.objects.filter(status="answered").order_by("answered_at").first()
    assert before is not None

    demo.load(organisation=organisation, now=NOW + timedelta(days=7))

    after = Invitation.objects.filter(status="answered").order_by("answered_at").first()
    assert after is not None
    assert after.answered_at == before.answered_at + timedelta(days=7)
    assert Contact.objects.count() == 500


def test_surveys_per_store(organisation: Organisation) -> None:
    surveys = {
        (s.store.name, s.template_key): s
        for s in Survey.objects.filter(organisation=organisation).select_related("store")
    }
    assert sorted(surveys) == [
        ("Baltic Goods LT", "checkout-ces"),
        ("Baltic Goods LT", "delivery-experience"),
        ("Baltic Goods LT", "nps"),
        ("Baltic Goods LT", "post-purchase-csat"),
        ("Baltic Goods RO", "delivery-experience"),
        ("Baltic Goods RO", "nps"),
        ("Baltic Goods RO", "post-purchase-csat"),
    ]
    assert {s.status for s in surveys.values()} == {Survey.Status.ACTIVE}
    assert {s.trigger_event for s in surveys.values()} == {"purchase", "delivered"}
    assert surveys["Baltic Goods LT", "nps"].languages == ["lt", "en", "lv", "et"]
    assert surveys["Baltic Goods RO", "nps"].default_language == "ro"
    assert StoreSurveySettings.objects.get(store__name="Baltic Goods RO").reply_to == (
        "ajutor@ro.balticgoods.example"
    )


def test_contacts_have_local_names_and_languages(organisation: Organisation) -> None:
    languages = {
        code: Counter(Contact.objects.filter(store=_store(organisation, code)).values_list(
            "language", flat=True
        ))
        for code in ("LT", "RO")
    }  # fmt: skip
    assert languages["LT"] == {"lt": 221, "en": 19, "lv": 17, "": 13, "et": 10}
    assert languages["RO"] == {"ro": 179, "en": 18, "": 11, "cs": 12}
    lithuanian = Contact.objects.filter(language="lt").values_list("name", flat=True)
    assert any(name.endswith(("ienė", "aitė", "ytė", "ūtė")) for name in lithuanian)
    assert any("ș" in name.lower() or "ă" in name for name in Contact.objects.values_list(
        "name", flat=True
    ).filter(language="ro"))  # fmt: skip
    emails = list(Contact.objects.values_list("email", flat=True))
    assert all(email.isascii() and email.split("@")[1].startswith("example.") for email in emails)
    assert len(set(emails)) == len(emails)


def test_invitation_states(organisation: Organisation) -> None:
    def states(code: str) -> Counter[str]:
        return Counter(
            Invitation.objects.filter(survey__store=_store(organisation, code)).values_list(
                "status", flat=True
            )
        )

    assert states("LT") == {
        "answered": 101, "opened": 67, "sent": 79, "capped": 33, "bounced": 5, "failed": 3,
    }  # fmt: skip
    assert states("RO") == {
        "answered": 74, "opened": 56, "sent": 50, "capped": 21, "bounced": 4, "failed": 3,
    }  # fmt: skip
    # Every bounce suppressed its address; unsubscribes happened after an opened email.
    assert Contact.objects.filter(suppressed_at__isnull=False).count() == 9
    assert Contact.objects.filter(unsubscribed_at__isnull=False).count() == 9
    assert not Invitation.objects.filter(
        status="failed", contact__unsubscribed_at__isnull=True, contact__suppressed_at__isnull=True
    ).exists()
    # The fatigue cap: no contact was emailed twice within 30 days.
    sent = sorted(
        Invitation.objects.filter(sent_at__isnull=False).values_list("contact_id", "sent_at")
    )
    for (contact, when), (next_contact, next_when) in pairwise(sent):
        assert contact != next_contact or next_when - when >= timedelta(days=30)


def test_the_story_spans_the_last_90_days(organisation: Organisation) -> None:
    midnight = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    sent = Invitation.objects.filter(sent_at__isnull=False)
    assert midnight - timedelta(days=90) <= min(i.sent_at for i in sent)
    assert max(i.sent_at for i in sent) <= midnight - timedelta(days=4)
    assert (max(i.sent_at for i in sent) - min(i.sent_at for i in sent)).days >= 80
    for invitation in Invitation.objects.filter(status="answered"):
        assert invitation.sent_at < invitation.opened_at <= invitation.answered_at < midnight
        assert invitation.created_at == invitation.triggered_at
    for response in Response.objects.all():
        assert response.started_at <= (response.submitted_at or response.started_at)
        assert response.started_at < midnight
    assert Response.objects.filter(submitted_at__isnull=True).count() == 15  # left unfinished


def _headline(organisation: Organisation, code: str, template: str) -> Counter[int]:
    return Counter(
        Answer.objects.filter(
            response__survey__store=_store(organisation, code),
            response__survey__template_key=template,
            response__submitted_at__isnull=False,
            question__position=0,
        ).values_list("number", flat=True)
    )


def test_answers_have_a_realistic_distribution(organisation: Organisation) -> None:
    csat = _headline(organisation, "LT", "post-purchase-csat")
    assert csat == {5: 13, 4: 8, 3: 2, 2: 1, 1: 1}
    assert (csat[4] + csat[5]) / csat.total() == 0.84  # CSAT: mostly 4–5, some 1–3

    nps = _headline(organisation, "LT", "nps")
    assert nps == {10: 7, 9: 6, 8: 6, 7: 5, 6: 2, 5: 2, 4: 1, 3: 1}
    promoters = (nps[9] + nps[10]) / nps.total()
    detractors = sum(n for score, n in nps.items() if score <= 6) / nps.total()
    assert (round(promoters, 3), round(detractors, 3)) == (0.433, 0.2)

    ces = _headline(organisation, "LT", "checkout-ces")
    assert sum(score * n for score, n in ces.items()) / ces.total() == 147 / 26  # CES mean 5.65

    # The RO store's deliveries are its weak spot.
    lt, ro = (_headline(organisation, c, "delivery-experience") for c in ("LT", "RO"))
    assert (lt[4] + lt[5]) / lt.total() == 0.8
    assert (ro[4] + ro[5]) / ro.total() == pytest.approx(19 / 29)


def test_free_text_answers_are_in_the_contacts_language(organisation: Organisation) -> None:
    texts = Answer.objects.exclude(text="").select_related("response__invitation__contact")
    by_language = Counter(answer.response.language for answer in texts)
    assert by_language == {"lt": 42, "ro": 32, "en": 7, "et": 6, "lv": 4, "cs": 1}
    for answer in texts:
        assert answer.text in {text for _t, _s, text in demo.TEXTS[answer.response.language]}
        contact = answer.response.invitation.contact
        assert answer.response.language == (contact.language or contact.store.default_language)
    assert len({answer.text for answer in texts}) == 45
    assert sum(len(pool) for pool in demo.TEXTS.values()) == 100


def test_the_comments_have_themes_in_several_languages(organisation: Organisation) -> None:
    computed = demo.comment_themes_load(organisation=organisation)

    assert computed == {
        "Baltic Goods LT": {"comments": 56, "results": 20, "themes": 152},
        "Baltic Goods RO": {"comments": 36, "results": 12, "themes": 98},
    }
    rows = CommentThemeResult.objects.filter(period="all_time").exclude(themes=[])
    assert sorted({row.language for row in rows}) == ["en", "et", "lt", "lv", "ro"]
    ro = selectors.comment_themes(
        store=_store(organisation, "RO"), period="all_time", stage=("TMOT", "")
    )
    romanian = next(g for g in ro["stages"][0]["languages"] if g["language"] == "ro")
    # The RO store's weak spot, its deliveries: the courier in 7 of 15 comments
    # ("curierul", "curierului"), late deliveries scored lowest.
    assert romanian["answers"] == 15
    assert romanian["scores"]["csat"] == {"count": 15, "mean": 3.47}
    themes = {t["phrase"]: t for t in romanian["themes"]}
    assert themes["curier"]["answers"] == 7
    assert themes["livrare întârzia"]["scores"]["csat"] == {"count": 4, "mean": 2.0}


def test_nothing_is_ever_sent(organisation: Organisation) -> None:
    much_later = NOW + timedelta(days=365)
    assert not Invitation.objects.filter(status__in=["queued", "sending", "unknown"]).exists()
    assert services.invitations_due(now=much_later) == {}
    assert services.reminders_due(now=much_later) == []
    assert mail.outbox == []


def test_demo_load_command_runs_every_loader(settings: Any) -> None:
    settings.DEMO_ALLOWED = True
    loaders = settings.DEMO_LOADERS
    assert loaders.index("journeys.demo.load") < loaders.index("surveys.demo.load")

    call_command("demo_load", stdout=None)
    call_command("demo_load", stdout=None)

    assert Survey.objects.filter(status="active").count() == 7
    # The surveys demo's contacts (the events demo's buyers have addresses at *.example).
    assert Contact.objects.filter(email__regex=r"@example\.(com|net|org)$").count() == 500
    # Linked to the demo journey's touchpoints where one matches the moment and the event.
    assert Survey.objects.filter(touchpoint__isnull=False).exists()
