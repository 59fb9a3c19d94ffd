"""Ask the ones who left: the drop-off list of a stage, read on the server, invited through the
surveys' sending with its unsubscribes, suppression and fatigue cap."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.services import SYSTEM
from core.models import Task
from events.models import Customer
from surveys import services
from surveys.models import Contact, Invitation
from tests.dashboards.test_stage_detail import JANUARY, _page, _stage
from tests.surveys.test_results import make_survey

pytestmark = pytest.mark.django_db


def _contact(store: Any, key: str, *, linked: bool = True, **fields: Any) -> Contact:
    contact, _created = services.contact_upsert(store=store, email=f"{key}@example.com")
    Contact.objects.filter(pk=contact.pk).update(**fields)
    if linked:
        Customer.objects.filter(store=store, key=key).update(contact=contact)
    else:  # known by its customer key only
        Contact.objects.filter(pk=contact.pk).update(customer_key=key)
    return contact


@pytest.fixture
def dropped_contacts(example_store: Any) -> dict[str, Contact]:
    # January's FMOT drop-offs: c4, c5, c6, c8 (7 entered, 3 reached FMOT).
    now = timezone.now()
    other = make_survey(example_store, questions=["rating"], moment="SMOT", name="Checkout")
    contacts = {
        "c4": _contact(example_store, "c4", linked=False),
        "c5": _contact(example_store, "c5", unsubscribed_at=now),
        "c6": _contact(example_store, "c6", suppressed_at=now, suppression_reason="bounce"),
        "c8": _contact(example_store, "c8"),
    }
    # c8 was surveyed yesterday: within the store's fatigue days.
    Invitation.objects.create(
        survey=other,
        contact=contacts["c8"],
        status=Invitation.Status.SENT,
        language="en",
        nonce="n-c8",
        token_hash="h-c8",
        due_at=now - timedelta(days=1),
        sent_at=now - timedelta(days=1),
    )
    return contacts


def test_the_page_says_who_would_be_asked_and_why_not_the_others(
    example_store: Any,
    dropped_contacts: Any,
    client_as: Any,
) -> None:
    survey = make_survey(example_store, questions=["rating"], moment="FMOT", name="Pages")
    fmot = _stage(example_store, "FMOT")
    html = _page(
        client_as("editor"), example_store, fmot, outcome="dropped", ask=survey.pk, **JANUARY
    )
    assert "1 customer will be asked." in html
    assert "Dropped off: 4" in html
    assert "Not asked, unsubscribed: 1" in html
    assert "Not asked, their address bounced or complained: 1" in html
    assert "Not asked now, surveyed recently (the store's fatigue cap): 1" in html
    assert "no email contact known" not in html
    # Viewers are offered nothing.
    viewer = _page(client_as("viewer"), example_store, fmot, outcome="dropped", **JANUARY)
    assert "Ask the ones who left" not in viewer


def test_sending_reads_the_list_on_the_server_and_invites_the_contacts_once(
    example_store: Any,
    dropped_contacts: Any,
    client_as: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    survey = make_survey(example_store, questions=["rating"], moment="FMOT", name="Pages")
    fmot = _stage(example_store, "FMOT")
    editor = client_as("editor")
    url = f"/stores/{example_store.pk}/dashboard/stages/{fmot.pk}/ask/"
    with django_capture_on_commit_callbacks(execute=True):
        # Ids posted by a page are ignored: the task reads the stored list itself.
        answer = editor.post(url, {"survey": survey.pk, "customers": "c1,c2", **JANUARY})
    assert answer.status_code == 302
    task = Task.objects.get(kind="dashboards.ask_dropped")
    assert task.state == "done"
    assert task.result == {
        "dropped": 4,
        "to_ask": 1,
        "not_contacts": 0,
        "unsubscribed": 1,
        "suppressed": 1,
        "already_invited": 0,
        "over_cap": 1,
        "queued": 1,
        "capped": 0,
    }
    invited = Invitation.objects.filter(survey=survey)
    assert [i.contact_id for i in invited] == [dropped_contacts["c4"].pk]
    assert invited.get().status == Invitation.Status.QUEUED
    page = editor.get(answer.url).content.decode()
    assert "1 customer is invited" in page
    # A second round invites nobody twice.
    with django_capture_on_commit_callbacks(execute=True):
        editor.post(url, {"survey": survey.pk, **JANUARY})
    assert Invitation.objects.filter(survey=survey).count() == 1
    second = Task.objects.filter(kind="dashboards.ask_dropped").latest("pk")
    assert (second.result["already_invited"], second.result["queued"]) == (1, 0)


def test_only_editors_send_an_active_survey_of_the_store(
    example_store: Any,
    client_as: Any,
    organisation: Any,
) -> None:
    from tests.factories import StoreFactory

    fmot = _stage(example_store, "FMOT")
    url = f"/stores/{example_store.pk}/dashboard/stages/{fmot.pk}/ask/"
    survey = make_survey(example_store, questions=["rating"], moment="FMOT", name="Pages")
    assert client_as("viewer").post(url, {"survey": survey.pk}).status_code == 403
    elsewhere = make_survey(StoreFactory(organisation=organisation), questions=["rating"])
    editor = client_as("editor")
    refused = editor.post(url, {"survey": elsewhere.pk}, follow=True)
    assert "Choose an active survey of this store." in refused.content.decode()
    services.survey_set_status(survey=survey, actor=SYSTEM, status="paused")
    assert editor.post(url, {"survey": survey.pk}).status_code == 302
    assert not Task.objects.filter(kind="dashboards.ask_dropped").exists()


def test_customers_without_a_contact_are_counted(
    example_store: Any,
    client_as: Any,
) -> None:
    # TMOT in January: SMOT reached by c1 and c2, TMOT by c1 only; c2 has no contact.
    survey = make_survey(example_store, questions=["rating"], moment="TMOT", name="Delivery")
    tmot = _stage(example_store, "TMOT")
    html = _page(
        client_as("editor"), example_store, tmot, outcome="dropped", ask=survey.pk, **JANUARY
    )
    assert "0 customers will be asked." in html
    assert "Not asked, no email contact known: 1" in html
    assert "to them</button>" not in html
