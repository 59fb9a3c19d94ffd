"""CSV import of a store's history (events/imports.py, events/import_run.py): both shapes, the
reading (encodings, delimiters, headers, timestamps), what is skipped and why, idempotency,
the UCI online retail file exactly, and the pages and API around it."""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import SYSTEM, Actor
from core import services as task_services
from core.models import Task
from events import import_run, imports
from events.csv_reading import FatalImportError
from events.ingest import email_customer_key, key_hash
from events.models import Customer, Event, EventImport, EventImportChunk, EventKey, EventSource
from events.services import events_batch_ingest
from surveys import services as survey_services
from surveys.models import Contact, Invitation
from tests.factories import ApiKeyFactory, OrganisationFactory, StoreFactory

pytestmark = pytest.mark.django_db

UCI = Path("/work/shared/data/online_retail/online_retail.csv.gz")
VILNIUS = ZoneInfo("Europe/Vilnius")


# --- Helpers


def upload(store: Any, content: bytes | str, *, shape: str, name: str = "export.csv") -> Any:
    data = content.encode() if isinstance(content, str) else content
    return imports.event_import_upload(
        store=store, actor=SYSTEM, file=io.BytesIO(data), file_name=name, shape=shape
    )


def start(
    event_import: Any,
    on_commit: Any,
    *,
    mapping: dict[str, str] | None = None,
    time_zone: str = "",
    day_first: bool | None = None,
    cancelled_prefix: str | None = None,
) -> Task:
    """Start the import with what was detected, except what is given, and run it (the task is
    queued on commit and runs eagerly)."""
    columns = (
        imports.mapping_of(event_import)
        if mapping is None
        else {event_import.header.index(name): target for name, target in mapping.items()}
    )
    with on_commit(execute=True):
        task = imports.event_import_start(
            event_import=event_import,
            actor=SYSTEM,
            mapping=columns,
            time_zone=time_zone or event_import.time_zone,
            day_first=event_import.day_first if day_first is None else day_first,
            cancelled_prefix=(
                event_import.cancelled_prefix if cancelled_prefix is None else cancelled_prefix
            ),
        )
    task.refresh_from_db()
    return task


def run(store: Any, content: bytes | str, on_commit: Any, *, shape: str, **choices: Any) -> Task:
    return start(upload(store, content, shape=shape), on_commit, **choices)


def stored(store: Any) -> list[tuple[str, str, datetime]]:
    """(name, customer key, occurred_at in UTC) of the store's events, in time order."""
    return [
        (e.event_name.name, e.customer.key, e.occurred_at.astimezone(UTC))
        for e in Event.objects.filter(store=store)
        .select_related("event_name", "customer")
        .order_by("occurred_at", "event_name__name")
    ]


def utc(*parts: int, zone: Any = VILNIUS) -> datetime:
    return datetime(*parts, tzinfo=zone).astimezone(UTC)


def problems(task: Task) -> list[tuple[int, str, str]]:
    assert task.result is not None
    return [(p["row"], p["column"], p["code"]) for p in task.result["problems"]]


# --- Events files


EVENTS_FILE = """\
id,event,customer,time,properties,session
e-1,product_view,C-1,2026-03-01 10:00,"{""sku"": ""A-1""}",s-1
e-2,purchase,C-1,2026-03-01T10:05:00+00:00,,s-1
,add_to_cart,C-2,01.03.2026 11:00,,
"""


def test_an_events_file_stores_one_event_per_row(store: Any, on_commit: Any, now: datetime) -> None:
    event_import = upload(store, EVENTS_FILE, shape="events")
    assert imports.mapping_of(event_import) == {
        0: "id",
        1: "name",
        2: "customer_key",
        3: "occurred_at",
        4: "properties",
        5: "session_id",
    }
    assert (event_import.encoding, event_import.delimiter) == ("utf-8", ",")
    assert event_import.time_zone == "Europe/Vilnius"  # the store's, preset

    task = start(event_import, on_commit)

    assert task.state == "done", task.error
    assert stored(store) == [
        ("product_view", "C-1", utc(2026, 3, 1, 10, 0)),  # naive: the store's zone (08:00 UTC)
        ("add_to_cart", "C-2", utc(2026, 3, 1, 11, 0)),
        ("purchase", "C-1", datetime(2026, 3, 1, 10, 5, tzinfo=UTC)),  # its own offset
    ]
    events = {e.client_id: e for e in Event.objects.filter(store=store)}
    assert events["e-1"].properties == {"sku": "A-1"}
    assert events["e-1"].session_id == "s-1"
    assert {e.source for e in events.values()} == {EventSource.CSV}
    derived = next(key for key in events if key not in {"e-1", "e-2"})
    assert derived.startswith("csv:") and len(derived) == 44  # from the row's content
    result = task.result
    assert result is not None
    assert {k: result[k] for k in ("rows", "events_found", "events_stored", "duplicates")} == {
        "rows": 3,
        "events_found": 3,
        "events_stored": 3,
        "duplicates": 0,
    }
    assert result["rows_skipped"] == 0 and result["problems"] == []
    assert Customer.objects.get(store=store, key="C-1").first_purchase_at == datetime(
        2026, 3, 1, 10, 5, tzinfo=UTC
    )


