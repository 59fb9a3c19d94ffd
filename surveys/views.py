"""Survey pages for members: the list, the builder with its preview, results, sending and
contacts. Thin: a form parses the input, a service writes, a selector reads; the services'
validation messages are shown as they are."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Role
from accounts.permissions import role_required
from accounts.services import audit_record
from surveys import charts, copy, imports, public_views, selectors, services
from surveys.blueprints import TEMPLATES
from surveys.emails import fill
from surveys.forms import (
    TRIGGER_EVENTS,
    ContactFilterForm,
    ContactForm,
    ContactImportForm,
    PeriodForm,
    PreviewForm,
    QuestionForm,
    SendForm,
    SurveyCreateForm,
    SurveyFilterForm,
    SurveySettingsForm,
    language_label,
)
from surveys.models import Contact, Invitation, Question, Response, Survey

CONTACTS_SHOWN = 200  # per page of the contact list and the send page; search narrows it


def survey_url(survey: Survey) -> str:
    return reverse("surveys:detail", kwargs={"pk": survey.pk})


def _tenant(request: HttpRequest) -> Any:
    return request.tenant  # type: ignore[attr-defined]


def _messages_of(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _apply_errors(form: Form, exc: ValidationError, fields: dict[str, str]) -> None:
    """Show a service's ValidationError on the form: on the named field where the form has
    one (`fields` maps the service's name to the form's), else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.error_dict.items():
        target = fields.get(name, name)
        for error in errors:
            form.add_error(target if target in form.fields else None, error.messages)


def _not_saved(request: HttpRequest, form: Form) -> None:
    """Above the page: what went wrong, as the form shows it beside the fields."""
    problems = [str(e) for errors in form.errors.values() for e in errors]
    messages.error(request, _("Not saved: %(problems)s") % {"problems": " ".join(problems)})


# --- The list and creating from a template


def _with_counts(surveys: QuerySet[Survey]) -> QuerySet[Survey]:
    """Invitations and submitted responses per survey, as subqueries (no join fan-out)."""

    def count(queryset: QuerySet[Any]) -> Coalesce:
        return Coalesce(
            Subquery(
                queryset.filter(survey=OuterRef("pk"))
                .order_by()
                .values("survey")
                .annotate(n=Count("id"))
                .values("n"),
                output_field=IntegerField(),
            ),
            Value(0),
        )

    return surveys.annotate(
        invitation_count=count(Invitation.objects.all()),
        response_count=count(Response.objects.filter(submitted_at__isnull=False)),
    )


