"""The run of a CSV import (events/imports.py starts it; a Celery task runs this).

Three phases, each in constant memory whatever the file's size:

1. Read: the stored file streams through the decoder and the CSV reader; each row is checked
   and turned into events (or skipped, with the reason, by its line number in the file), and
   the events are COPYed into a staging table, unlogged (no WAL: it is rebuilt if lost) and
   private to this import (`events_import_<id>`). An orders file's rows are merged there in
   SQL: one event per order and event name, at the earliest time of the order's rows (an
   order spans one row per product line, not always adjacent). Nothing is stored as an event
   yet, so a file that turns out unreadable halfway stores nothing.
2. Write: the staged events go through the shared write path (events.services.events_ingest
   → events.ingest.events_write) in batches of WRITE_BATCH, each a transaction of a handful
   of set-based statements: idempotency ids deduplicated in events_eventkey, customers and
   event names upserted, events COPYed, first purchases kept, days marked for recompute,
   the metrics told after commit. Source CSV: no survey is ever triggered by history.
3. Contacts (an orders file with an email column): the buyer's email, name and language ride
   along with the staged events; after the events are written, one row per email is upserted
   into the store's contacts from SQL, CONTACT_BATCH at a time, and each customer is linked
   to the contact of the latest row that named them. The contacts import's rules hold: a
   blank cell keeps the stored value, an unsubscribed or suppressed contact stays so.

Idempotency ids, so that importing a file again stores nothing twice: an events file's `id`
column when it is mapped (and filled), else a hash of the row's content (name, customer,
time, session, properties: identical rows count once); an orders file's
`order:<order id>:<event name>` (so that a later export of the same orders, with delivery
dates filled in since, adds only the new events).

A worker that dies halfway leaves committed batches behind; the task is delivered again and
the rerun stores only what is missing. Staging tables are dropped at the end, and by the
periodic tidy-up (imports_tidy) when a run never got there.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import clock
from core import services as task_services
from core.models import Task
from events import csv_reading, services
from events.csv_reading import ORDER_FIELDS, FatalImportError, Moments, TimeError, column_label
from events.ingest import (
    MAX_ID_LENGTH,
    EventIn,
    ItemError,
    Window,
    customer_key_clean,
    email_customer_key,
    properties_text,
)
from events.models import Customer, EventImport, EventImportChunk, EventSource
from journeys.models import EVENT_NAME
from surveys.imports import NAME_MAX, customer_key, email_clean, language_code
from surveys.models import Contact

logger = logging.getLogger(__name__)

TASK_KIND = "events.csv_import"
# Staged events written per transaction: 5,000 EventIn objects and their rows are ~5 MB of
# Python memory; each batch is a few statements whatever its size.
WRITE_BATCH = 5000
# Rows read between two progress reports (an UPDATE of the task's row each).
PROGRESS_ROWS = 20_000
# Staged rows COPYed at a time: 10,000 tuples of short strings are ~3 MB of Python memory.
STAGE_BATCH = 10_000
# Contacts upserted per transaction: one INSERT ... SELECT from the staging table and one
# UPDATE of the customers, run in the database; Python holds only the returned flags.
CONTACT_BATCH = 5000
# Problems listed in the report; problem_count counts them all.
MAX_LISTED_PROBLEMS = 1000
MAX_ORDER_ID = 64
MAX_SESSION_ID = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class ImportReport:
    """What an import did, as the task's result (GET /api/v1/tasks/{id}/) and the page show
    it. Rows are counted as in the file, the header not included."""

    shape: str = ""
    encoding: str = ""
    delimiter: str = ""
    time_zone: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # file header -> what it holds
    rows: int = 0  # data rows read (blank lines are not rows)
    rows_skipped: int = 0  # rows that gave no event because of a problem
    rows_without_events: int = 0  # orders: rows with every mapped date empty
    orders_skipped: int = 0  # orders whose rows name different customers
    events_found: int = 0  # events in the file, an order's rows merged
    events_stored: int = 0
    duplicates: int = 0  # events the store already had (an earlier import), or twice here
    contacts_found: int = 0  # orders: distinct emails of the imported orders
    contacts_created: int = 0
    contacts_updated: int = 0  # a name, language or customer key filled in or changed
    problem_count: int = 0
    problems_by_code: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)  # the first ones

    def problem(self, *, row: int, column: str, value: str, code: str, message: str) -> None:
        self.problem_count += 1
        self.problems_by_code[code] = self.problems_by_code.get(code, 0) + 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(
                {
                    "row": row,
                    "column": column,
                    "value": value[:200],
                    "code": code,
                    "message": message,
                }
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- Phase 1: rows to staged events


# line, order_id, client_id, name, customer, occurred_at, session_id, properties, and the
# buyer's email, customer key for the contact, name and language ("" when not known).
_StageRow = tuple[int, str | None, str | None, str, str, datetime, str, str, str, str, str, str]
_NO_CONTACT = ("", "", "", "")
_Write = Callable[[_StageRow], None]


class _Rows:
    """Turns the file's rows into staged events, and skipped rows into problems."""

    def __init__(self, *, event_import: EventImport, report: ImportReport, window: Window) -> None:
        self.report = report
        self.window = window
        self.header: list[str] = event_import.header
        self.mapping = {int(index): target for index, target in event_import.mapping.items()}
        self.moments = Moments(zone=event_import.time_zone, day_first=event_import.day_first)
        self.cancelled_prefix = event_import.cancelled_prefix
        by_target = {target: index for index, target in self.mapping.items()}
        self.columns = by_target
        self.customer_column = by_target.get("customer_key")  # orders may have only emails
        # Orders: (column, event name) of each date column, in the file's order.
        self.time_columns = sorted(
            (index, target) for index, target in self.mapping.items() if target not in ORDER_FIELDS
        )
        # Orders: the run of rows of one order (adjacent in most exports), merged before
        # staging; SQL merges the runs of an order that the file splits.
        self.run_key: tuple[str, str] | None = None
        self.run: dict[str, tuple[datetime, int]] = {}
        self.run_contact: list[str] = list(_NO_CONTACT)  # its rows' latest non-empty values

    def _problem(self, line: int, index: int | None, value: str, code: str, message: str) -> None:
        column = column_label(self.header, index) if index is not None else ""
        self.report.problem(row=line, column=column, value=value, code=code, message=message)

    def _cell(self, cells: list[str], target: str) -> str:
        index = self.columns.get(target)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    def _customer(self, line: int, cells: list[str]) -> str | None:
        raw = self._cell(cells, "customer_key")
        if not raw:
            self._problem(
                line,
                self.customer_column,
                "",
                "missing_customer",
                _("No customer: the row is not imported (a customer is never guessed)."),
            )
            return None
        try:
            # Spreadsheets write numeric ids as floats: 17850.0 is the customer 17850.
            return customer_key_clean(customer_key(raw))
        except ItemError as exc:
            self._problem(line, self.customer_column, raw, "invalid_customer", str(exc))
            return None

    def _email(self, line: int, cells: list[str]) -> str:
        """The row's email, normalised; "" when empty or not an address (reported: the
        order's events are still imported, without a contact)."""
        raw = self._cell(cells, "email")
        if not raw:
            return ""
        try:
            return email_clean(raw)
        except ValueError:
            self._problem(
                line,
                self.columns["email"],
                raw,
                "invalid_email",
                _(
                    "“%(value)s” is not a valid email address: the order's events are imported, "
                    "without a contact."
                )
                % {"value": raw[:200]},
            )
            return ""

    def _buyer(self, line: int, cells: list[str]) -> tuple[str, tuple[str, str, str, str]] | None:
        """An orders row's customer key and its contact's (email, customer key, name,
        language); None when the row names no customer (reported). Without a customer id,
        the email's keyed hash is the customer, as for a Shopify guest order."""
        email = self._email(line, cells) if "email" in self.columns else ""
        raw = self._cell(cells, "customer_key")
        if not raw and email:
            key = email_customer_key(email)
        elif not raw and "email" in self.columns:
            self._problem(
                line,
                self.customer_column if self.customer_column is not None else self.columns["email"],
                "",
                "missing_customer",
                _(
                    "No customer and no valid email: the row is not imported (a customer is "
                    "never guessed)."
                ),
            )
            return None
        else:
            found = self._customer(line, cells)
            if found is None:
                return None
            key = found
        contact_key = ""
        if raw:
            cleaned = customer_key(raw).strip()
            if key == cleaned:
                contact_key = key
            elif not email:
                # An email as the customer (hashed as the key): the contact's address too.
                try:
                    email = email_clean(cleaned)
                except ValueError:
                    email = ""
        if not email:
            return key, _NO_CONTACT
        name = self._cell(cells, "customer_name") or " ".join(
            (self._cell(cells, "first_name"), self._cell(cells, "last_name"))
        )
        language = language_code(self._cell(cells, "language")) or ""
        return key, (email, contact_key, " ".join(name.split())[:NAME_MAX], language)

    def _moment(self, line: int, index: int, raw: str) -> datetime | None:
        try:
            moment = self.moments.parse(raw)
        except TimeError as exc:
            self._problem(line, index, raw, "invalid_time", str(exc))
            return None
        if moment > self.window.latest:
            self._problem(
                line, index, raw, "in_future", _("The time is more than a day in the future.")
            )
            return None
        if self.window.earliest is not None and moment < self.window.earliest:
            self._problem(
                line,
                index,
                raw,
                "outside_retention",
                _(
                    "The time is before %(horizon)s, older than the store keeps events (its "
                    "event retention setting; empty it to import older history)."
                )
                % {"horizon": f"{self.window.earliest:%Y-%m-%d}"},
            )
            return None
        return moment

    # Events file

    def event_row(self, line: int, cells: list[str], write: _Write) -> None:
        report = self.report
        name = self._cell(cells, "name")
        if not EVENT_NAME.match(name):
            code = "invalid_name" if name else "missing_name"
            self._problem(
                line,
                self.columns["name"],
                name,
                code,
                _("An event name is 1 to 64 letters, digits or _ . : - (e.g. purchase)."),
            )
            report.rows_skipped += 1
            return
        customer = self._customer(line, cells)
        if customer is None:
            report.rows_skipped += 1
            return
        raw_time = self._cell(cells, "occurred_at")
        if not raw_time:
            self._problem(line, self.columns["occurred_at"], "", "missing_time", _("No time."))
            report.rows_skipped += 1
            return
        moment = self._moment(line, self.columns["occurred_at"], raw_time)
        if moment is None:
            report.rows_skipped += 1
            return
        client_id = self._cell(cells, "id")
        if len(client_id) > MAX_ID_LENGTH or _CONTROL.search(client_id):
            self._problem(
                line,
                self.columns["id"],
                client_id,
                "invalid_id",
                ngettext(
                    "An id is at most %(max)s character, with no control characters.",
                    "An id is at most %(max)s characters, with no control characters.",
                    MAX_ID_LENGTH,
                )
                % {"max": MAX_ID_LENGTH},
            )
            report.rows_skipped += 1
            return
        session = self._cell(cells, "session_id")
        if len(session) > MAX_SESSION_ID or _CONTROL.search(session):
            self._problem(
                line,
                self.columns["session_id"],
                session,
                "invalid_session",
                ngettext(
                    "A session id is at most %(max)s character, with no control characters.",
                    "A session id is at most %(max)s characters, with no control characters.",
                    MAX_SESSION_ID,
                )
                % {"max": MAX_SESSION_ID},
            )
            report.rows_skipped += 1
            return
        properties = "{}"
        raw_properties = self._cell(cells, "properties")
        if raw_properties:
            try:
                value = msgspec.json.decode(raw_properties)
                if not isinstance(value, dict):
                    raise ItemError(_('Properties must be a JSON object, e.g. {"sku": "A-1"}.'))
                properties = properties_text(value)
            except (msgspec.DecodeError, ItemError) as exc:
                message = (
                    str(exc)
                    if isinstance(exc, ItemError)
                    else _('Properties must be a JSON object, e.g. {"sku": "A-1"}.')
                )
                self._problem(
                    line, self.columns["properties"], raw_properties, "invalid_properties", message
                )
                report.rows_skipped += 1
                return
        if not client_id:
            digest = hashlib.sha256(
                "\x1f".join((name, customer, moment.isoformat(), session, properties)).encode()
            ).hexdigest()
            client_id = f"csv:{digest[:40]}"
        write((line, None, client_id, name, customer, moment, session, properties, *_NO_CONTACT))

    # Orders file

    def order_row(self, line: int, cells: list[str], write: _Write) -> None:
        report = self.report
        stamps = [
            (index, name, cells[index].strip())
            for index, name in self.time_columns
            if index < len(cells) and cells[index].strip()
        ]
        if not stamps:
            report.rows_without_events += 1  # e.g. an order's second product line
            return
        order_id = self._cell(cells, "order_id")
        if not order_id or len(order_id) > MAX_ORDER_ID or _CONTROL.search(order_id):
            self._problem(
                line,
                self.columns["order_id"],
                order_id,
                "invalid_order_id" if order_id else "missing_order_id",
                ngettext(
                    "An order id is 1 to %(max)s character, with no control characters.",
                    "An order id is 1 to %(max)s characters, with no control characters.",
                    MAX_ORDER_ID,
                )
                % {"max": MAX_ORDER_ID},
            )
            report.rows_skipped += 1
            return
        buyer = self._buyer(line, cells)
        if buyer is None:
            report.rows_skipped += 1
            return
        customer, contact = buyer
        cancelled = bool(self.cancelled_prefix) and order_id.startswith(self.cancelled_prefix)
        key = (order_id, customer)
        if key != self.run_key:
            self.flush(write)
            self.run_key = key
        taken = 0
        for index, name, raw in stamps:
            moment = self._moment(line, index, raw)
            if moment is None:
                continue
            if cancelled and name == "purchase":
                name = "order_cancelled"
            earliest = self.run.get(name)
            if earliest is None or moment < earliest[0]:
                self.run[name] = (moment, earliest[1] if earliest else line)
            taken += 1
        if not taken:
            report.rows_skipped += 1
            return
        for position, value in enumerate(contact):
            if value:
                self.run_contact[position] = value

    def flush(self, write: _Write) -> None:
        if self.run_key is not None:
            order_id, customer = self.run_key
            email, contact_key, contact_name, language = self.run_contact
            for name, (moment, line) in self.run.items():
                row = (line, order_id, None, name, customer, moment, "", "{}")
                write((*row, email, contact_key, contact_name, language))
        self.run_key, self.run, self.run_contact = None, {}, list(_NO_CONTACT)


