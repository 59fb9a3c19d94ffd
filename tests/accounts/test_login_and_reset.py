from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

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


ATTACKER = "198.51.100.66"
VICTIM = "203.0.113.5"


def _log_in(address: str, email: str, password: str) -> int:
    """The status of one log-in attempt from that address (a fresh client each time)."""
    response = Client(REMOTE_ADDR=address).post(
        "/accounts/login/", {"username": email, "password": password}
    )
    return response.status_code


def test_failures_from_one_address_block_that_address_not_the_person() -> None:
    """With the default limit (10): an attacker's failures on someone's email block the
    attacker's address for that email; the person logs in from their own address."""
    UserFactory(email="ona@example.com")
    UserFactory(email="jonas@example.com")

    attack = [_log_in(ATTACKER, "ona@example.com", f"guess{n}") for n in range(11)]

    assert attack == [200] * 10 + [429]
    assert _log_in(ATTACKER, "ona@example.com", PASSWORD) == 429  # the right one too
    assert _log_in(VICTIM, "ona@example.com", PASSWORD) == 302
    # The attacker's address is not blocked for other emails (it failed on one only).
    assert _log_in(ATTACKER, "jonas@example.com", PASSWORD) == 302


def test_one_address_failing_across_many_emails_is_blocked(settings: Any) -> None:
    settings.LOGIN_ATTEMPTS_LIMIT = 3
    settings.LOGIN_ATTEMPTS_PER_ADDRESS_LIMIT = 5
    UserFactory(email="ona@example.com")

    spray = [_log_in(ATTACKER, f"user{n}@example.com", "Summer2026!") for n in range(6)]

    assert spray == [200] * 5 + [429]  # one failure per email, five in all from the address
    assert _log_in(ATTACKER, "ona@example.com", PASSWORD) == 429
    assert _log_in(VICTIM, "ona@example.com", PASSWORD) == 302


def test_a_correct_password_from_an_address_that_has_not_failed_is_never_refused(
    settings: Any,
) -> None:
    """Many addresses each failing on one email up to every limit (far more failures on that
    email than any limit) leave the person's own address free."""
    settings.LOGIN_ATTEMPTS_LIMIT = 3
    settings.LOGIN_ATTEMPTS_PER_ADDRESS_LIMIT = 3
    UserFactory(email="ona@example.com")
    attackers = [f"198.51.100.{n}" for n in range(1, 6)]

    statuses = [_log_in(a, "ona@example.com", "wrong") for a in attackers for _ in range(4)]

    assert statuses == ([200] * 3 + [429]) * 5
    assert _log_in(VICTIM, "ona@example.com", PASSWORD) == 302


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
