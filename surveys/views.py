"""Survey pages for members: the list, the builder with its preview, results, sending and
contacts. Thin: a form parses the input, a service writes, a selector reads; the services'
validation messages are shown as they are."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Role, Store
from accounts.permissions import role_required, tenant_of
from accounts.selectors import store_get, store_list
from core.forms import add_service_errors
from surveys import buyer_texts, charts, imports, public_views, selectors, services
from surveys.blueprints import TEMPLATES
from surveys.forms import (
    TRIGGER_EVENTS,
    ContactFilterForm,
    ContactForm,
    ContactImportForm,
    ContactMappingForm,
    PeriodForm,
    PreviewForm,
    QuestionForm,
    SendForm,
    StoreSurveySettingsForm,
    SurveyCreateForm,
    SurveyFilterForm,
    SurveySettingsForm,
    language_label,
)
from surveys.models import Contact, Question, Response, Survey

CONTACTS_SHOWN = 200  # per page of the contact list and the send page; search narrows it


def survey_url(survey: Survey) -> str:
    return reverse("surveys:detail", kwargs={"pk": survey.pk})


def _messages_of(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _not_saved(request: HttpRequest, form: Form) -> None:
    """Above the page: what went wrong, as the form shows it beside the fields."""
    problems = [str(e) for errors in form.errors.values() for e in errors]
    messages.error(request, _("Not saved: %(problems)s") % {"problems": " ".join(problems)})


# --- The list and creating from a template


@role_required(Role.VIEWER)
@require_safe
def survey_list(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    filters = SurveyFilterForm(request.GET or None, organisation=tenant.organisation)
    params: dict[str, Any] = {}
    if filters.is_valid():
        data = filters.cleaned_data
        params = {
            "store_id": data["store"].pk if data.get("store") else None,
            "status": data.get("status") or "",
        }
    surveys = selectors.survey_list_with_counts(organisation=tenant.organisation, **params)
    return render(
        request,
        "surveys/survey_list.html",
        {
            "surveys": surveys,
            "filters": filters,
            "filtered": any(params.values()),
            "create_form": SurveyCreateForm(organisation=tenant.organisation),
            "create_open": "new" in request.GET,
            "templates": [
                {"key": key, "label": t["label"], "description": t.get("description", "")}
                for key, t in TEMPLATES.items()
            ],
        },
    )


@role_required(Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def survey_create(request: HttpRequest) -> HttpResponse:
    """The form lives on the survey list: a GET (a bookmark, a typed URL) is sent there."""
    if request.method != "POST":
        return redirect(f"{reverse('surveys:list')}?new#new-survey")
    tenant = tenant_of(request)
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
            add_service_errors(form, exc)
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
            ("closed", pgettext("close a survey to answers", "Close"), "secondary"),
        ],
        Survey.Status.PAUSED: [
            ("active", _("Resume"), ""),
            ("closed", pgettext("close a survey to answers", "Close"), "secondary"),
        ],
        Survey.Status.CLOSED: [("active", _("Reopen"), "secondary")],
    }
    return actions.get(Survey.Status(survey.status), [])


def _builder(request: HttpRequest, survey: Survey, status: int = 200, **forms: Any) -> HttpResponse:
    can_edit = Role.at_least(tenant_of(request).role, Role.EDITOR)
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
    survey = selectors.survey_get(organisation=tenant_of(request).organisation, pk=pk)
    return _builder(request, survey)


@role_required(Role.EDITOR)
@require_POST
def survey_settings(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    survey = selectors.survey_get(organisation=tenant.organisation, pk=pk)
    form = SurveySettingsForm(request.POST, survey=survey)
    if form.is_valid():
        try:
            services.survey_update(survey=survey, actor=tenant.actor(), **form.survey_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect(f"{survey_url(survey)}#settings")
    survey.refresh_from_db()
    _not_saved(request, form)
    return _builder(request, survey, status=400, settings_form=form)


@role_required(Role.EDITOR)
@require_POST
def question_add(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    survey = selectors.survey_get(organisation=tenant.organisation, pk=pk)
    form = QuestionForm(request.POST, survey=survey, prefix="new")
    if form.is_valid():
        try:
            question = services.question_create(
                survey=survey, actor=tenant.actor(), **form.question_fields()
            )
        except ValidationError as exc:
            add_service_errors(form, exc, {"text": f"text_{survey.default_language}"})
        else:
            messages.success(request, _("Question added."))
            return redirect(f"{survey_url(survey)}#question-{question.pk}")
    _not_saved(request, form)
    return _builder(request, survey, status=400, new_question_form=form)


def _question(request: HttpRequest, pk: int, question_pk: int) -> tuple[Survey, Question]:
    survey = selectors.survey_get(organisation=tenant_of(request).organisation, pk=pk)
    return survey, get_object_or_404(survey.questions.all(), pk=question_pk)


@role_required(Role.EDITOR)
@require_POST
def question_edit(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    survey, question = _question(request, pk, question_pk)
    form = QuestionForm(request.POST, survey=survey, question=question, prefix=f"q{question.pk}")
    if form.is_valid():
        try:
            services.question_update(
                question=question, actor=tenant_of(request).actor(), **form.question_fields()
            )
        except ValidationError as exc:
            add_service_errors(form, exc, {"text": f"text_{survey.default_language}"})
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
        services.questions_reorder(survey=survey, actor=tenant_of(request).actor(), order=order)
        messages.success(request, _("Question moved to place %(place)s.") % {"place": target + 1})
    return redirect(f"{survey_url(survey)}#question-{question.pk}")


@role_required(Role.EDITOR)
@require_POST
def question_delete(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    survey, question = _question(request, pk, question_pk)
    try:
        services.question_delete(question=question, actor=tenant_of(request).actor())
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    else:
        messages.success(request, _("Question deleted."))
    return redirect(f"{survey_url(survey)}#questions")


@role_required(Role.EDITOR)
@require_POST
def survey_status(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    survey = selectors.survey_get(organisation=tenant.organisation, pk=pk)
    status = request.POST.get("status", "")
    try:
        survey = services.survey_set_status(survey=survey, actor=tenant.actor(), status=status)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    else:
        messages.success(
            request,
            _("Status of “%(name)s”: %(status)s.")
            % {"name": survey.name, "status": survey.get_status_display()},
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
    survey = selectors.survey_get(organisation=tenant_of(request).organisation, pk=pk)
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
        "skip_to_content": buyer_texts.text("skip_to_content", language),
        "language_label": buyer_texts.text("language_label", language),
        "preview_language": public_views.LANGUAGE_NAMES.get(language, language),
        "back_url": survey_url(survey),
    }
    if not questions:
        return render(
            request,
            "surveys/survey_preview_message.html",
            {**base, "title": buyer_texts.text("page_title", language), "text": ""},
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
                    "title": buyer_texts.text("thank_you_title", language),
                    "text": buyer_texts.fill(survey.text("thank_you_text", language), store=store),
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
            "title": buyer_texts.text("page_title", language),
            "progress": buyer_texts.text("progress", language, current=str(step), total=str(total)),
            "step": step,
            "total": total,
            "question": public_views.question_view(  # the answer page's own rendering
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
                key: buyer_texts.text(key, language)
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
    tenant = tenant_of(request)
    survey = selectors.survey_get(organisation=tenant.organisation, pk=pk)
    period = PeriodForm(request.GET or None)
    start, end = period.bounds(survey.store.time_zone)
    results = selectors.survey_results(survey=survey, start=start, end=end)
    questions = {q.pk: q for q in survey.questions.all()}
    for item in results["questions"]:
        question = questions[item["id"]]
        item["text"] = item["text"].replace("{store}", survey.store.name)
        if question.scale is not None and item.get("distribution") is not None:
            item["chart"] = charts.distribution_figure(
                question_type=question.type,
                scale=question.scale,
                distribution=item["distribution"],
            )
            item["chart_id"] = f"chart-q{question.pk}"
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
    tenant = tenant_of(request)
    survey = selectors.survey_get(organisation=tenant.organisation, pk=pk)
    content = services.survey_responses_export(survey=survey, actor=tenant.actor())
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
    tenant = tenant_of(request)
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
            summary = services.survey_send_to_contacts(
                survey=survey, actor=tenant.actor(), contacts=chosen.iterator(chunk_size=1000)
            )
        except ValidationError as exc:
            messages.error(request, _messages_of(exc))
            return redirect("surveys:send", pk=survey.pk)
        messages.success(request, _sent_message(summary, store=survey.store))
        return redirect("surveys:detail", pk=survey.pk)
    search = (request.GET.get("q") or "").strip()[:200]
    shown = (
        contacts.filter(
            Q(email__icontains=search) | Q(name__icontains=search) | Q(customer_key=search)
        )
        if search
        else contacts
    )
    # Said before sending: who would not be invited again, and who would not be emailed now.
    outlook = selectors.survey_send_outlook(
        survey=survey, contact_ids=contacts.values("pk"), now=timezone.now()
    )
    total = contacts.count()
    return render(
        request,
        "surveys/survey_send.html",
        {
            "survey": survey,
            "contacts": shown[:CONTACTS_SHOWN],
            "shown_limit": CONTACTS_SHOWN,
            "total": total,
            "search": search,
            "already_invited": outlook.already_invited,
            "over_cap": outlook.over_cap,
            "not_invited": total - len(outlook.already_invited),
            "fatigue_days": selectors.store_survey_settings_get(store=survey.store).fatigue_days,
        },
    )


def _sent_message(summary: services.SendSummary, *, store: Store) -> str:
    """The counts ("2 invitations queued, 1 contact already invited, 1 over the fatigue
    cap."), then what becomes of each."""
    counts = [
        ngettext("%(count)d invitation queued", "%(count)d invitations queued", summary.queued)
        % {"count": summary.queued}
    ]
    notes = []
    if summary.queued:
        notes.append(_("Each queued invitation is sent within a minute."))
    if summary.already_invited:
        counts.append(
            ngettext(
                "%(count)d contact already invited",
                "%(count)d contacts already invited",
                summary.already_invited,
            )
            % {"count": summary.already_invited}
        )
        notes.append(
            _("Contacts who already have an invitation for this survey are not invited again.")
        )
    if summary.capped:
        fatigue_days = selectors.store_survey_settings_get(store=store).fatigue_days
        counts.append(
            ngettext(
                "%(count)d contact over the fatigue cap",
                "%(count)d contacts over the fatigue cap",
                summary.capped,
            )
            % {"count": summary.capped}
        )
        notes.append(
            ngettext(
                "Those over the cap had a survey less than %(days)d day ago: they are not "
                "emailed now.",
                "Those over the cap had a survey less than %(days)d days ago: they are not "
                "emailed now.",
                fatigue_days,
            )
            % {"days": fatigue_days}
        )
    return " ".join([", ".join(counts) + ".", *notes])


# --- A store's sending settings (admins manage stores)


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def store_survey_settings(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    store = store_get(organisation=tenant.organisation, pk=pk)
    current = selectors.store_survey_settings_get(store=store)
    form = StoreSurveySettingsForm(
        request.POST if request.method == "POST" else None, current=current
    )
    if form.is_bound and form.is_valid():
        try:
            services.store_survey_settings_update(
                store=store, actor=tenant.actor(), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Sending settings of %(store)s saved.") % {"store": store.name}
            )
            return redirect("surveys:sending-settings", pk=store.pk)
    if form.is_bound:
        _not_saved(request, form)
    return render(
        request,
        "surveys/store_survey_settings.html",
        {
            "store": store,
            "form": form,
            "from_address": parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
        },
        status=400 if form.is_bound else 200,
    )


# --- Contacts


@role_required(Role.EDITOR)
@require_safe
def contact_list(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
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
            "form_open": "new" in request.GET,
            "can_admin_contacts": Role.at_least(tenant.role, Role.ADMIN),
        },
    )


@role_required(Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def contact_add(request: HttpRequest) -> HttpResponse:
    """The form lives on the contact list: a GET is sent there, with the form open."""
    if request.method != "POST":
        return redirect(f"{reverse('surveys:contacts')}?new#add-contact")
    tenant = tenant_of(request)
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
            add_service_errors(form, exc)
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


# --- Contacts: the CSV import in two steps, the file and then its columns
#
# Between the steps the file travels with the page, not on the server: the column form
# carries it zlib-compressed in a hidden field, signed with a TimestampSigner salted with the
# organisation and the user, so only a file this user uploaded here in the last
# IMPORT_UPLOAD_MAX_AGE is imported, into the store chosen with it, and decompressing it is
# safe. No copy is kept in the session, the cache or on disk, so nothing is left behind when
# the user walks away, and several servers need nothing shared; the pages are sent with
# Cache-Control: no-store. Django refuses a POST whose non-file fields exceed
# DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default), so a file that does not fit compressed
# is not carried: the token holds only its SHA-256 and the column form asks for the same
# file again.

IMPORT_UPLOAD_MAX_AGE = 30 * 60  # seconds
# Translators: a CSV file's column separator, after "Column separator:".
DELIMITER_NAMES = {
    ",": _lazy("comma"),
    ";": _lazy("semicolon"),
    "\t": _lazy("tab"),
    "|": _lazy("vertical bar"),
}


class UploadGone(Exception):
    """The carried file cannot be used; the message says what to do."""


def _upload_signer(tenant: Any) -> signing.TimestampSigner:
    user_id = tenant.user.pk if tenant.user is not None else ""
    return signing.TimestampSigner(
        salt=f"surveys.contact-import:{tenant.organisation.pk}:{user_id}"
    )


def _carry_limit() -> int:
    """Bytes of the signed file the column form may carry: the POST limit, less room for
    the other fields (one select per column, the CSRF token)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 8 * 1024 * 1024
    return max(0, limit - 64 * 1024)


def _upload_sign(tenant: Any, store: Store, content: bytes) -> tuple[str, bool]:
    """The hidden field's value, and whether it carries the file itself."""
    digest = hashlib.sha256(content).hexdigest()
    data = ""
    # CSV compresses 3-10 times; a file 16 times the limit will not fit, so spare the work.
    if len(content) <= 16 * _carry_limit():
        data = base64.urlsafe_b64encode(zlib.compress(content, 6)).decode("ascii")
        if len(data) + 200 > _carry_limit():  # 200: the store, digest, time and signature
            data = ""
    token = _upload_signer(tenant).sign(f"{store.pk}.{digest}.{data}")
    return token, bool(data)


def _upload_open(tenant: Any, token: str) -> tuple[int, str, bytes | None]:
    """(store id, SHA-256, the file or None when it was not carried), or UploadGone."""
    try:
        value = _upload_signer(tenant).unsign(token, max_age=IMPORT_UPLOAD_MAX_AGE)
    except signing.SignatureExpired:
        raise UploadGone(
            ngettext(
                "An upload is valid for %(minutes)s minute. Upload the file again.",
                "An upload is valid for %(minutes)s minutes. Upload the file again.",
                IMPORT_UPLOAD_MAX_AGE // 60,
            )
            % {"minutes": IMPORT_UPLOAD_MAX_AGE // 60}
        ) from None
    except signing.BadSignature:
        raise UploadGone(_("The upload could not be read. Upload the file again.")) from None
    store_id, digest, data = value.split(".", 2)
    if not data:
        return int(store_id), digest, None
    # Signed by us, so not a decompression bomb; the importer's size limit applies anyway.
    content = zlib.decompressobj().decompress(
        base64.urlsafe_b64decode(data), imports.MAX_FILE_BYTES + 1
    )
    return int(store_id), digest, content


def _import_page(
    request: HttpRequest,
    *,
    form: ContactImportForm,
    report: imports.ImportReport | None = None,
    kind: str = "",
    mapping_form: ContactMappingForm | None = None,
    store: Store | None = None,
    preview: dict[str, Any] | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "surveys/contact_import.html",
        {
            "form": form,
            "report": report,
            "kind": kind,
            "mapping_form": mapping_form,
            "store": store,
            "preview": preview or {},
            "delimiter_name": DELIMITER_NAMES.get((preview or {}).get("delimiter", ""), ""),
            "upload_minutes": IMPORT_UPLOAD_MAX_AGE // 60,
            "problem": problem,
        },
        status=status,
    )


@never_cache  # the pages show the file's rows: personal data
@role_required(Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def contact_import(request: HttpRequest) -> HttpResponse:
    """Step 1: upload a CSV of contacts, then see and correct what each column holds (step 2,
    _contact_import_columns); or a list of bounced addresses, imported at once."""
    tenant = tenant_of(request)
    if request.method == "POST" and "upload" in request.POST:
        return _contact_import_columns(request, tenant)
    form = ContactImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES or None,
        organisation=tenant.organisation,
    )
    if not form.is_bound or not form.is_valid():
        return _import_page(request, form=form, status=400 if form.is_bound else 200)
    data = form.cleaned_data
    store = data["store"]
    # One byte over the limit is enough for the importer to refuse the file.
    content = data["file"].read(imports.MAX_FILE_BYTES + 1)
    if data["kind"] == "bounces":
        report = imports.bounces_import_csv(store=store, actor=tenant.actor(), file_bytes=content)
        return _import_page(
            request, form=form, report=report, kind="bounces", status=400 if report.fatal else 200
        )
    preview = imports.contacts_import_preview(store=store, file_bytes=content)
    if preview["fatal"]:
        report = imports.ImportReport(fatal=preview["fatal"])
        return _import_page(request, form=form, report=report, kind="contacts", status=400)
    token, carried = _upload_sign(tenant, store, content)
    mapping_form = ContactMappingForm(
        initial={"upload": token}, preview=preview, needs_file=not carried
    )
    return _import_page(request, form=form, mapping_form=mapping_form, store=store, preview=preview)


def _contact_import_columns(request: HttpRequest, tenant: Any) -> HttpResponse:
    """Step 2: import the carried file with the columns as chosen."""
    fresh = ContactImportForm(organisation=tenant.organisation)
    try:
        store_id, digest, content = _upload_open(tenant, request.POST["upload"])
        store = store_list(organisation=tenant.organisation).filter(pk=store_id).first()
        if store is None:
            raise UploadGone(_("The store was deleted meanwhile. Nothing was imported."))
        carried = content is not None
        if content is None:
            upload = request.FILES.get("file")
            content = upload.read(imports.MAX_FILE_BYTES + 1) if upload else b""
            if hashlib.sha256(content).hexdigest() != digest:
                raise UploadGone(
                    _("Choose the same file again, or upload the new one from the start.")
                )
    except UploadGone as exc:
        return _import_page(request, form=fresh, problem=str(exc), status=400)
    fresh = ContactImportForm(
        organisation=tenant.organisation, initial={"store": store.pk, "kind": "contacts"}
    )
    preview = imports.contacts_import_preview(store=store, file_bytes=content)
    if preview["fatal"]:  # read in step 1 already; only a changed importer gets here
        report = imports.ImportReport(fatal=preview["fatal"])
        return _import_page(request, form=fresh, report=report, kind="contacts", status=400)
    form = ContactMappingForm(request.POST, request.FILES, preview=preview, needs_file=not carried)
    if not form.is_valid():
        return _import_page(
            request, form=fresh, mapping_form=form, store=store, preview=preview, status=400
        )
    report = imports.contacts_import_csv(
        store=store, actor=tenant.actor(), file_bytes=content, mapping=form.mapping()
    )
    if report.fatal:
        # The columns can be chosen again: the same signed file is still on the page.
        return _import_page(
            request,
            form=fresh,
            report=report,
            kind="contacts",
            mapping_form=form,
            store=store,
            preview=preview,
            status=400,
        )
    return _import_page(request, form=fresh, report=report, kind="contacts")


@role_required(Role.ADMIN)
@require_safe
def contact_export(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    contact = get_object_or_404(selectors.contact_list(organisation=tenant.organisation), pk=pk)
    data = services.contact_export_audited(contact=contact, actor=tenant.actor())
    return _download(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json",
        filename=f"contact-{contact.pk}.json",
    )


@role_required(Role.ADMIN)
@require_http_methods(["GET", "HEAD", "POST"])
def contact_erase(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    contact: Contact = get_object_or_404(
        selectors.contact_list(organisation=tenant.organisation), pk=pk
    )
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