def test_skipped_rows_are_reported_by_their_line_in_the_file(
    store: Any, on_commit: Any, now: datetime
) -> None:
    content = (
        "event,customer,time,properties\n"  # line 1
        "purchase,C-1,2026-03-01 10:00,\n"  # 2: imported
        "purchase,,2026-03-01 10:00,\n"  # 3: no customer
        "bad name!,C-1,2026-03-01 10:00,\n"  # 4
        'purchase,C-1,"not a\ndate",\n'  # 5-6: a quoted cell over two lines
        "purchase,C-1,2023-12-31 23:00,\n"  # 7: before the 25-month horizon (2024-02-01)
        "\n"  # 8: blank, not a row
        "purchase,C-1,2026-03-17 12:00,\n"  # 9: over a day ahead of now (2026-03-15 12:00)
        "purchase,C-1,2026-03-02 10:00,[1]\n"  # 10: properties not an object
        "purchase,C-1,2026-03-02 10:00,\n"  # 11: imported
        "purchase,C-1,31.02.2026 10:00,\n"  # 12: no 31 February
    )

    task = run(store, content, on_commit, shape="events")

    assert task.state == "done"
    assert problems(task) == [
        (3, "customer", "missing_customer"),
        (4, "event", "invalid_name"),
        (5, "time", "invalid_time"),
        (7, "time", "outside_retention"),
        (9, "time", "in_future"),
        (10, "properties", "invalid_properties"),
        (12, "time", "invalid_time"),
    ]
    result = task.result
    assert result is not None
    assert (result["rows"], result["rows_skipped"], result["events_stored"]) == (9, 7, 2)
    assert result["problems_by_code"] == {
        "missing_customer": 1,
        "invalid_name": 1,
        "invalid_time": 2,
        "outside_retention": 1,
        "in_future": 1,
        "invalid_properties": 1,
    }
    messages = {p["row"]: p["message"] for p in result["problems"]}
    assert "never guessed" in messages[3]
    assert "before 2024-02-01" in messages[7]
    assert "not a real date" in messages[12]
    assert len(stored(store)) == 2


def test_importing_the_same_events_file_again_stores_nothing_twice(
    store: Any, on_commit: Any, now: datetime
) -> None:
    content = EVENTS_FILE + "e-2,purchase,C-1,2026-03-01T10:05:00+00:00,,s-1\n"  # id repeated
    first = run(store, content, on_commit, shape="events")
    assert first.result is not None
    assert (first.result["events_stored"], first.result["duplicates"]) == (3, 1)

    again = run(store, content, on_commit, shape="events")

    assert again.result is not None
    assert (again.result["events_stored"], again.result["duplicates"]) == (0, 4)
    assert Event.objects.filter(store=store).count() == 3
    assert EventKey.objects.filter(store=store).count() == 3


# --- Orders files


ORDERS_FILE = """\
Order ID,Customer ID,Product,Order date,Shipped at,Delivered at
1001,17850.0,Mug,2026-03-01 10:00,2026-03-02 09:00,2026-03-04 15:30
1002,13047.0,Lamp,2026-03-01 12:00,,
1001,17850.0,Plate,2026-03-01 09:55,2026-03-02 11:00,
1003,13047.0,Cup,,,
1002,13047.0,Bulb,2026-03-01 12:01,2026-03-03 08:00,
"""


def test_an_orders_file_gives_one_event_per_order_and_date_column_at_the_earliest_time(
    store: Any, on_commit: Any, now: datetime
) -> None:
    event_import = upload(store, ORDERS_FILE, shape="orders")
    assert imports.mapping_of(event_import) == {
        0: "order_id",
        1: "customer_key",
        3: "purchase",
        4: "shipped",
        5: "delivered",
    }

    task = start(event_import, on_commit)

    assert task.state == "done", task.error
    assert stored(store) == [
        ("purchase", "17850", utc(2026, 3, 1, 9, 55)),  # the earlier of order 1001's rows
        ("purchase", "13047", utc(2026, 3, 1, 12, 0)),  # 1002's rows are not adjacent
        ("shipped", "17850", utc(2026, 3, 2, 9, 0)),
        ("shipped", "13047", utc(2026, 3, 3, 8, 0)),  # only its second row has one
        ("delivered", "17850", utc(2026, 3, 4, 15, 30)),
    ]
    assert set(Event.objects.filter(store=store).values_list("client_id", flat=True)) == {
        "order:1001:purchase",
        "order:1001:shipped",
        "order:1001:delivered",
        "order:1002:purchase",
        "order:1002:shipped",
    }
    assert Event.objects.filter(store=store, client_id="order:1001:purchase").get().properties == {
        "order_id": "1001"
    }
    result = task.result
    assert result is not None
    assert {
        k: result[k]
        for k in ("rows", "rows_skipped", "rows_without_events", "events_found", "events_stored")
    } == {
        "rows": 5,
        "rows_skipped": 0,
        "rows_without_events": 1,  # order 1003 has no date yet
        "events_found": 5,
        "events_stored": 5,
    }
    assert sorted(Customer.objects.filter(store=store).values_list("key", flat=True)) == [
        "13047",
        "17850",
    ]


