from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import Membership, Organisation, Role, User

pytestmark = pytest.mark.django_db

SIGNUP = {
    "name": "Rasa Jonaitė",
    "email": "Rasa@Example.com",
    "password": "kelione-per-tiesos-akimirkas",
    "organisation_name": "Gintaro Parduotuvė",
}


def test_sign_up_creates_unverified_owner_and_emails_a_link(client: Any, on_commit: Any) -> None:
    with on_commit(execute=True):
        response = client.post("/accounts/signup/", SIGNUP)

    assert response.status_code == 302
    assert response.url == "/accounts/signup/done/"
    user = User.objects.get()
    assert user.email == "rasa@example.com"
    assert user.email_verified_at is None
    organisation = Organisation.objects.get()
    assert organisation.name == "Gintaro Parduotuvė"
    assert Membership.objects.get().role == Role.OWNER
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rasa@example.com"]
    assert mail.outbox[0].subject == "Confirm your email address for MomentMap"
    assert "/accounts/verify/" in mail.outbox[0].body
    assert mail.outbox[0].alternatives[0][1] == "text/html"


def test_unverified_user_cannot_log_in_until_the_link_is_opened(
    client: Any, on_commit: Any
) -> None:
    with on_commit(execute=True):
        client.post("/accounts/signup/", SIGNUP)
    login = {"username": "rasa@example.com", "password": SIGNUP["password"]}

    refused = client.post("/accounts/login/", login)
    assert refused.status_code == 200
    assert "Please confirm your email address first" in refused.content.decode()

    path = re.search(r"/accounts/verify/\S+/", mail.outbox[0].body).group(0)
    verified = client.get(path)
    assert verified.status_code == 302
    assert verified.url == "/"
    assert User.objects.get().email_verified_at is not None
    client.post("/accounts/logout/")
    assert client.post("/accounts/login/", login).status_code == 302


def test_sign_up_with_a_taken_email_is_refused_without_creating_anything(client: Any) -> None:
    services.user_sign_up(**SIGNUP, language="en")
    response = client.post("/accounts/signup/", {**SIGNUP, "email": "RASA@example.com"})

    assert response.status_code == 200
    assert "An account with this email already exists." in response.content.decode()
    assert User.objects.count() == 1
    assert Organisation.objects.count() == 1


def test_weak_password_is_refused_with_the_validator_message(client: Any) -> None:
    response = client.post("/accounts/signup/", {**SIGNUP, "password": "12345678"})
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    assert User.objects.count() == 0


def test_verification_link_for_a_changed_address_or_forged_token_fails() -> None:
    user = services.user_sign_up(**SIGNUP, language="en")
    token = services.verification_token_make(user=user)
    user.email = "other@example.com"
    user.save()
    with pytest.raises(ValidationError, match="not valid"):
        services.user_verify_email(token=token)
    with pytest.raises(ValidationError, match="not valid"):
        services.user_verify_email(token="forged:token")


def test_expired_verification_link_says_so(settings: Any, client: Any) -> None:
    user = services.user_sign_up(**SIGNUP, language="en")
    token = signing.dumps(
        {"user": user.pk, "email": user.email}, salt=services.EMAIL_VERIFICATION_SALT
    )
    settings.EMAIL_VERIFICATION_MAX_AGE = -1
    response = client.get(f"/accounts/verify/{token}/")
    assert response.status_code == 400
    assert "This link has expired." in response.content.decode()


def test_resend_verification_answers_the_same_for_unknown_addresses(
    client: Any, on_commit: Any
) -> None:
    services.user_sign_up(**SIGNUP, language="en")
    with on_commit(execute=True):
        known = client.post("/accounts/verify-resend/", {"email": "rasa@example.com"})
        unknown = client.post("/accounts/verify-resend/", {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == "/accounts/signup/done/"
    assert [m.to for m in mail.outbox] == [["rasa@example.com"]]


def test_a_failed_sign_up_sends_no_email(monkeypatch: Any, on_commit: Any) -> None:
    def boom(**kwargs: Any) -> None:
        raise RuntimeError("database fell over")

    monkeypatch.setattr(services, "verification_email_send", boom)
    with on_commit(execute=True), pytest.raises(RuntimeError):
        services.user_sign_up(**SIGNUP, language="en")
    assert User.objects.count() == 0
    assert mail.outbox == []
