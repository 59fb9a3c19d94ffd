from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_login_is_throttled_after_repeated_failures(client: Any, settings: Any) -> None:
    settings.LOGIN_ATTEMPTS_LIMIT = 3
    user = UserFactory(email="ona@example.com")
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": user.email, "password": "wrong"})
        assert response.status_code == 200

    blocked = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})

    assert blocked.status_code == 429
    assert "Too many log-in attempts." in blocked.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_then_logout(client: Any) -> None:
    user = UserFactory(email="jonas@example.com")
    response = client.post(
        "/accounts/login/", {"username": "jonas@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email(client: Any, on_commit: Any) -> None:
    UserFactory(email="ieva@example.com")
    with on_commit(execute=True):
        response = client.post("/accounts/password-reset/", {"email": "ieva@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Reset your MomentMap password"

    path = re.search(r"/accounts/reset/\S+/\S+/", mail.outbox[0].body).group(0)
    form = client.get(path, follow=True)
    assert "Choose a new password" in form.content.decode()
    new_password = "a-brand-new-passphrase-42"
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    client.logout()
    login = client.post(
        "/accounts/login/", {"username": "ieva@example.com", "password": new_password}
    )
    assert login.status_code == 302


def test_password_reset_is_throttled(client: Any, settings: Any, on_commit: Any) -> None:
    settings.PASSWORD_RESET_LIMIT = 2
    UserFactory(email="ieva@example.com")
    with on_commit(execute=True):
        for _ in range(2):
            client.post("/accounts/password-reset/", {"email": "ieva@example.com"})
        blocked = client.post("/accounts/password-reset/", {"email": "ieva@example.com"})
    assert blocked.status_code == 429
    assert "Too many reset requests." in blocked.content.decode()
    assert len(mail.outbox) == 2


def test_password_reset_for_unknown_address_looks_the_same(client: Any) -> None:
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response.url == "/accounts/password-reset/sent/"
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.7", "203.0.113.1"),  # no proxy trusted: the header is ignored
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "10.9.9.9, 198.51.100.7", "198.51.100.7"),  # the left part can be forged
        (2, "198.51.100.7, 192.0.2.10", "198.51.100.7"),
        (1, "", "203.0.113.1"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(
    rf: Any, settings: Any, proxies: int, forwarded: str, expected: str
) -> None:
    from accounts.permissions import client_ip

    settings.NUM_PROXIES = proxies
    request = rf.get("/", REMOTE_ADDR="203.0.113.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_only_failed_log_ins_count_towards_the_limit(client: Any, settings: Any) -> None:
    settings.LOGIN_ATTEMPTS_LIMIT = 3
    user = UserFactory(email="rasa@example.com")
    for _ in range(2):
        client.post("/accounts/login/", {"username": user.email, "password": "wrong"})
    for _ in range(3):  # successes in between give their count back
        ok = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
        assert ok.status_code == 302
        client.logout()

    last_try = client.post("/accounts/login/", {"username": user.email, "password": "wrong"})
    assert last_try.status_code == 200
    blocked = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert blocked.status_code == 429


def test_parallel_guesses_cannot_all_slip_under_the_log_in_limit(settings: Any) -> None:
    """The check and the count are one step: of 8 guesses sent at once (with the limit at
    3), exactly 3 reach the password check, however the requests interleave."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django.test import Client

    settings.LOGIN_ATTEMPTS_LIMIT = 3

    def guess(n: int) -> int:
        try:
            response = Client().post(
                "/accounts/login/", {"username": "tomas@example.com", "password": f"guess{n}"}
            )
            return response.status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(guess, range(8)))

    assert sorted(statuses) == [200] * 3 + [429] * 5