def test_a_later_export_of_the_same_orders_adds_only_the_new_dates(
    store: Any, on_commit: Any, now: datetime
) -> None:
    run(store, ORDERS_FILE, on_commit, shape="orders")
    later = ORDERS_FILE.replace(
        "1002,13047.0,Lamp,2026-03-01 12:00,,",
        "1002,13047.0,Lamp,2026-03-01 12:00,,2026-03-05 10:00",
    )

    task = run(store, later, on_commit, shape="orders")

    assert task.result is not None
    assert (task.result["events_stored"], task.result["duplicates"]) == (1, 5)
    assert stored(store)[-1] == ("delivered", "13047", utc(2026, 3, 5, 10, 0))


def test_cancelled_orders_and_rows_without_a_customer(
    store: Any, on_commit: Any, now: datetime
) -> None:
    content = (
        "InvoiceNo,CustomerID,InvoiceDate\n"
        "5001,100.0,2026-03-01 10:00\n"
        "C5002,100.0,2026-03-02 10:00\n"
        "5003,,2026-03-02 11:00\n"
        "5004,200,2026-03-02 12:00\n"
        "5004,300,2026-03-02 12:00\n"  # another customer for the same order
    )
    event_import = upload(store, content, shape="orders")
    assert event_import.cancelled_prefix == "C"  # guessed from the numbers

    task = start(event_import, on_commit)

    assert stored(store) == [
        ("purchase", "100", utc(2026, 3, 1, 10, 0)),
        ("order_cancelled", "100", utc(2026, 3, 2, 10, 0)),
    ]
    assert problems(task) == [
        (4, "CustomerID", "missing_customer"),
        (5, "", "customer_conflict"),
    ]
    assert task.result is not None
    assert (task.result["rows_skipped"], task.result["orders_skipped"]) == (1, 1)


def test_a_semicolon_separated_cp1257_file_with_lithuanian_headers(
    store: Any, on_commit: Any, now: datetime
) -> None:
    content = (
        "Užsakymo nr;Kliento ID;Prekė;Užsakymo data;Pristatymo data\n"
        "A-1;Žydrūnė Šležė;Šaukštas;01.03.2026 14:05;03.03.2026 09:00\n"
        "A-2;Ąžuolas Čepas;Peilis;02.03.2026 08:00;\n"
    ).encode("cp1257")
    event_import = upload(store, content, shape="orders", name="užsakymai.csv")
    assert (event_import.encoding, event_import.delimiter) == ("cp1257", ";")
    assert imports.mapping_of(event_import) == {
        0: "order_id",
        1: "customer_key",
        3: "purchase",
        4: "delivered",
    }

    start(event_import, on_commit)

    assert stored(store) == [
        ("purchase", "Žydrūnė Šležė", utc(2026, 3, 1, 14, 5)),
        ("purchase", "Ąžuolas Čepas", utc(2026, 3, 2, 8, 0)),
        ("delivered", "Žydrūnė Šležė", utc(2026, 3, 3, 9, 0)),
    ]


@pytest.mark.parametrize(
    ("content", "encoding", "delimiter"),
    [
        # Excel's "Unicode text": UTF-16 with a BOM, tab separated.
        (
            "event\tcustomer\ttime\r\npurchase\tŽydrūnė\t2026-03-01 10:00\r\n".encode("utf-16"),
            "utf-16",
            "\t",
        ),
        # Excel's "CSV UTF-8": with a BOM.
        (
            "event;customer;time\npurchase;Žydrūnė;2026-03-01 10:00\n".encode("utf-8-sig"),
            "utf-8-sig",
            ";",
        ),
        # UTF-8 for its first 64 KB, then a Windows-1257 byte: the whole file decides.
        (
            ("event,customer,time\n" + "page_view,C-1,2026-03-01 09:00\n" * 2300).encode()
            + "purchase,Žydrūnė,2026-03-01 10:00\n".encode("cp1257"),
            "cp1257",
            ",",
        ),
    ],
)
def test_encodings_are_decided_on_the_whole_file(
    store: Any, on_commit: Any, now: datetime, content: bytes, encoding: str, delimiter: str
) -> None:
    event_import = upload(store, content, shape="events")
    assert (event_import.encoding, event_import.delimiter) == (encoding, delimiter)

    task = start(event_import, on_commit)

    assert task.state == "done", task.error
    assert ("purchase", "Žydrūnė", utc(2026, 3, 1, 10, 0)) in stored(store)