def _stored_chunks(event_import: EventImport, progress: list[int]) -> Iterator[bytes]:
    """The upload's pieces in order, one query each; progress[0] counts the bytes read."""
    number = 0
    while True:
        data = (
            EventImportChunk.objects.filter(event_import=event_import, number=number)
            .values_list("data", flat=True)
            .first()
        )
        if data is None:
            return
        piece = bytes(data)
        progress[0] += len(piece)
        yield piece
        number += 1


def stored_text(event_import: EventImport, progress: list[int] | None = None) -> Iterator[bytes]:
    """The file's text bytes, decompressed as they stream from the database."""
    chunks = _stored_chunks(event_import, progress if progress is not None else [0])
    return csv_reading.inflate(chunks) if event_import.compressed else chunks


def _table(event_import: EventImport) -> str:
    return f"events_import_{int(event_import.pk)}"


# The staging tables of an import: its rows, its events, its contacts (orders with emails).
_STAGING_SUFFIXES = ("", "_events", "_contacts")


def _staging_tables(table: str) -> str:
    return ", ".join(f"{table}{suffix}" for suffix in _STAGING_SUFFIXES)


def _staging_create(cursor: Any, table: str) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {_staging_tables(table)}")
    cursor.execute(
        f"CREATE UNLOGGED TABLE {table} (line integer NOT NULL, order_id text, client_id text, "
        "name text NOT NULL, customer text NOT NULL, occurred_at timestamptz NOT NULL, "
        "session_id text NOT NULL, properties text NOT NULL, email text NOT NULL, "
        "contact_key text NOT NULL, contact_name text NOT NULL, language text NOT NULL)"
    )