@role_required(Role.VIEWER)
@require_safe
def survey_list(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    filters = SurveyFilterForm(request.GET or None, organisation=tenant.organisation)
    params: dict[str, Any] = {}
    if filters.is_valid():
        data = filters.cleaned_data
        params = {
            "store_id": data["store"].pk if data.get("store") else None,
            "status": data.get("status") or "",
        }
    surveys = _with_counts(selectors.survey_list(organisation=tenant.organisation, **params))
    return render(
        request,
        "surveys/survey_list.html",
        {
            "surveys": surveys,
            "filters": filters,
            "filtered": any(params.values()),
            "create_form": SurveyCreateForm(organisation=tenant.organisation),
            "templates": [
                {"key": key, "label": t["label"], "description": t.get("description", "")}
                for key, t in TEMPLATES.items()
            ],
        },
    )


@role_required(Role.EDITOR)
@require_POST
def survey_create(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    form = SurveyCreateForm(request.POST, organisation=tenant.organisation)
    if form.is_valid():
        data = form.cleaned_data
        try:
            survey = services.survey_create_from_template(
                organisation=tenant.organisation,
                store=data["store"],
                actor=tenant.actor(),
                template=data["template"],
                languages=data["languages"],
                name=data["name"] or "",
            )
        except ValidationError as exc:
            _apply_errors(form, exc, {})
        else:
            messages.success(
                request,
                _("Created “%(name)s” as a draft. Check the questions, then activate it.")
                % {"name": survey.name},
            )
            return redirect("surveys:detail", pk=survey.pk)
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("surveys:list")


# --- The builder


def _builder_context(
    survey: Survey,
    *,
    settings_form: SurveySettingsForm | None = None,
    new_question_form: QuestionForm | None = None,
    failed_question: QuestionForm | None = None,
) -> dict[str, Any]:
    questions = list(survey.questions.order_by("position", "id"))
    question_forms = []
    for question in questions:
        if failed_question is not None and failed_question.question == question:
            form = failed_question
        else:
            form = QuestionForm(survey=survey, question=question, prefix=f"q{question.pk}")
        question_forms.append((question, form))
    return {
        "survey": survey,
        "questions": questions,
        "question_forms": question_forms,
        "settings_form": settings_form or SurveySettingsForm(survey=survey),
        "new_question_form": new_question_form or QuestionForm(survey=survey, prefix="new"),
        "preview_form": PreviewForm(survey=survey),
        "trigger_events": TRIGGER_EVENTS,
        "languages": [(code, language_label(code)) for code in survey.languages],
        "status_actions": _status_actions(survey),
    }


def _status_actions(survey: Survey) -> list[tuple[str, str, str]]:
    """(status, button label, button style) for the survey's current status."""
    actions = {
        Survey.Status.DRAFT: [("active", _("Activate"), "")],
        Survey.Status.ACTIVE: [
            ("paused", _("Pause"), "secondary"),
            ("closed", _("Close"), "secondary"),
        ],
        Survey.Status.PAUSED: [("active", _("Resume"), ""), ("closed", _("Close"), "secondary")],
        Survey.Status.CLOSED: [("active", _("Reopen"), "secondary")],
    }
    return actions.get(Survey.Status(survey.status), [])


def _builder(request: HttpRequest, survey: Survey, status: int = 200, **forms: Any) -> HttpResponse:
    can_edit = Role.at_least(_tenant(request).role, Role.EDITOR)
    context = _builder_context(survey, **forms) if can_edit else _summary_context(survey)
    context["can_edit_survey"] = can_edit
    return render(request, "surveys/survey_detail.html", context, status=status)


def _summary_context(survey: Survey) -> dict[str, Any]:
    """The read-only summary for viewers: each question in every language."""
    return {
        "survey": survey,
        "questions": list(survey.questions.order_by("position", "id")),
        "preview_form": PreviewForm(survey=survey),
        "languages": [(code, language_label(code)) for code in survey.languages],
    }


@role_required(Role.VIEWER)
@require_safe
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    survey = selectors.survey_get(organisation=_tenant(request).organisation, pk=pk)
    return _builder(request, survey)


@role_required(Role.EDITOR)
@require_POST
def survey_settings(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    survey = selectors.survey_get(organisation=tenant.organisation, pk=pk)
    form = SurveySettingsForm(request.POST, survey=survey)
    if form.is_valid():
        try:
            services.survey_update(survey=survey, actor=tenant.actor(), **form.survey_fields())
        except ValidationError as exc:
            _apply_errors(form, exc, {})
        else:
            messages.success(request, _("Settings saved."))
            return redirect(f"{survey_url(survey)}#settings")
    survey.refresh_from_db()
    _not_saved(request, form)
    return _builder(request, survey, status=400, settings_form=form)


@role_required(Role.EDITOR)
@require_POST
def question_add(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    survey = selectors.survey_get(organisation=tenant.organisation, pk=pk)
    form = QuestionForm(request.POST, survey=survey, prefix="new")
    if form.is_valid():
        try:
            question = services.question_create(
                survey=survey, actor=tenant.actor(), **form.question_fields()
            )
        except ValidationError as exc:
            _apply_errors(form, exc, {"text": f"text_{survey.default_language}"})
        else:
            messages.success(request, _("Question added."))
            return redirect(f"{survey_url(survey)}#question-{question.pk}")
    _not_saved(request, form)
    return _builder(request, survey, status=400, new_question_form=form)


def _question(request: HttpRequest, pk: int, question_pk: int) -> tuple[Survey, Question]:
    survey = selectors.survey_get(organisation=_tenant(request).organisation, pk=pk)
    return survey, get_object_or_404(survey.questions.all(), pk=question_pk)


@role_required(Role.EDITOR)
@require_POST
def question_edit(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    survey, question = _question(request, pk, question_pk)
    form = QuestionForm(request.POST, survey=survey, question=question, prefix=f"q{question.pk}")
    if form.is_valid():
        try:
            services.question_update(
                question=question, actor=_tenant(request).actor(), **form.question_fields()
            )
        except ValidationError as exc:
            _apply_errors(form, exc, {"text": f"text_{survey.default_language}"})
        else:
            messages.success(request, _("Question saved."))
            return redirect(f"{survey_url(survey)}#question-{question.pk}")
    # Show what was typed, against the question as it is stored.
    question.refresh_from_db()
    form.question = question
    _not_saved(request, form)
    return _builder(request, survey, status=400, failed_question=form)


@role_required(Role.EDITOR)
@require_POST
def question_move(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    survey, question = _question(request, pk, question_pk)
    order = list(survey.questions.order_by("position", "id").values_list("pk", flat=True))
    index = order.index(question.pk)
    target = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
        services.questions_reorder(survey=survey, actor=_tenant(request).actor(), order=order)
        messages.success(request, _("Question moved to place %(place)s.") % {"place": target + 1})
    return redirect(f"{survey_url(survey)}#question-{question.pk}")


@role_required(Role.EDITOR)
@require_POST
def question_delete(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    survey, question = _question(request, pk, question_pk)
    try:
        services.question_delete(question=question, actor=_tenant(request).actor())
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    else:
        messages.success(request, _("Question deleted."))
    return redirect(f"{survey_url(survey)}#questions")


@role_required(Role.EDITOR)
@require_POST
def survey_status(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    survey = selectors.survey_get(organisation=tenant.organisation, pk=pk)
    status = request.POST.get("status", "")
    try:
        survey = services.survey_set_status(survey=survey, actor=tenant.actor(), status=status)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    else:
        messages.success(
            request,
            _("“%(name)s” is now %(status)s.")
            % {"name": survey.name, "status": survey.get_status_display().lower()},
        )
    return redirect("surveys:detail", pk=survey.pk)


# --- The preview: the buyer's page, without a token and without saving


def _preview_url(survey: Survey, **params: Any) -> str:
    url = reverse("surveys:preview", kwargs={"pk": survey.pk})
    return f"{url}?{urlencode(params)}" if params else url


@role_required(Role.VIEWER)
@require_http_methods(["GET", "HEAD", "POST"])
def survey_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The public answer page's own template and question rendering, in a chosen language.

    Next, Back and Send only move between the steps: nothing is saved, no invitation or token
    exists, and a required question left empty gets the buyer's message, as on the real page.
    """
    survey = selectors.survey_get(organisation=_tenant(request).organisation, pk=pk)
    source = request.POST if request.method == "POST" else request.GET
    language = PreviewForm(
        {"language": source.get("lang") or source.get("language") or ""}, survey=survey
    ).chosen_language(survey)
    questions = list(survey.questions.order_by("position", "id"))
    store = survey.store.name
    base = {
        "survey": survey,
        "language": language,
        "store": store,
        "skip_to_content": copy.text("skip_to_content", language),
        "language_label": copy.text("language_label", language),
        "preview_language": public_views.LANGUAGE_NAMES.get(language, language),
        "back_url": survey_url(survey),
    }
    if not questions:
        return render(
            request,
            "surveys/survey_preview_message.html",
            {**base, "title": copy.text("page_title", language), "text": ""},
        )
    total = len(questions)
    step = _step(source.get("step"), total)
    values: dict[int, Any] = {}
    error = ""
    if request.method == "POST":
        action = source.get("action") or ("submit" if step == total else "next")
        question = questions[step - 1]
        value = (
            source.getlist(f"q{question.pk}")
            if question.type == Question.Type.MULTIPLE_CHOICE
            else source.get(f"q{question.pk}")
        )
        empty = not "".join(value if isinstance(value, list) else [value or ""]).strip()
        if action != "back" and question.required and empty:
            values[question.pk], error = value, "required"
        elif action == "submit":
            return render(
                request,
                "surveys/survey_preview_message.html",
                {
                    **base,
                    "title": copy.text("thank_you_title", language),
                    "text": fill(survey.text("thank_you_text", language), store=store),
                    "restart_url": _preview_url(survey, lang=language),
                },
            )
        else:
            step = max(1, min(total, step - 1 if action == "back" else step + 1))
    question = questions[step - 1]
    return render(
        request,
        "surveys/survey_preview.html",
        {
            **base,
            "language_links": [
                {
                    "code": code,
                    "name": public_views.LANGUAGE_NAMES.get(code, code),
                    "url": _preview_url(survey, lang=code, step=step),
                    "current": code == language,
                }
                for code in survey.languages
            ]
            if len(survey.languages) > 1
            else [],
            "title": copy.text("page_title", language),
            "progress": copy.text("progress", language, current=str(step), total=str(total)),
            "step": step,
            "total": total,
            "question": public_views._question_view(  # the answer page's own rendering
                question,
                survey=survey,
                language=language,
                value=values.get(question.pk),
                error=error,
            ),
            "is_last": step == total,
            "action_url": _preview_url(survey),
            "saved": False,
            "text": {
                key: copy.text(key, language)
                for key in ("next", "back", "submit", "optional", "saved")
            },
        },
    )


def _step(raw: str | None, total: int) -> int:
    try:
        return max(1, min(total, int(raw or 1)))
    except ValueError:
        return 1


# --- Results


@role_required(Role.VIEWER)
@require_safe
def survey_results(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    survey = selectors.survey_get(organisation=tenant.organisation, pk=pk)
    period = PeriodForm(request.GET or None)
    start, end = period.bounds(survey.store.time_zone)
    results = selectors.survey_results(survey=survey, start=start, end=end)
    questions = {q.pk: q for q in survey.questions.all()}
    for item in results["questions"]:
        question = questions[item["id"]]
        item["text"] = item["text"].replace("{store}", survey.store.name)
        if question.scale is not None and item.get("distribution") is not None:
            item["chart"] = charts.distribution_chart(
                question_type=question.type,
                scale=question.scale,
                distribution=item["distribution"],
                div_id=f"chart-q{question.pk}",
            )
    return render(
        request,
        "surveys/survey_results.html",
        {
            "survey": survey,
            "period": period,
            "filtered": bool(start or end),
            "results": results,
            "has_charts": any("chart" in item for item in results["questions"]),
            "moments": selectors.results_by_moment(store=survey.store, start=start, end=end),
            "can_export": Role.at_least(tenant.role, Role.ADMIN),
        },
    )


@role_required(Role.ADMIN)
@require_safe
def survey_export_csv(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    survey = selectors.survey_get(organisation=tenant.organisation, pk=pk)
    content = selectors.responses_csv(survey=survey)
    audit_record(
        organisation=survey.organisation,
        actor=tenant.actor(),
        action="survey.responses_exported",
        target=survey,
    )
    name = slugify(survey.name) or "survey"
    return _download(
        "\ufeff" + content,  # BOM: Excel reads UTF-8
        content_type="text/csv; charset=utf-8",
        filename=f"{name}-responses.csv",
    )


def _download(content: str, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # personal data
    return response


# --- Sending now


@role_required(Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def survey_send(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    survey = selectors.survey_get(organisation=tenant.organisation, pk=pk)
    contacts = selectors.contact_list(
        organisation=tenant.organisation, store_id=survey.store_id
    ).filter(unsubscribed_at__isnull=True, suppressed_at__isnull=True)
    if request.method == "POST":
        form = SendForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for e in form.non_field_errors()))
            return redirect("surveys:send", pk=survey.pk)
        chosen = (
            contacts
            if form.cleaned_data["everyone"]
            else contacts.filter(pk__in=form.cleaned_data["contact_ids"])
        )
        try:
            created = services.survey_send_to_contacts(
                survey=survey, actor=tenant.actor(), contacts=chosen.iterator(chunk_size=1000)
            )
        except ValidationError as exc:
            messages.error(request, _messages_of(exc))
            return redirect("surveys:send", pk=survey.pk)
        messages.success(
            request,
            ngettext(
                "%(count)d invitation queued. It is sent within a minute unless the contact "
                "was surveyed recently.",
                "%(count)d invitations queued. They are sent within a minute, except to "
                "contacts surveyed recently.",
                len(created),
            )
            % {"count": len(created)},
        )
        return redirect("surveys:detail", pk=survey.pk)
    search = (request.GET.get("q") or "").strip()[:200]
    shown = (
        contacts.filter(
            Q(email__icontains=search) | Q(name__icontains=search) | Q(customer_key=search)
        )
        if search
        else contacts
    )
    return render(
        request,
        "surveys/survey_send.html",
        {
            "survey": survey,
            "contacts": shown[:CONTACTS_SHOWN],
            "shown_limit": CONTACTS_SHOWN,
            "total": contacts.count(),
            "search": search,
        },
    )


# --- Contacts


@role_required(Role.EDITOR)
@require_safe
def contact_list(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    filters = ContactFilterForm(request.GET or None, organisation=tenant.organisation)
    params: dict[str, Any] = {}
    if filters.is_valid():
        data = filters.cleaned_data
        params = {
            "search": (data.get("q") or "").strip(),
            "store_id": data["store"].pk if data.get("store") else None,
        }
    contacts = selectors.contact_list(organisation=tenant.organisation, **params)
    return render(
        request,
        "surveys/contact_list.html",
        {
            "contacts": contacts[:CONTACTS_SHOWN],
            "total": contacts.count(),
            "shown_limit": CONTACTS_SHOWN,
            "filters": filters,
            "filtered": any(params.values()),
            "form": ContactForm(organisation=tenant.organisation),
            "can_admin_contacts": Role.at_least(tenant.role, Role.ADMIN),
        },
    )


@role_required(Role.EDITOR)
@require_POST
def contact_add(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    form = ContactForm(request.POST, organisation=tenant.organisation)
    if form.is_valid():
        data = form.cleaned_data
        try:
            contact, created = services.contact_upsert(
                store=data["store"],
                email=data["email"],
                name=data["name"],
                customer_key=data["customer_key"],
                language=data["language"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc, {})
        else:
            messages.success(
                request,
                (_("Added %(email)s.") if created else _("Updated %(email)s."))
                % {"email": contact.email},
            )
            return redirect("surveys:contacts")
    contacts = selectors.contact_list(organisation=tenant.organisation)
    return render(
        request,
        "surveys/contact_list.html",
        {
            "contacts": contacts[:CONTACTS_SHOWN],
            "total": contacts.count(),
            "shown_limit": CONTACTS_SHOWN,
            "filters": ContactFilterForm(organisation=tenant.organisation),
            "filtered": False,
            "form": form,
            "form_open": True,
            "can_admin_contacts": Role.at_least(tenant.role, Role.ADMIN),
        },
        status=400,
    )


@role_required(Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def contact_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV of contacts (or of bounced addresses) and show what was imported."""
    tenant = _tenant(request)
    form = ContactImportForm(
        request.POST or None, request.FILES or None, organisation=tenant.organisation
    )
    report = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        # One byte over the limit is enough for the importer to refuse the file.
        content = upload.read(imports.MAX_FILE_BYTES + 1)
        run = (
            imports.bounces_import_csv if data["kind"] == "bounces" else imports.contacts_import_csv
        )
        report = run(store=data["store"], actor=tenant.actor(), file_bytes=content)
    return render(
        request,
        "surveys/contact_import.html",
        {"form": form, "report": report, "kind": form.cleaned_data.get("kind") if report else ""},
        status=400 if report is not None and report.fatal else 200,
    )


@role_required(Role.ADMIN)
@require_safe
def contact_export(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    contact = selectors.contact_get(organisation=tenant.organisation, pk=pk)
    data = services.contact_export(contact=contact)
    audit_record(
        organisation=contact.organisation,
        actor=tenant.actor(),
        action="contact.exported",
        target=contact,
    )
    return _download(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json",
        filename=f"contact-{contact.pk}.json",
    )


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def contact_erase(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    contact: Contact = selectors.contact_get(organisation=tenant.organisation, pk=pk)
    if request.method == "POST":
        email = contact.email
        services.contact_erase(contact=contact, actor=tenant.actor())
        messages.success(
            request,
            _("Erased %(email)s with their invitations and answers.") % {"email": email},
        )
        return redirect("surveys:contacts")
    return render(
        request,
        "surveys/contact_erase.html",
        {
            "contact": contact,
            "invitations": contact.invitations.count(),
            "responses": Response.objects.filter(invitation__contact=contact).count(),
        },
    )
