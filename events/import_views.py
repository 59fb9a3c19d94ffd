"""The CSV import pages: upload a file into a store, confirm what its columns hold, follow the
run and read its report. Editors and above."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from accounts.permissions import role_required, tenant_of
from accounts.selectors import store_get
from core.errors import DomainError
from core.forms import add_service_errors
from events import imports
from events.csv_reading import FatalImportError
from events.forms import EventImportStartForm, EventImportUploadForm
from events.models import EventName

# Imports listed on a store's import page.
RECENT_IMPORTS = 10
# Translators: a CSV file's column separator, after "column separator:".
DELIMITER_NAMES = {
    ",": gettext_lazy("comma"),
    ";": gettext_lazy("semicolon"),
    "\t": gettext_lazy("tab"),
    "|": gettext_lazy("vertical bar"),
}


@role_required(Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def event_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 1: a store's imports, and the upload of a new file."""
    tenant = tenant_of(request)
    store = store_get(organisation=tenant.organisation, pk=pk)
    form = EventImportUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                event_import = imports.event_import_upload(
                    store=store,
                    actor=tenant.actor(),
                    file=upload,
                    file_name=upload.name or "",
                    shape=form.cleaned_data["shape"],
                )
            except FatalImportError as exc:
                form.add_error("file", str(exc))
            else:
                return redirect("events:import-detail", pk=event_import.pk)
        status = 400
    recent = imports.event_import_list(organisation=tenant.organisation, store=store)
    return render(
        request,
        "events/import.html",
        {"store": store, "form": form, "imports": recent[:RECENT_IMPORTS]},
        status=status,
    )


@role_required(Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def event_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2 before the start (what each column holds, the time zone), then the run's
    progress, then its report."""
    tenant = tenant_of(request)
    event_import = imports.event_import_get(organisation=tenant.organisation, pk=pk)
    task = event_import.task
    context = {
        "event_import": event_import,
        "store": event_import.store,
        "task": task,
        "report": imports.report_of(task),
        "delimiter_name": DELIMITER_NAMES.get(event_import.delimiter, event_import.delimiter),
    }
    if task is not None:
        if request.method == "POST":
            return redirect("events:import-detail", pk=event_import.pk)
        context["task_url"] = reverse("api:task-detail", kwargs={"pk": task.pk})
        return render(request, "events/import_detail.html", context)
    head = imports.event_import_preview(event_import=event_import)
    if head is None:
        return render(request, "events/import_detail.html", {**context, "expired": True})
    known = list(
        EventName.objects.filter(store=event_import.store).values_list("name", flat=True)[:100]
    )
    form = EventImportStartForm(
        request.POST or None, event_import=event_import, head=head, known_events=known
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                imports.event_import_start(
                    event_import=event_import,
                    actor=tenant.actor(),
                    mapping=form.mapping(),
                    time_zone=form.cleaned_data["time_zone"],
                    day_first=form.day_first(),
                    cancelled_prefix=form.cleaned_data.get("cancelled_prefix", ""),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except DomainError as exc:
                messages.info(request, str(exc))
                return redirect("events:import-detail", pk=event_import.pk)
            else:
                return redirect("events:import-detail", pk=event_import.pk)
        status = 400
    return render(
        request,
        "events/import_detail.html",
        {**context, "form": form, "head": head},
        status=status,
    )