def staging_drop(event_import_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"DROP TABLE IF EXISTS {_staging_tables(f'events_import_{int(event_import_id)}')}"
        )


def _stage(*, event_import: EventImport, task: Task, report: ImportReport, window: Window) -> None:
    """Phase 1: read every row, COPY its events into the staging table, then merge an orders
    file's rows into its events table (`<table>_events`, numbered n = 1, 2, ...)."""
    if not EventImportChunk.objects.filter(event_import=event_import, number=0).exists():
        raise FatalImportError(_("The uploaded file is no longer kept: upload it again."))
    table = _table(event_import)
    reader = _Rows(event_import=event_import, report=report, window=window)
    orders = event_import.shape == EventImport.Shape.ORDERS
    handle = reader.order_row if orders else reader.event_row
    progress = [0]
    found = csv_reading.text_rows(
        stored_text(event_import, progress),
        encoding=event_import.encoding,
        delimiter=event_import.delimiter,
    )
    next(found, None)  # the header row, read at upload
    phase = _("Reading the file")
    task_services.task_progress(task=task, done=0, total=event_import.file_size, phase=phase)
    staged: list[_StageRow] = []

    def stage() -> None:
        # The file's pieces are read from the database as the rows stream: a COPY cannot stay
        # open meanwhile on the same connection, so rows wait here, STAGE_BATCH at most.
        if staged:
            with (
                transaction.atomic(),
                connection.cursor() as cursor,
                cursor.copy(
                    f"COPY {table} (line, order_id, client_id, name, customer, occurred_at, "
                    "session_id, properties, email, contact_key, contact_name, language) "
                    "FROM STDIN"
                ) as copy,
            ):
                for row in staged:
                    copy.write_row(row)
            staged.clear()

    with connection.cursor() as cursor:
        _staging_create(cursor, table)
    for line, cells in found:
        report.rows += 1
        handle(line, cells, staged.append)
        if len(staged) >= STAGE_BATCH:
            stage()
        if report.rows % PROGRESS_ROWS == 0:
            task_services.task_progress(task=task, done=progress[0])
    reader.flush(staged.append)
    stage()
    task_services.task_progress(task=task, done=progress[0])
    with connection.cursor() as cursor:
        if orders:
            _orders_merge(cursor, table, report)
        else:
            cursor.execute(
                f"CREATE UNLOGGED TABLE {table}_events AS SELECT row_number() OVER "  # noqa: S608
                f"(ORDER BY line) AS n, line, order_id, client_id, name, customer, occurred_at, "
                f"session_id, properties FROM {table}"
            )
        cursor.execute(f"ALTER TABLE {table}_events ADD PRIMARY KEY (n)")
        cursor.execute(f"SELECT count(*) FROM {table}_events")  # noqa: S608
        report.events_found = int(cursor.fetchone()[0])
        cursor.execute(f"DROP TABLE {table}")


