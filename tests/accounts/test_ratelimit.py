"""The fixed-window counters: hit_unless_limited as the public survey pages use it (with
Redis when REDIS_URL is set, as in production; local memory otherwise)."""

from __future__ import annotations

from accounts import ratelimit


def test_counts_every_counter_until_one_is_at_its_limit_then_counts_nothing() -> None:
    checks = [("address", "10.0.0.1", 3), ("token", "abc", 2)]

    results = [ratelimit.hit_unless_limited(checks=checks, window=60) for _ in range(4)]

    assert results == [False, False, True, True]
    assert ratelimit.attempts(scope="address", ident="10.0.0.1") == 2  # not 4
    assert ratelimit.attempts(scope="token", ident="abc") == 2
    # Another token from the same address is still allowed, and counted at both.
    assert not ratelimit.hit_unless_limited(
        checks=[("address", "10.0.0.1", 3), ("token", "xyz", 2)], window=60
    )
    assert ratelimit.attempts(scope="address", ident="10.0.0.1") == 3
    assert ratelimit.hit_unless_limited(checks=[("address", "10.0.0.1", 3)], window=60)


def test_an_empty_ident_is_not_counted() -> None:
    assert not ratelimit.hit_unless_limited(checks=[("address", "", 1)], window=60)
    assert not ratelimit.hit_unless_limited(checks=[("address", "", 1)], window=60)
    assert ratelimit.attempts(scope="address", ident="") == 0


def test_uncount_gives_back_one_attempt_on_each_counter_of_the_checks() -> None:
    checks = [("login", "10.0.0.1|ona@example.com", 3), ("login-address", "10.0.0.1", 5)]
    for _ in range(2):
        ratelimit.hit_unless_limited(checks=checks, window=60)

    ratelimit.uncount(checks=checks)

    assert ratelimit.attempts(scope="login", ident="10.0.0.1|ona@example.com") == 1
    assert ratelimit.attempts(scope="login-address", ident="10.0.0.1") == 1
    # A counter that expired meanwhile (or never existed) has nothing to give back.
    ratelimit.uncount(checks=[("login", "10.0.0.2|ona@example.com", 3)])
    assert ratelimit.attempts(scope="login", ident="10.0.0.2|ona@example.com") == 0