def test_naive_times_are_read_in_the_zone_chosen_and_slashed_dates_in_the_order_chosen(
    store: Any, on_commit: Any, now: datetime
) -> None:
    content = "event,customer,time\npurchase,C-1,03/04/2026 2:05 PM\nrefund,C-1,03/04/2026 14:05Z\n"
    new_york = ZoneInfo("America/New_York")

    task = run(
        store, content, on_commit, shape="events", time_zone="America/New_York", day_first=False
    )

    assert task.result is not None and task.result["time_zone"] == "America/New_York"
    assert stored(store) == [
        ("refund", "C-1", datetime(2026, 3, 4, 14, 5, tzinfo=UTC)),  # Z: as written
        ("purchase", "C-1", utc(2026, 3, 4, 14, 5, zone=new_york)),  # 19:05 UTC
    ]


def test_the_date_order_is_guessed_from_a_day_over_twelve(store: Any) -> None:
    month_first = upload(
        store, "event,customer,time\nx,C,03/04/2026\nx,C,03/24/2026\n", shape="events"
    )
    day_first = upload(
        store, "event,customer,time\nx,C,03/04/2026\nx,C,24/03/2026\n", shape="events"
    )
    assert (month_first.day_first, day_first.day_first) == (False, True)


def test_an_email_as_the_customer_is_stored_only_as_a_keyed_hash(
    store: Any, on_commit: Any, now: datetime
) -> None:
    run(
        store,
        "event,email,time\npurchase,Ona@Example.com,2026-03-01 10:00\n",
        on_commit,
        shape="events",
    )
    assert stored(store)[0][1] == email_customer_key("ona@example.com")


# --- The buyers of an orders file as the store's contacts


BUYERS_FILE = """\
Order ID,Customer ID,Email,Billing Name,Customer locale,Created at
1001,17850,Ona@Example.com,Ona Onaitė,lt-LT,2026-03-01 10:00
1001,17850,ona@example.com,,,2026-03-01 10:00
1002,13047,jonas@example.com,Jonas Jonaitis,fr-FR,2026-03-01 11:00
1003,555,blocked@example.com,Blocked Buyer,en,2026-03-01 12:00
1004,,guest@example.com,Guest Buyer,cs-CZ,2026-03-01 13:00
1005,777,not-an-address,Bad Row,lt,2026-03-01 14:00
1006,,,Nobody,lt,2026-03-01 15:00
1007,Pat@Example.com,,,,2026-03-01 16:00
"""


def test_an_orders_files_buyers_become_the_stores_contacts(
    store: Any, on_commit: Any, now: datetime, client_as: Any
) -> None:
    # Known before: a name and language to keep or change, and a suppressed, unsubscribed one.
    Contact.objects.create(
        organisation=store.organisation,
        store=store,
        email="jonas@example.com",
        name="J.",
        language="lv",
    )
    Contact.objects.create(
        organisation=store.organisation,
        store=store,
        email="blocked@example.com",
        suppressed_at=now,
        suppression_reason="bounce",
        unsubscribed_at=now,
    )
    event_import = upload(store, BUYERS_FILE, shape="orders")
    assert imports.mapping_of(event_import) == {
        0: "order_id",
        1: "customer_key",
        2: "email",
        3: "customer_name",
        4: "language",
        5: "purchase",
    }

    task = start(event_import, on_commit)

    assert task.state == "done", task.error
    guest = email_customer_key("guest@example.com")
    pat = email_customer_key("pat@example.com")
    # Every order with a customer, or without one but with an email, is imported; the bad
    # email's order too.
    assert [(name, key) for name, key, _at in stored(store)] == [
        ("purchase", "17850"),
        ("purchase", "13047"),
        ("purchase", "555"),
        ("purchase", guest),
        ("purchase", "777"),
        ("purchase", pat),
    ]
    contacts = {
        c.email: (c.customer_key, c.name, c.language, c.suppressed_at, c.unsubscribed_at)
        for c in Contact.objects.filter(store=store)
    }
    assert contacts == {
        "ona@example.com": ("17850", "Ona Onaitė", "lt", None, None),  # lt-LT is lt
        # The name changes; fr is no survey language, so the stored language stays.
        "jonas@example.com": ("13047", "Jonas Jonaitis", "lv", None, None),
        "blocked@example.com": ("555", "Blocked Buyer", "en", now, now),  # still suppressed
        "guest@example.com": ("", "Guest Buyer", "cs", None, None),  # no customer id to keep
        "pat@example.com": ("", "", "", None, None),  # an email as the customer id
    }
    linked = dict(Customer.objects.filter(store=store).values_list("key", "contact__email"))
    assert linked == {
        "17850": "ona@example.com",
        "13047": "jonas@example.com",
        "555": "blocked@example.com",
        guest: "guest@example.com",
        "777": None,
        pat: "pat@example.com",
    }
    assert problems(task) == [(7, "Email", "invalid_email"), (8, "Customer ID", "missing_customer")]
    result = task.result
    assert result is not None
    assert {
        k: result[k]
        for k in (
            "rows_skipped",
            "events_stored",
            "contacts_found",
            "contacts_created",
            "contacts_updated",
        )
    } == {
        "rows_skipped": 1,
        "events_stored": 6,
        "contacts_found": 5,
        "contacts_created": 3,
        "contacts_updated": 2,
    }
    page = client_as(Role.EDITOR).get(f"/events/imports/{event_import.pk}/").content.decode()
    assert "5: 3 created, 2 updated" in page

    again = run(store, BUYERS_FILE, on_commit, shape="orders")

    assert again.result is not None
    assert (again.result["contacts_created"], again.result["contacts_updated"]) == (0, 0)
    assert Contact.objects.filter(store=store).count() == 5