def _orders_merge(cursor: Any, table: str, report: ImportReport) -> None:
    """One event per order and event name, at the earliest time among the order's rows. An
    order whose rows name different customers is not imported: which one bought is not
    guessed."""
    cursor.execute(
        f"SELECT order_id, min(line), array_agg(DISTINCT customer ORDER BY customer) "  # noqa: S608
        f"FROM {table} GROUP BY order_id HAVING count(DISTINCT customer) > 1 ORDER BY min(line)"
    )
    for order_id, line, customers in cursor.fetchall():
        report.orders_skipped += 1
        report.problem(
            row=line,
            column="",
            value=", ".join(customers),
            code="customer_conflict",
            message=_(
                "The rows of order %(order)s name different customers; the order is not imported."
            )
            % {"order": order_id},
        )
    cursor.execute(
        f"DELETE FROM {table} WHERE order_id IN (SELECT order_id FROM {table} "  # noqa: S608
        f"GROUP BY order_id HAVING count(DISTINCT customer) > 1)"
    )
    cursor.execute(
        f"CREATE UNLOGGED TABLE {table}_events AS "  # noqa: S608
        f"SELECT row_number() OVER (ORDER BY min(line), name) AS n, min(line) AS line, "
        f"order_id, NULL::text AS client_id, name, min(customer) AS customer, "
        f"min(occurred_at) AS occurred_at, '' AS session_id, '{{}}' AS properties "
        f"FROM {table} GROUP BY order_id, name"
    )
    _contacts_stage(cursor, table, report)


