"""A member's wish to get a store's weekly digest by email (dashboards/digests.py sends it)."""

from __future__ import annotations

from django.db import models

from accounts.models import Membership, Store


class DigestSubscription(models.Model):
    """One member, one store of their organisation. Tied to the membership, so that a member
    who leaves the organisation (or is removed) loses the subscription with it."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="digest_subscriptions"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="digest_subscriptions")
    created_at = models.DateTimeField(auto_now_add=True)
    # The Monday of the last ISO week (days in the store's time zone) whose digest was sent
    # (on subscribing, the last week that had ended): set before the email goes out, by a
    # conditional update, so that two runs never send the same week twice.
    last_sent_week = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            # A membership is one user in one organisation, and a store is in one: this is one
            # subscription per user and store.
            models.UniqueConstraint(fields=["membership", "store"], name="one_digest_per_store")
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} → store {self.store_id} ({self.last_sent_week})"