def test_an_orders_file_with_emails_and_no_customer_ids_through_the_api(
    api_as: Any, store: Any, now: datetime, on_commit: Any
) -> None:
    content = (
        "Order,Mail,Given,Family,Lang,Date\n"
        "A-1,ieva@example.com,Ieva,Kalniņa,Latvian,2026-03-01 10:00\n"
        "A-2,ieva@example.com,,,,2026-03-02 10:00\n"
    )
    with on_commit(execute=True):
        response = api_as(Role.EDITOR).post(
            "/api/v1/events/imports/",
            {
                "store": store.pk,
                "shape": "orders",
                "file": SimpleUploadedFile("orders.csv", content.encode()),
                "mapping": '{"Order": "order_id", "Mail": "email", "Given": "first_name", '
                '"Family": "last_name", "Lang": "language", "Date": "purchase"}',
            },
            format="multipart",
        )
    assert response.status_code == 202, response.content
    assert response.json()["columns"]["Given"] == "first_name"

    key = email_customer_key("ieva@example.com")
    assert [(name, customer) for name, customer, _at in stored(store)] == [
        ("purchase", key),
        ("purchase", key),
    ]
    contact = Contact.objects.get(store=store)
    assert (contact.email, contact.name, contact.language) == (
        "ieva@example.com",
        "Ieva Kalniņa",
        "lv",
    )
    assert Customer.objects.get(store=store, key=key).contact == contact


def test_an_orders_file_needs_a_customer_or_an_email_column(store: Any, on_commit: Any) -> None:
    event_import = upload(store, BUYERS_FILE, shape="orders")
    with pytest.raises(ValidationError) as caught:
        start(event_import, on_commit, mapping={"Order ID": "order_id", "Created at": "purchase"})
    assert "customer_key column, or an email column" in caught.value.message_dict["mapping"][0]


# --- What cannot be imported


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04rest of a workbook", "spreadsheet workbook"),
        (b"event,customer,time\n", "no rows below its header"),
        (gzip.compress(b"event,customer,time\nx,C,2026-03-01\n")[:-12], ".gz file ends early"),
    ],
)
def test_a_file_that_cannot_be_imported_keeps_nothing(
    store: Any, content: bytes, message: str
) -> None:
    with pytest.raises(FatalImportError, match=message):
        upload(store, content, shape="events")
    assert not EventImport.objects.exists() and not EventImportChunk.objects.exists()


def test_a_mapping_without_what_the_shape_needs_is_refused(store: Any, on_commit: Any) -> None:
    event_import = upload(store, ORDERS_FILE, shape="orders")
    with pytest.raises(ValidationError) as caught:
        start(event_import, on_commit, mapping={"Order ID": "order_id", "Order date": "purchase"})
    assert "customer_key" in caught.value.message_dict["mapping"][0]
    with pytest.raises(ValidationError) as caught:
        start(event_import, on_commit, time_zone="Mars/Olympus")
    assert "time_zone" in caught.value.message_dict
    assert Task.objects.count() == 0


# --- History never emails anyone


def test_an_import_never_triggers_a_survey_where_the_same_event_by_api_would(
    store: Any, on_commit: Any, now: datetime
) -> None:
    survey = survey_services.survey_create_from_template(
        organisation=store.organisation, store=store, actor=SYSTEM, template="post-purchase-csat"
    )
    assert survey.trigger_event == "purchase"
    survey_services.contact_upsert(store=store, email="ona@example.com", customer_key="C-7")
    survey_services.survey_set_status(survey=survey, actor=SYSTEM, status="active")
    recent = (now - timedelta(hours=1)).isoformat()

    task = run(store, f"event,customer,time\npurchase,C-7,{recent}\n", on_commit, shape="events")

    assert task.result is not None and task.result["events_stored"] == 1
    assert not Invitation.objects.filter(survey=survey).exists()
    # The control: the same purchase from the store's server is a live one, and triggers.
    with on_commit(execute=True):
        events_batch_ingest(
            store=store,
            raw_items=[
                {"id": "api-1", "name": "purchase", "customer_key": "C-7", "occurred_at": recent}
            ],
        )
    assert Invitation.objects.filter(survey=survey).count() == 1