def _contacts_stage(cursor: Any, table: str, report: ImportReport) -> None:
    """One row per email of the imported orders (`<table>_contacts`, numbered by email): the
    latest non-empty customer key, name and language among its rows (a later export knows
    more), and the customers whose latest row names this email (they are linked to it)."""

    def latest(column: str) -> str:
        return (
            f"coalesce((array_agg({column} ORDER BY line DESC) "
            f"FILTER (WHERE {column} <> ''))[1], '')"
        )

    cursor.execute(
        f"CREATE UNLOGGED TABLE {table}_contacts AS "  # noqa: S608
        f"WITH latest AS (SELECT DISTINCT ON (customer) customer, email FROM {table} "
        f"WHERE email <> '' ORDER BY customer, line DESC), "
        f"linked AS (SELECT email, array_agg(customer ORDER BY customer) AS customers "
        f"FROM latest GROUP BY email), "
        f"found AS (SELECT email, {latest('contact_key')} AS customer_key, "
        f"{latest('contact_name')} AS name, {latest('language')} AS language "
        f"FROM {table} WHERE email <> '' GROUP BY email) "
        f"SELECT row_number() OVER (ORDER BY found.email) AS n, found.email, "
        f"found.customer_key, found.name, found.language, "
        f"coalesce(linked.customers, '{{}}') AS customers "
        f"FROM found LEFT JOIN linked USING (email)"
    )
    cursor.execute(f"ALTER TABLE {table}_contacts ADD PRIMARY KEY (n)")
    cursor.execute(f"SELECT count(*) FROM {table}_contacts")  # noqa: S608
    report.contacts_found = int(cursor.fetchone()[0])


