"""CSV import of a store's history, in the two shapes store exports have:

- an events file: one event per row, with columns for the event's name, the customer and the
  time, and optionally an id (the idempotency id) and properties (a JSON object);
- an orders file: one row per order, or per product line of an order, with columns of dates
  (ordered, shipped, delivered, cancelled...): each mapped date column gives its event, an
  empty cell none, and an order's rows make one event per column, at the earliest time; the
  buyer's email, name and language, when the file has them, create or update the store's
  contacts (an order without a customer id counts for its email's keyed hash).

Three steps: upload (the file goes into the database in pieces while one pass over it
decides its text encoding; its header and first rows are read to detect what each column
holds), start (the mapping, the time zone of naive timestamps and the date order confirmed
or changed; a Celery task is queued and a core Task follows it), and the run itself
(events/import_run.py), whose progress and report the task holds.

The modules are split so that dependencies stay one way: this one queues the task
(events.tasks), the task runs import_run, and import_run writes through events.services.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterator
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import Organisation, Store
from accounts.services import Actor, audit_record
from core import services as task_services
from core.errors import DomainError
from core.models import Task
from events import csv_reading, import_run, tasks
from events.csv_reading import CHUNK_BYTES, MAX_UPLOAD_BYTES, FatalImportError, Head
from events.models import EventImport, EventImportChunk

# Rows of the file shown on the page before the import starts.
PREVIEW_ROWS = 5


@functools.cache
def time_zones() -> frozenset[str]:
    """IANA names (zoneinfo reads the system's list from disk on every call: once here)."""
    return frozenset(zoneinfo.available_timezones())


class ImportStarted(DomainError):
    code = "import_started"


def _pieces(file: IO[bytes], first: bytes) -> Iterator[bytes]:
    yield first
    while data := file.read(CHUNK_BYTES):
        yield data


@transaction.atomic
def event_import_upload(
    *,
    store: Store,
    actor: Actor,
    file: IO[bytes],
    file_name: str,
    shape: str,
) -> EventImport:
    """Keep an uploaded file for import, and read what it holds: encoding, delimiter, header,
    the columns recognised, and hints (date order, cancelled order numbers) from its first
    rows. FatalImportError (nothing is kept) says why a file cannot be imported."""
    if shape not in csv_reading.SHAPES:
        raise FatalImportError(_("Choose what the file holds: events or orders."))
    first = file.read(CHUNK_BYTES)
    if not first:
        raise FatalImportError(_("The file is empty."))
    event_import = EventImport.objects.create(
        store=store,
        created_by=actor.user,
        file_name=file_name[:255],
        file_size=0,
        compressed=first.startswith(csv_reading.GZIP_MAGIC),
        shape=shape,
        encoding="",
        delimiter=",",
        time_zone=store.time_zone,
    )
    size = 0

    def stored() -> Iterator[bytes]:
        nonlocal size
        for number, data in enumerate(_pieces(file, first)):
            size += len(data)
            if size > MAX_UPLOAD_BYTES:
                raise FatalImportError(
                    _("The file is larger than %(mb)s MB: compress it (.csv.gz) or split it.")
                    % {"mb": MAX_UPLOAD_BYTES // 1024**2}
                )
            EventImportChunk.objects.create(event_import=event_import, number=number, data=data)
            yield data

    scan = csv_reading.TextScan()
    pieces = stored()
    for text in csv_reading.inflate(pieces) if event_import.compressed else pieces:
        scan.feed(text)
    scan.finish()
    encoding = csv_reading.encoding_choose(scan, language=store.default_language)
    head = csv_reading.head_read(
        bytes(scan.head), encoding=encoding, whole=scan.size <= len(scan.head)
    )
    mapping = csv_reading.detect_mapping(head.header, shape)
    event_import.file_size = size
    event_import.encoding = encoding
    event_import.delimiter = head.delimiter
    event_import.header = head.header
    event_import.mapping = {str(index): target for index, target in mapping.items()}
    event_import.day_first = csv_reading.day_first_guess(head, mapping)
    if shape == EventImport.Shape.ORDERS:
        event_import.cancelled_prefix = csv_reading.cancelled_prefix_guess(head, mapping)
    event_import.save()
    return event_import


def event_import_preview(*, event_import: EventImport) -> Head | None:
    """The start of the stored file (header and PREVIEW_ROWS rows), read again for the page;
    None once the file is gone (the import ran, or the upload expired)."""
    head = bytearray()
    try:
        for data in import_run.stored_text(event_import):
            head += data
            if len(head) >= csv_reading.HEAD_BYTES:
                break
        if not head:
            return None
        found = csv_reading.head_read(
            bytes(head[: csv_reading.HEAD_BYTES]),
            encoding=event_import.encoding,
            whole=len(head) < csv_reading.HEAD_BYTES,
        )
    except FatalImportError:
        return None
    found.rows = found.rows[:PREVIEW_ROWS]
    return found


@transaction.atomic
def event_import_start(
    *,
    event_import: EventImport,
    actor: Actor,
    mapping: dict[int, str],
    time_zone: str,
    day_first: bool,
    cancelled_prefix: str = "",
) -> Task:
    """Start the import with these choices: a Task follows it (its id is what the page and
    API clients poll), and the run is queued once this commits. A choice that cannot work is
    a ValidationError by the field it concerns (mapping, time_zone, cancelled_prefix, file);
    ImportStarted when it runs already."""
    locked = EventImport.objects.select_for_update().select_related("store").get(pk=event_import.pk)
    if locked.task_id is not None:
        raise ImportStarted(_("This import has been started already."))
    try:
        csv_reading.mapping_check(shape=locked.shape, mapping=mapping, header=locked.header)
    except FatalImportError as exc:
        raise ValidationError({"mapping": [str(exc)]}) from None
    if time_zone not in time_zones():
        raise ValidationError(
            {
                "time_zone": [
                    _("%(value)s is not an IANA time zone (e.g. Europe/Vilnius).")
                    % {"value": time_zone[:80]}
                ]
            }
        )
    prefix = cancelled_prefix.strip()
    if len(prefix) > 8:
        raise ValidationError(
            {"cancelled_prefix": [_("A prefix of cancelled orders has at most 8 characters.")]}
        )
    if not EventImportChunk.objects.filter(event_import=locked, number=0).exists():
        raise ValidationError(
            {"file": [_("The uploaded file is no longer kept: upload it again.")]}
        )
    store = locked.store
    task = task_services.task_create(
        organisation_id=store.organisation_id,
        store_id=store.pk,
        created_by_id=actor.user.pk if actor.user is not None else None,
        kind=import_run.TASK_KIND,
        phase=_("Waiting for a worker"),
    )
    locked.task = task
    locked.mapping = {str(index): target for index, target in sorted(mapping.items())}
    locked.time_zone = time_zone
    locked.day_first = day_first
    locked.cancelled_prefix = prefix if locked.shape == EventImport.Shape.ORDERS else ""
    locked.language = get_language() or ""
    locked.save()
    audit_record(
        organisation=store.organisation,
        actor=actor,
        action="events.import_started",
        target=store,
        details={
            "file_name": locked.file_name,
            "file_size": locked.file_size,
            "shape": locked.shape,
            "time_zone": time_zone,
            "task": task.pk,
        },
    )
    # Queued once committed (the worker must find the task). If the broker is down the error
    # is logged and events.tasks.event_imports_tidy queues it again within minutes.
    transaction.on_commit(lambda: tasks.event_import_run.delay(task_id=task.pk), robust=True)
    for name in ("task", "mapping", "time_zone", "day_first", "cancelled_prefix", "language"):
        setattr(event_import, name, getattr(locked, name))  # the caller's copy, as saved
    return task


@transaction.atomic
def event_import_create(
    *,
    store: Store,
    actor: Actor,
    file: IO[bytes],
    file_name: str,
    shape: str,
    mapping: dict[str, str] | None = None,
    time_zone: str = "",
    day_first: bool | None = None,
    cancelled_prefix: str | None = None,
) -> EventImport:
    """Upload and start in one step (the API): what is not given is what the upload
    detected (the mapping, the date order, the cancelled orders' prefix) or the store's
    (the time zone). `mapping` names columns by header: {"InvoiceNo": "order_id", ...}.
    A ValidationError by field (file, mapping, ...) keeps nothing."""
    try:
        event_import = event_import_upload(
            store=store, actor=actor, file=file, file_name=file_name, shape=shape
        )
    except FatalImportError as exc:
        raise ValidationError({"file": [str(exc)]}) from None
    try:
        columns = (
            mapping_of(event_import)
            if mapping is None
            else csv_reading.mapping_from_names(event_import.header, mapping)
        )
    except FatalImportError as exc:
        raise ValidationError({"mapping": [str(exc)]}) from None
    event_import_start(
        event_import=event_import,
        actor=actor,
        mapping=columns,
        time_zone=time_zone or store.time_zone,
        day_first=event_import.day_first if day_first is None else day_first,
        cancelled_prefix=(
            event_import.cancelled_prefix if cancelled_prefix is None else cancelled_prefix
        ),
    )
    return event_import


# --- Reads


def event_import_list(*, organisation: Organisation, store: Store | None = None) -> QuerySet:
    """The organisation's imports (of live stores), newest first, with their tasks."""
    imports = EventImport.objects.filter(
        store__organisation=organisation, store__deletion_requested_at__isnull=True
    ).select_related("task", "store", "created_by")
    return imports if store is None else imports.filter(store=store)


def event_import_get(*, organisation: Organisation, pk: int) -> EventImport:
    return get_object_or_404(event_import_list(organisation=organisation), pk=pk)


def mapping_of(event_import: EventImport) -> dict[int, str]:
    return {int(index): target for index, target in event_import.mapping.items()}


def report_of(task: Task | None) -> dict[str, Any] | None:
    return task.result if task is not None and isinstance(task.result, dict) else None