# --- Progress, and runs that end early


def test_the_task_reports_progress_while_it_runs(
    store: Any, on_commit: Any, now: datetime, monkeypatch: Any
) -> None:
    monkeypatch.setattr(import_run, "PROGRESS_ROWS", 2)
    monkeypatch.setattr(import_run, "WRITE_BATCH", 2)
    seen: list[tuple[str, str, int, int | None]] = []
    report = task_services.task_progress

    def spy(*, task: Task, **values: Any) -> None:
        report(task=task, **values)
        row = Task.objects.get(pk=task.pk)  # what a poll would read
        seen.append((row.state, row.phase, row.done, row.total))

    monkeypatch.setattr(task_services, "task_progress", spy)
    content = "event,customer,time\n" + "".join(
        f"purchase,C-{n},2026-03-01 10:0{n}\n" for n in range(5)
    )

    task = run(store, content, on_commit, shape="events")

    size = len(content.encode())
    assert seen == [
        ("running", "Reading the file", 0, size),
        ("running", "Reading the file", size, size),  # the file is one piece: read at once
        ("running", "Reading the file", size, size),
        ("running", "Reading the file", size, size),
        ("running", "Storing events", 0, 5),
        ("running", "Storing events", 2, 5),
        ("running", "Storing events", 4, 5),
        ("running", "Storing events", 5, 5),
    ]
    assert (task.state, task.phase, task.done, task.total) == ("done", "Storing events", 5, 5)


def test_a_file_unreadable_halfway_fails_the_task_and_stores_nothing(
    store: Any, on_commit: Any, now: datetime
) -> None:
    content = b"event,customer,time\npurchase,C-1,2026-03-01 10:00\n"
    event_import = upload(store, content, shape="events")
    # The stored file is damaged after the upload checked it (say, a broken quoted cell).
    EventImportChunk.objects.filter(event_import=event_import).update(
        data=content + b'purchase,"C-2,2026-03-01 10:00\n' + b"x" * 200_000
    )

    task = start(event_import, on_commit)

    assert task.state == "failed"
    assert "could not be read near line" in task.error
    assert not Event.objects.filter(store=store).exists()
    assert not EventImportChunk.objects.filter(event_import=event_import).exists()  # cleared
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'events_import_%%'")
        assert cursor.fetchone()[0] == 0


def test_a_task_delivered_twice_runs_once(store: Any, on_commit: Any, now: datetime) -> None:
    task = run(store, EVENTS_FILE, on_commit, shape="events")
    finished_at = task.finished_at
    import_run.event_import_run(task_id=task.pk)  # a redelivery
    task.refresh_from_db()
    assert task.finished_at == finished_at
    assert Event.objects.filter(store=store).count() == 3


def test_tidy_removes_stale_uploads_and_leftover_staging_and_requeues_lost_runs(
    store: Any, now: datetime, monkeypatch: Any
) -> None:
    stale = upload(store, EVENTS_FILE, shape="events")
    fresh = upload(store, EVENTS_FILE, shape="events")
    EventImport.objects.filter(pk=stale.pk).update(created_at=now - timedelta(days=2))
    lost = upload(store, EVENTS_FILE, shape="events")
    task = task_services.task_create(
        organisation_id=store.organisation_id, store_id=store.pk, kind=import_run.TASK_KIND
    )
    EventImport.objects.filter(pk=lost.pk).update(task=task)
    Task.objects.filter(pk=task.pk).update(updated_at=now - timedelta(minutes=11))
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE UNLOGGED TABLE events_import_{stale.pk + 1000} (n int)")
        cursor.execute(f"CREATE UNLOGGED TABLE events_import_{stale.pk + 1001}_contacts (n int)")

    assert import_run.imports_tidy() == [task.pk]

    assert not EventImport.objects.filter(pk=stale.pk).exists()
    assert EventImport.objects.filter(pk=fresh.pk).exists()
    assert EventImportChunk.objects.filter(event_import=lost).exists()  # still to be read
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'events_import_%%'")
        assert cursor.fetchone()[0] == 0


# --- The UCI online retail file, exactly