# --- Phase 2: staged events through the shared write path


def _order_event_id(order_id: str, name: str) -> str:
    client_id = f"order:{order_id}:{name}"
    if len(client_id) <= MAX_ID_LENGTH:
        return client_id
    return "order:" + hashlib.sha256(f"{order_id}\x1f{name}".encode()).hexdigest()[:40]


def _write(*, event_import: EventImport, task: Task, report: ImportReport) -> None:
    table = f"{_table(event_import)}_events"
    store = event_import.store
    task_services.task_progress(
        task=task, done=0, total=report.events_found, phase=_("Storing events")
    )
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT n, line, order_id, client_id, name, customer, occurred_at, "  # noqa: S608
                f"session_id, properties FROM {table} WHERE n > %s ORDER BY n LIMIT %s",
                [last, WRITE_BATCH],
            )
            batch = cursor.fetchall()
        if not batch:
            return
        items = []
        for _n, line, order_id, client_id, name, customer, moment, session, properties in batch:
            if order_id is not None:
                client_id = _order_event_id(order_id, name)
                properties = msgspec.json.encode({"order_id": order_id}).decode()
            items.append(
                EventIn(
                    index=line,
                    client_id=client_id,
                    name=name,
                    customer_key=customer,
                    is_anonymous=False,
                    occurred_at=moment,
                    session_id=session,
                    properties=properties,
                )
            )
        result = services.events_ingest(store=store, items=items, source=EventSource.CSV)
        report.events_stored += result.accepted
        report.duplicates += len(result.duplicates)
        last = batch[-1][0]
        task_services.task_progress(task=task, done=last)


# --- Phase 3: the orders' buyers as the store's contacts


def _contacts_write(*, event_import: EventImport, task: Task, report: ImportReport) -> None:
    """Upsert the staged contacts and link their customers, CONTACT_BATCH emails per
    transaction. ON CONFLICT makes it safe beside a webhook creating the same contact. A
    contact's stored values are changed only by non-empty ones, and only the fields a contact
    import may change are touched: unsubscribed and suppressed contacts stay so."""
    table = f"{_table(event_import)}_contacts"
    store = event_import.store
    contacts, customers = Contact._meta.db_table, Customer._meta.db_table
    task_services.task_progress(
        task=task, done=0, total=report.contacts_found, phase=_("Saving contacts")
    )
    last = 0
    while last < report.contacts_found:
        batch = [last, last + CONTACT_BATCH]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {contacts} AS c (organisation_id, store_id, email, "  # noqa: S608
                f"customer_key, name, language, suppression_reason, created_at) "
                f"SELECT %s, %s, email, customer_key, name, language, '', %s FROM {table} "
                f"WHERE n > %s AND n <= %s ORDER BY n "
                f"ON CONFLICT (store_id, email) DO UPDATE SET "
                f"customer_key = coalesce(nullif(EXCLUDED.customer_key, ''), c.customer_key), "
                f"name = coalesce(nullif(EXCLUDED.name, ''), c.name), "
                f"language = coalesce(nullif(EXCLUDED.language, ''), c.language) "
                f"WHERE (EXCLUDED.customer_key <> '' AND EXCLUDED.customer_key <> c.customer_key) "
                f"OR (EXCLUDED.name <> '' AND EXCLUDED.name <> c.name) "
                f"OR (EXCLUDED.language <> '' AND EXCLUDED.language <> c.language) "
                # xmax is 0 on a row this statement inserted, the locking transaction's id on
                # one it updated.
                f"RETURNING (c.xmax = 0)",
                [store.organisation_id, store.pk, clock.now(), *batch],
            )
            for (created,) in cursor.fetchall():
                if created:
                    report.contacts_created += 1
                else:
                    report.contacts_updated += 1
            cursor.execute(
                f"UPDATE {customers} AS cu SET contact_id = c.id "  # noqa: S608
                f"FROM (SELECT unnest(customers) AS customer, email FROM {table} "
                f"WHERE n > %s AND n <= %s) AS s "
                f"JOIN {contacts} AS c ON c.store_id = %s AND c.email = s.email "
                f"WHERE cu.store_id = %s AND NOT cu.is_anonymous AND cu.key = s.customer "
                f"AND cu.contact_id IS DISTINCT FROM c.id",
                [*batch, store.pk, store.pk],
            )
        last = batch[1]
        task_services.task_progress(task=task, done=min(last, report.contacts_found))


