"""Ask the ones who left: of the customers who dropped off before a stage, read on the server
from the same stored list as the figure (never ids posted by a page), who a survey would ask
through the surveys' own sending (the fatigue cap, unsubscribes and suppression apply as
always), and why not the others."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from accounts.models import Store
from events.models import Customer
from metrics import selectors as metrics_selectors
from metrics.models import FunnelResult
from surveys import selectors as survey_selectors
from surveys.models import Contact, Survey

CHUNK = 5000


@dataclass
class AskOutlook:
    """Of the customers who dropped off: who would be asked, and why the others would not."""

    dropped: int = 0
    not_contacts: int = 0  # no email contact is known for the customer
    unsubscribed: int = 0
    suppressed: int = 0  # bounced or complained
    already_invited: int = 0  # to this survey, before
    over_cap: int = 0  # invited to a survey of the store within its fatigue days
    contact_ids: list[int] = field(default_factory=list)  # the ones to ask

    @property
    def to_ask(self) -> int:
        return len(self.contact_ids)

    def as_dict(self) -> dict[str, int]:
        return {
            "dropped": self.dropped,
            "to_ask": self.to_ask,
            "not_contacts": self.not_contacts,
            "unsubscribed": self.unsubscribed,
            "suppressed": self.suppressed,
            "already_invited": self.already_invited,
            "over_cap": self.over_cap,
        }


def surveys_to_ask(store: Store) -> list[Survey]:
    return list(Survey.objects.filter(store=store, status=Survey.Status.ACTIVE).order_by("name"))


def _contacts_of(store: Store, customer_ids: list[int]) -> dict[int, Contact]:
    """Per customer, its contact: the one linked to it, else the store's contact with its
    key. A few queries per CHUNK customers."""
    found: dict[int, Contact] = {}
    for offset in range(0, len(customer_ids), CHUNK):
        chunk = customer_ids[offset : offset + CHUNK]
        rows = list(Customer.objects.filter(pk__in=chunk).values_list("pk", "key", "contact_id"))
        by_fk = {contact_id: pk for pk, _key, contact_id in rows if contact_id}
        by_key = {key: pk for pk, key, contact_id in rows if not contact_id}
        contacts = Contact.objects.filter(store=store).filter(
            Q(pk__in=list(by_fk)) | Q(customer_key__in=list(by_key))
        )
        for contact in contacts:
            customer = by_fk.get(contact.pk) or by_key.get(contact.customer_key)
            if customer is not None and customer not in found:
                found[customer] = contact
    return found


def dropped_outlook(
    *,
    store: Store,
    result: FunnelResult,
    stage_id: int,
    survey: Survey,
    now: datetime | None = None,
) -> AskOutlook:
    """Raises metrics_selectors.BadListQuery for the first stage or an untracked one."""
    customer_ids = metrics_selectors.funnel_customer_ids(
        result=result, stage_id=stage_id, outcome=metrics_selectors.Outcome.DROPPED
    )
    outlook = AskOutlook(dropped=len(customer_ids))
    contacts = _contacts_of(store, customer_ids)
    outlook.not_contacts = len(customer_ids) - len(contacts)
    emailable: list[int] = []
    for contact in {c.pk: c for c in contacts.values()}.values():
        if contact.suppressed_at is not None:
            outlook.suppressed += 1
        elif contact.unsubscribed_at is not None:
            outlook.unsubscribed += 1
        else:
            emailable.append(contact.pk)
    # Two customers sharing one contact are asked once: the second counts as invited already.
    outlook.already_invited += len(contacts) - len({c.pk for c in contacts.values()})
    sending = survey_selectors.survey_send_outlook(
        survey=survey, contact_ids=emailable, now=now or timezone.now()
    )
    outlook.already_invited += len(sending.already_invited)
    outlook.over_cap = len(sending.over_cap - sending.already_invited)
    outlook.contact_ids = sorted(
        pk for pk in emailable if pk not in sending.already_invited and pk not in sending.over_cap
    )
    return outlook