def _uci_expected() -> dict[str, Any]:
    """Counted from the file itself, with the csv module: one purchase per invoice with a
    customer, one order_cancelled per cancelled (C...) invoice with a customer, every line
    without a CustomerID skipped."""
    invoices: dict[str, tuple[str, str]] = {}  # invoice -> (customer, earliest time)
    skipped = 0
    rows = 0
    with gzip.open(UCI, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            rows += 1
            customer = row["CustomerID"].strip()
            if not customer:
                skipped += 1
                continue
            customer = customer.removesuffix(".0")
            known = invoices.get(row["InvoiceNo"])
            if known is None or row["InvoiceDate"] < known[1]:
                invoices[row["InvoiceNo"]] = (customer, row["InvoiceDate"])
    names = Counter(
        "order_cancelled" if invoice.startswith("C") else "purchase" for invoice in invoices
    )
    return {
        "rows": rows,
        "skipped": skipped,
        "names": dict(names),
        "customers": len({customer for customer, _time in invoices.values()}),
        "invoices": invoices,
    }


@pytest.mark.skipif(not UCI.exists(), reason="the UCI online retail file is not on this machine")
def test_the_uci_online_retail_file_imports_exactly(store: Any, on_commit: Any) -> None:
    store.event_retention_months = None  # the file is from 2010-2011
    store.save()
    expected = _uci_expected()
    with UCI.open("rb") as handle:
        event_import = imports.event_import_upload(
            store=store, actor=SYSTEM, file=handle, file_name=UCI.name, shape="orders"
        )
    assert (event_import.compressed, event_import.encoding) == (True, "utf-8")
    assert event_import.cancelled_prefix == "C"

    task = start(event_import, on_commit, time_zone="Europe/London")

    assert task.state == "done", task.error
    result = task.result
    assert result is not None
    names = Counter(Event.objects.filter(store=store).values_list("event_name__name", flat=True))
    assert dict(names) == expected["names"]
    assert expected["names"] == {"purchase": 18536, "order_cancelled": 3654}  # the data's own
    assert Customer.objects.filter(store=store).count() == expected["customers"]
    assert result["rows"] == expected["rows"]
    assert result["rows_skipped"] == expected["skipped"]
    assert result["problems_by_code"] == {"missing_customer": expected["skipped"]}
    assert result["events_stored"] == sum(expected["names"].values())
    assert (result["duplicates"], result["orders_skipped"]) == (0, 0)
    # No email column: no contact, and none linked.
    assert result["contacts_found"] == 0
    assert not Contact.objects.filter(store=store).exists()
    assert not Customer.objects.filter(store=store, contact__isnull=False).exists()
    # An invoice whose lines span two minutes is at its earliest (London = UTC in winter).
    spans = [
        invoice
        for invoice, (_customer, earliest) in expected["invoices"].items()
        if invoice == "536591"
    ]
    customer, earliest = expected["invoices"][spans[0]]
    event = Event.objects.get(store=store, client_id="order:536591:purchase")
    assert event.customer.key == customer
    assert event.occurred_at == datetime.fromisoformat(earliest).replace(tzinfo=UTC)
    assert not EventImportChunk.objects.filter(event_import=event_import).exists()


# --- Pages


def test_the_pages_upload_preview_start_and_report(
    client_as: Any, store: Any, now: datetime, on_commit: Any
) -> None:
    client = client_as(Role.EDITOR)
    page = client.get(f"/stores/{store.pk}/events/import/")
    assert page.status_code == 200
    assert b"No imports into this store yet" in page.content

    response = client.post(
        f"/stores/{store.pk}/events/import/",
        {"shape": "orders", "file": SimpleUploadedFile("orders.csv", ORDERS_FILE.encode())},
    )
    event_import = EventImport.objects.get(store=store)
    assert response.status_code == 302
    assert response["Location"] == f"/events/imports/{event_import.pk}/"

    preview = client.get(response["Location"])
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "17850.0" in body  # the first rows, as in the file
    assert '<option value="order_id" selected>' in body
    assert '<option value="email">' in body  # the buyer's details can be chosen too
    assert '<option value="Europe/Vilnius" selected>' in body
    assert "<script>" not in body  # no inline script (CSP)

    with on_commit(execute=True):
        started = client.post(
            response["Location"],
            {
                "column_0": "order_id",
                "column_1": "customer_key",
                "column_3": "purchase",
                "column_4": "shipped",
                "time_zone": "UTC",
                "date_order": "day_first",
                "cancelled_prefix": "",
            },
        )
    assert started.status_code == 302
    event_import.refresh_from_db()
    assert event_import.task is not None and event_import.task.state == "done"
    assert event_import.time_zone == "UTC"
    assert Event.objects.filter(store=store).count() == 4  # delivered was not chosen

    report = client.get(response["Location"]).content.decode()
    assert "Imported" in report and "Events stored" in report
    listing = client.get(f"/stores/{store.pk}/events/import/").content.decode()
    assert "orders.csv" in listing and "4 events stored" in listing


def test_the_page_follows_a_running_import_with_its_script(client_as: Any, store: Any) -> None:
    event_import = upload(store, EVENTS_FILE, shape="events")
    task = task_services.task_create(
        organisation_id=store.organisation_id, store_id=store.pk, kind=import_run.TASK_KIND
    )
    EventImport.objects.filter(pk=event_import.pk).update(task=task)
    task_services.task_progress(task=task, done=30, total=120, phase="Reading the file")

    body = client_as(Role.EDITOR).get(f"/events/imports/{event_import.pk}/").content.decode()

    assert f'data-task-url="/api/v1/tasks/{task.pk}/"' in body
    assert 'value="25"' in body and "Reading the file" in body
    assert "js/event-import" in body


def test_a_bad_upload_is_shown_on_the_form(client_as: Any, store: Any) -> None:
    response = client_as(Role.EDITOR).post(
        f"/stores/{store.pk}/events/import/",
        {"shape": "events", "file": SimpleUploadedFile("book.xlsx", b"PK\x03\x04...")},
    )
    assert response.status_code == 400
    assert "spreadsheet workbook" in response.content.decode()
    assert not EventImport.objects.exists()


def test_viewers_cannot_import(client_as: Any, store: Any) -> None:
    assert client_as(Role.VIEWER).get(f"/stores/{store.pk}/events/import/").status_code == 403


# --- API


def test_the_api_imports_a_file_and_answers_with_the_task_to_poll(
    api_as: Any, store: Any, now: datetime, on_commit: Any
) -> None:
    api = api_as(Role.EDITOR)
    with on_commit(execute=True):
        response = api.post(
            "/api/v1/events/imports/",
            {
                "store": store.pk,
                "shape": "orders",
                "file": SimpleUploadedFile("orders.csv.gz", gzip.compress(ORDERS_FILE.encode())),
                "mapping": '{"Order ID": "order_id", "Customer ID": "customer_key", '
                '"Order date": "purchase", "Delivered at": "delivered"}',
                "time_zone": "UTC",
            },
            format="multipart",
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["columns"] == {
        "Order ID": "order_id",
        "Customer ID": "customer_key",
        "Order date": "purchase",
        "Delivered at": "delivered",
    }
    assert (body["encoding"], body["delimiter"], body["time_zone"]) == ("utf-8", ",", "UTC")
    assert body["task_url"] == f"/api/v1/tasks/{body['task']}/"

    task = api.get(body["task_url"]).json()

    assert task["state"] == "done"
    assert task["result"]["events_stored"] == 3  # purchases of 1001 and 1002, 1001 delivered
    assert stored(store)[0] == ("purchase", "17850", datetime(2026, 3, 1, 9, 55, tzinfo=UTC))


def test_a_stores_key_imports_into_its_own_store_only(store: Any, now: datetime) -> None:
    raw = "mm_sk_import01_" + "d" * 32
    ApiKeyFactory(store=store, prefix="mm_sk_import01", raw_key=raw)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    sister = StoreFactory(organisation=store.organisation, name="Sister store")

    def post(**extra: Any) -> Any:
        return client.post(
            "/api/v1/events/imports/",
            {"shape": "events", "file": SimpleUploadedFile("e.csv", EVENTS_FILE.encode()), **extra},
            format="multipart",
        )

    assert post().status_code == 202
    assert EventImport.objects.get().store == store
    refused = post(store=sister.pk)
    assert refused.status_code == 400
    assert set(refused.json()["error"]["details"]) == {"store"}


def test_the_api_refuses_another_organisations_store_a_bad_file_or_mapping(
    api_as: Any, store: Any
) -> None:
    api = api_as(Role.EDITOR)
    elsewhere = StoreFactory(organisation=OrganisationFactory(name="Elsewhere"))

    def post(content: bytes, **extra: Any) -> Any:
        return api.post(
            "/api/v1/events/imports/",
            {"shape": "events", "file": SimpleUploadedFile("e.csv", content), **extra},
            format="multipart",
        )

    cases = [
        (post(EVENTS_FILE.encode(), store=elsewhere.pk), "store"),
        (post(b"", store=store.pk), "file"),
        (post(EVENTS_FILE.encode(), store=store.pk, mapping='{"Nope": "name"}'), "mapping"),
        (post(EVENTS_FILE.encode(), store=store.pk, mapping="[1, 2]"), "mapping"),
        (post(EVENTS_FILE.encode(), store=store.pk, time_zone="Mars/Olympus"), "time_zone"),
    ]
    for response, field in cases:
        assert response.status_code == 400, response.content
        assert set(response.json()["error"]["details"]) == {field}, response.content
    assert not EventImport.objects.exists() and not Task.objects.exists()
    assert (
        api_as(Role.VIEWER).post("/api/v1/events/imports/", {}, format="multipart").status_code
        == 403
    )


def test_the_import_is_audited(store: Any, on_commit: Any, editor: Any, now: datetime) -> None:
    event_import = upload(store, EVENTS_FILE, shape="events")
    with on_commit(execute=True):
        imports.event_import_start(
            event_import=event_import,
            actor=Actor(user=editor),
            mapping=imports.mapping_of(event_import),
            time_zone="Europe/Vilnius",
            day_first=True,
        )
    entry = store.organisation.audit_log.get(action="events.import_started")
    assert entry.details["file_name"] == "export.csv" and entry.actor == editor
    assert key_hash("e-1") in set(
        EventKey.objects.filter(store=store).values_list("key_hash", flat=True)
    )
