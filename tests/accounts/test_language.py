"""The staff UI's language: the person's setting (defaulting to the browser's), the header's
switcher with the same URLs in every language, and account emails in the recipient's language,
never the language of whoever made them go out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext, ngettext

from accounts import services
from accounts.models import AuditLogEntry, Organisation, Role, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _html_lang(response: Any) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match
    return match.group(1)


def test_a_guest_follows_the_browser_then_the_switcher(client: Any) -> None:
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="cs,en;q=0.5")
    assert _html_lang(response) == "cs"
    assert response["Content-Language"] == "cs"

    response = client.post(
        "/accounts/language/",
        {"language": "lv", "next": "/accounts/login/"},
        HTTP_ACCEPT_LANGUAGE="cs",
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"  # the same URL in every language
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "lv"
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="cs")
    assert _html_lang(page) == "lv"


def test_the_switcher_is_on_every_page_for_guests_and_members(client: Any, client_as: Any) -> None:
    guest_page = client.get("/accounts/login/")
    member_page = client_as(Role.VIEWER).get("/", follow=True)
    for response in (guest_page, member_page):
        html = response.content.decode()
        assert 'action="/accounts/language/"' in html
        for code, name in (("lt", "Lietuvių"), ("et", "Eesti"), ("ro", "Română")):
            assert f'<option value="{code}" lang="{code}"' in html
            assert name in html


def test_a_members_setting_wins_over_the_browser_and_blank_follows_it_again(
    client_as: Any,
) -> None:
    client = client_as(Role.VIEWER)
    user = User.objects.get()
    assert user.language == ""
    assert _html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="ro", follow=True)) == "ro"

    client.post("/accounts/language/", {"language": "lt", "next": "/"})
    user.refresh_from_db()
    assert user.language == "lt"
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)  # another browser, the same person
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert _html_lang(response) == "lt"
    assert '<option value="lt" lang="lt" selected>' in response.content.decode()

    response = client.post("/accounts/language/", {"language": "", "next": "/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""  # deleted
    user.refresh_from_db()
    assert user.language == ""
    assert _html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="et", follow=True)) == "et"


def test_an_unknown_language_changes_nothing_and_next_stays_on_this_site(
    client_as: Any,
) -> None:
    client = client_as(Role.VIEWER)
    response = client.post("/accounts/language/", {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert User.objects.get().language == ""
    response = client.post(
        "/accounts/language/", {"language": "lt", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"
    assert client.get("/accounts/language/").status_code == 405


def _subject(language: str, msgid: str, **values: Any) -> str:
    with translation.override(language):
        return gettext(msgid) % values


def test_an_invitation_to_a_new_address_is_in_the_organisations_language(
    client_as: Any, organisation: Organisation, on_commit: Any
) -> None:
    client = client_as(Role.ADMIN)
    response = client.post("/organisations/language/", {"language": "et"})
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.language == "et"
    entry = AuditLogEntry.objects.get(action="organisation.language_changed")
    assert entry.details == {"from": "en", "to": "et"}

    with on_commit(execute=True):
        client.post(
            "/members/invite/",
            {"email": "uus@example.com", "role": Role.VIEWER},
            HTTP_ACCEPT_LANGUAGE="lv",  # the inviter's browser: never the invitation's
        )
    [email] = mail.outbox
    expected = _subject("et", "You are invited to %(name)s on MomentMap", name=organisation.name)
    assert expected != f"You are invited to {organisation.name} on MomentMap"
    assert email.subject == expected
    with translation.override("et"):
        link_text = ngettext(
            "The link works for %(days)s day.",
            "The link works for %(days)s days.",
            settings.MEMBER_INVITATION_DAYS,
        ) % {"days": settings.MEMBER_INVITATION_DAYS}
        role = str(Role.VIEWER.label)
    assert link_text in email.body
    assert role in email.body


def test_an_invitation_to_someone_with_an_account_is_in_their_language(
    organisation: Organisation, member_factory: Any, on_commit: Any
) -> None:
    owner = member_factory(organisation, Role.OWNER)
    UserFactory(email="ieva@example.com", language="lv")
    with translation.override("cs"), on_commit(execute=True):
        services.member_invite(
            organisation=organisation,
            email="Ieva@Example.com",
            role=Role.EDITOR,
            actor=services.Actor(user=owner),
            actor_role=Role.OWNER,
        )
    [email] = mail.outbox
    assert email.subject == _subject(
        "lv", "You are invited to %(name)s on MomentMap", name=organisation.name
    )


def test_only_admins_set_the_organisations_language(
    client_as: Any, organisation: Organisation
) -> None:
    response = client_as(Role.EDITOR).post("/organisations/language/", {"language": "cs"})
    assert response.status_code == 403
    organisation.refresh_from_db()
    assert organisation.language == "en"


@pytest.mark.parametrize("language", ["lt", "cs"])
def test_sign_up_mails_in_the_pages_language_and_sets_the_organisations(
    client: Any, on_commit: Any, language: str
) -> None:
    with on_commit(execute=True):
        response = client.post(
            "/accounts/signup/",
            {
                "name": "Rasa",
                "email": "rasa@example.com",
                "password": "kelione-per-tiesos-akimirkas",
                "organisation_name": "Gintaras",
            },
            HTTP_ACCEPT_LANGUAGE=language,
        )
    assert response.status_code == 302
    assert Organisation.objects.get().language == language
    [email] = mail.outbox
    assert email.subject == _subject(language, "Confirm your email address for MomentMap")


def test_a_password_reset_follows_the_persons_setting_over_the_page(
    client: Any, on_commit: Any
) -> None:
    UserFactory(email="jan@example.com", language="cs")
    with on_commit(execute=True):
        client.post(
            "/accounts/password-reset/", {"email": "jan@example.com"}, HTTP_ACCEPT_LANGUAGE="ro"
        )
    [email] = mail.outbox
    assert email.subject == _subject("cs", "Reset your MomentMap password")


def _translated(language: str, msgid: str) -> str:
    with translation.override(language):
        text = gettext(msgid)
    assert text != msgid, f"{language}: {msgid!r} is not translated"
    return text


@pytest.mark.parametrize("language", ["lt", "lv", "et", "cs", "ro"])
def test_every_account_email_in_each_language(
    language: str, organisation: Organisation, member_factory: Any, on_commit: Any
) -> None:
    """Verification, password reset and invitation, each in the recipient's language: its
    subject and every line of its text and HTML parts from the catalogue, none in English."""
    owner = member_factory(organisation, Role.OWNER)
    person = UserFactory(email="person@example.com", language=language, email_verified_at=None)
    with translation.override("en"), on_commit(execute=True):
        services.verification_email_send(user=person, language="en")
        services.member_invite(
            organisation=organisation,
            email="person@example.com",
            role=Role.VIEWER,
            actor=services.Actor(user=owner),
            actor_role=Role.OWNER,
        )
    person.email_verified_at = person.date_joined
    person.save()
    with translation.override("en"), on_commit(execute=True):
        Client().post("/accounts/password-reset/", {"email": "person@example.com"})
    verify, invitation, reset = mail.outbox

    assert verify.subject == _translated(language, "Confirm your email address for MomentMap")
    line = _translated(language, "Confirm your email address to start using MomentMap:")
    assert line in verify.body
    assert line in verify.alternatives[0].content
    assert "Confirm your email" not in verify.body

    assert invitation.subject == _translated(
        language, "You are invited to %(name)s on MomentMap"
    ) % {"name": organisation.name}
    assert _translated(language, "Accept the invitation:") in invitation.body
    with translation.override(language):
        role = str(Role.VIEWER.label)
    assert role != "Viewer"
    assert role in invitation.body

    assert reset.subject == _translated(language, "Reset your MomentMap password")
    line = _translated(
        language,
        "Someone asked to reset the password of your MomentMap account. Choose a new one here:",
    )
    assert line in reset.body
    assert "Someone asked" not in reset.body