# --- The run


def _report_for(event_import: EventImport) -> ImportReport:
    return ImportReport(
        shape=event_import.shape,
        encoding=event_import.encoding,
        delimiter=event_import.delimiter,
        time_zone=event_import.time_zone,
        columns=csv_reading.columns_named(event_import.header, event_import.mapping),
    )


def event_import_run(*, task_id: int) -> None:
    """Run the import that `task_id` follows, once (a task delivered twice, or to a second
    worker while the first is alive, is skipped). The task ends done with the report, or
    failed with the reason and what had been done."""
    task = task_services.task_claim(task_id=task_id)
    if task is None:
        return
    event_import = EventImport.objects.select_related("store").filter(task_id=task_id).first()
    if event_import is None:  # its store was deleted meanwhile
        task_services.task_fail(task=task, error=_("The import's store was deleted."))
        return
    with translation.override(event_import.language or None):
        report = _report_for(event_import)
        try:
            window = Window.for_store(event_import.store)
            _stage(event_import=event_import, task=task, report=report, window=window)
            _write(event_import=event_import, task=task, report=report)
            if report.contacts_found:
                _contacts_write(event_import=event_import, task=task, report=report)
        except FatalImportError as exc:
            task_services.task_fail(task=task, error=str(exc), result=report.as_dict())
        except SoftTimeLimitExceeded:
            task_services.task_fail(
                task=task,
                error=_(
                    "The import took too long and was stopped. What it stored stays; import "
                    "the file again (or split it) to store the rest: nothing is stored twice."
                ),
                result=report.as_dict(),
            )
        except Exception:
            logger.exception("CSV import %s failed", event_import.pk)
            task_services.task_fail(
                task=task,
                error=_(
                    "The import stopped on an unexpected error, which has been logged. What it "
                    "stored stays; importing the file again stores the rest."
                ),
                result=report.as_dict(),
            )
        else:
            task_services.task_done(task=task, result=report.as_dict())
        finally:
            staging_drop(event_import.pk)
            EventImportChunk.objects.filter(event_import=event_import).delete()


# --- Tidying up after runs that never ended


# An upload nobody started is removed after this long (its file is in the database).
UNSTARTED_KEPT = timedelta(days=1)


def imports_tidy() -> list[int]:
    """Remove uploads never started, the files and staging tables of finished runs (a worker
    that died before its clean-up), and return the tasks to queue again: queued ones whose
    message was lost (the broker was down when the import started) and running ones whose
    worker stopped reporting (task_claim lets a new run take them over)."""
    now = clock.now()
    EventImport.objects.filter(task__isnull=True, created_at__lt=now - UNSTARTED_KEPT).delete()
    finished = EventImport.objects.filter(task__state__in=[Task.State.DONE, Task.State.FAILED])
    EventImportChunk.objects.filter(event_import__in=finished).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT substring(relname FROM '^events_import_([0-9]+)') FROM pg_class "
            "WHERE relkind = 'r' AND relname ~ '^events_import_[0-9]+(_events|_contacts)?$'"
        )
        staged = {int(number) for (number,) in cursor.fetchall()}
    running = set(
        EventImport.objects.filter(pk__in=staged, task__state=Task.State.RUNNING).values_list(
            "pk", flat=True
        )
    )
    for event_import_id in staged - running:
        staging_drop(event_import_id)
    stale = now - task_services.STALE_AFTER
    return list(
        Task.objects.filter(kind=TASK_KIND, updated_at__lt=stale)
        .filter(state__in=[Task.State.QUEUED, Task.State.RUNNING])
        .values_list("pk", flat=True)
    )
