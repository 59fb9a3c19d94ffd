"""Journey pages: the list, the map editor and its details form, history, exports, import, the
share view, and the organisation's personas."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import role_required, tenant_of
from accounts.selectors import member_list, store_get
from core.forms import add_service_errors
from journeys import exports, selectors, services, transfer
from journeys.forms import (
    ActivateForm,
    ExperimentEditForm,
    ExperimentForm,
    JourneyCreateForm,
    JourneyDetailsForm,
    JourneyFilterForm,
    JourneyImportForm,
    PersonaForm,
)
from journeys.models import Channel, Journey, Moment, Persona
from journeys.verdicts import result_rows, verdict_text

MAX_IMPORT_BYTES = 2 * 1024 * 1024  # a journey export is a few kB; refuse anything absurd


@role_required(Role.VIEWER)
def journey_list(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    filters = JourneyFilterForm(request.GET or None, organisation=tenant.organisation)
    params: dict[str, Any] = {}
    if filters.is_valid():
        data = filters.cleaned_data
        params = {
            "search": (data.get("q") or "").strip(),
            "store_id": data["store"].pk if data.get("store") else None,
            "status": data.get("status") or "",
        }
    journeys = selectors.journey_list(organisation=tenant.organisation, **params)
    return render(
        request,
        "journeys/journey_list.html",
        {
            "journeys": journeys,
            "filters": filters,
            "filtered": any(params.values()),
            "create_form": JourneyCreateForm(organisation=tenant.organisation),
            "create_open": "new" in request.GET,
        },
    )


@role_required(Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def journey_create(request: HttpRequest) -> HttpResponse:
    """The form lives on the journey list: a GET is sent there, with the form open."""
    if request.method != "POST":
        return redirect(f"{reverse('journeys:list')}?new#new-journey")
    tenant = tenant_of(request)
    form = JourneyCreateForm(request.POST, organisation=tenant.organisation)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("journeys:list")
    data = form.cleaned_data
    if data["template"]:
        journey = services.journey_create_from_template(
            organisation=tenant.organisation,
            actor=tenant.actor(),
            template=data["template"],
            name=data["name"] or "",
            store=data["store"],
        )
    else:
        journey = services.journey_create(
            organisation=tenant.organisation,
            actor=tenant.actor(),
            name=data["name"],
            store=data["store"],
        )
    return redirect("journeys:detail", pk=journey.pk)


@role_required(Role.EDITOR)
@require_POST
def journey_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    journey = selectors.journey_map_get(organisation=tenant.organisation, pk=pk)
    copy = services.journey_duplicate(journey=journey, actor=tenant.actor())
    messages.success(request, _("Duplicated as “%(name)s”, a draft.") % {"name": copy.name})
    return redirect("journeys:detail", pk=copy.pk)


@role_required(Role.EDITOR)
def journey_import(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    form = JourneyImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            problems = [_("The file is larger than 2 MB; a journey export is much smaller.")]
        else:
            try:
                data = json.loads(upload.read().decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                problems = [_("The file is not valid JSON (%(error)s).") % {"error": exc}]
            else:
                try:
                    journey = transfer.journey_import(
                        organisation=tenant.organisation, actor=tenant.actor(), data=data
                    )
                except ValidationError as exc:
                    problems = exc.messages
                else:
                    messages.success(
                        request, _("Imported “%(name)s” as a draft.") % {"name": journey.name}
                    )
                    return redirect("journeys:detail", pk=journey.pk)
    return render(
        request,
        "journeys/journey_import.html",
        {"form": form, "problems": problems},
        status=400 if problems else 200,
    )


def _measured_urls(journey: Journey) -> dict[str, str]:
    """Where the editor reads the measured figures of each stage: the store's funnel, for the
    store's active journey only (the funnel measures that one)."""
    if journey.status != Journey.Status.ACTIVE or journey.store_id is None:
        return {}
    return {
        "funnelUrl": reverse("api:store-funnel", kwargs={"store_id": journey.store_id}),
        "stageUrl": reverse("dashboards:stage", kwargs={"pk": journey.store_id, "stage_id": 0}),
        # The experiments recorded on this map's stages, listed under each stage's figures.
        "experimentsUrl": f"{reverse('api:experiment-list')}?journey={journey.pk}&page_size=200",
        "experimentsPageUrl": reverse("journeys:experiments", kwargs={"pk": journey.store_id}),
    }


def _map_context(journey: Journey) -> dict[str, Any]:
    return {
        "journey": journey,
        "stages": journey.stages.all(),
        "personas": journey.personas.all(),
        "moments": Moment.choices,
        "channels": Channel.choices,
    }


@role_required(Role.VIEWER)
def journey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, pk)


def _detail_page(
    request: HttpRequest,
    pk: int,
    *,
    details_form: JourneyDetailsForm | None = None,
    conflict: bool = False,
    status: int = 200,
) -> HttpResponse:
    """The map page; after a failed details save, with the typed values in `details_form`."""
    tenant = tenant_of(request)
    journey = selectors.journey_map_get(organisation=tenant.organisation, pk=pk)
    can_edit = Role.at_least(tenant.role, Role.EDITOR)
    members = [
        {"id": m.user_id, "label": m.user.name or m.user.email}
        for m in member_list(organisation=tenant.organisation)
    ]
    if can_edit and details_form is None:
        details_form = JourneyDetailsForm.for_journey(journey, organisation=tenant.organisation)
    return render(
        request,
        "journeys/journey_detail.html",
        {
            **_map_context(journey),
            "can_edit_map": can_edit,
            "editor_config": {
                "journeyUrl": f"/api/v1/journeys/{journey.pk}/",
                "apiRoot": "/api/v1/",
                "canEdit": can_edit,
                "members": members,
                "moments": [{"value": v, "label": str(label)} for v, label in Moment.choices],
                "channels": [{"value": v, "label": str(label)} for v, label in Channel.choices],
                **_measured_urls(journey),
            },
            "activate_form": ActivateForm(),
            "details_form": details_form,
            "details_conflict": conflict,
            # A new share link is shown once, right after it is made.
            "share_url": request.session.pop("new_share_url", None),
        },
        status=status,
    )


@role_required(Role.EDITOR)
@require_POST
def journey_details(request: HttpRequest, pk: int) -> HttpResponse:
    """Save name, description, store and personas, based on the version the form was loaded at.

    On a conflict nothing is saved; the page shows the latest map and keeps the typed values,
    now based on the latest version, so that saving again is a deliberate choice.
    """
    tenant = tenant_of(request)
    journey = selectors.journey_get(organisation=tenant.organisation, pk=pk)
    form = JourneyDetailsForm(request.POST, organisation=tenant.organisation)
    if form.is_valid():
        data = form.cleaned_data
        try:
            journey = services.journey_update(
                journey=journey,
                actor=tenant.actor(),
                version=data["version"],
                name=data["name"],
                description=data["description"],
                store=data["store"],
                personas=list(data["personas"]),
            )
        except services.VersionConflict as exc:
            typed = request.POST.copy()
            typed["version"] = str(exc.current)
            form = JourneyDetailsForm(typed, organisation=tenant.organisation)
            return _detail_page(request, pk, details_form=form, conflict=True, status=409)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if journey.version == data["version"]:
                messages.info(request, _("Nothing to save: the journey details are unchanged."))
            else:
                messages.success(request, _("Journey details saved."))
            return redirect("journeys:detail", pk=pk)
    return _detail_page(request, pk, details_form=form, status=400)


@role_required(Role.VIEWER)
def journey_history(request: HttpRequest, pk: int) -> HttpResponse:
    journey = selectors.journey_get(organisation=tenant_of(request).organisation, pk=pk)
    changes = selectors.journey_changes(journey=journey)[:200]
    return render(
        request, "journeys/journey_history.html", {"journey": journey, "changes": changes}
    )


def _download(content: str, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(Role.VIEWER)
def journey_export_json(request: HttpRequest, pk: int) -> HttpResponse:
    journey = selectors.journey_map_get(organisation=tenant_of(request).organisation, pk=pk)
    content = json.dumps(transfer.journey_export(journey=journey), ensure_ascii=False, indent=2)
    name = slugify(journey.name) or "journey"
    return _download(content, content_type="application/json", filename=f"{name}.json")


@role_required(Role.VIEWER)
def journey_export_csv(request: HttpRequest, pk: int) -> HttpResponse:
    journey = selectors.journey_map_get(organisation=tenant_of(request).organisation, pk=pk)
    name = slugify(journey.name) or "journey"
    return _download(
        "\ufeff" + exports.journey_touchpoints_csv(journey=journey),  # BOM: Excel reads UTF-8
        content_type="text/csv; charset=utf-8",
        filename=f"{name}-touchpoints.csv",
    )


@role_required(Role.VIEWER)
def journey_export_svg(request: HttpRequest, pk: int) -> HttpResponse:
    journey = selectors.journey_map_get(organisation=tenant_of(request).organisation, pk=pk)
    name = slugify(journey.name) or "journey"
    return _download(
        exports.journey_map_svg(journey=journey),
        content_type="image/svg+xml",
        filename=f"{name}.svg",
    )


@role_required(Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def journey_share(request: HttpRequest, pk: int) -> HttpResponse:
    """Make a share link, or revoke it. A new link replaces the current one, which stops
    working: that is said on a confirmation page first (GET, or a POST without `confirm`)."""
    tenant = tenant_of(request)
    journey = selectors.journey_get(organisation=tenant.organisation, pk=pk)
    if request.method == "POST" and request.POST.get("action") == "revoke":
        services.journey_share_link_revoke(journey=journey, actor=tenant.actor())
        messages.success(request, _("The share link no longer works."))
        return redirect("journeys:detail", pk=pk)
    replaces = bool(journey.share_token_hash)
    if request.method != "POST" or (replaces and "confirm" not in request.POST):
        return render(
            request,
            "journeys/journey_share_confirm.html",
            {"journey": journey, "replaces": replaces},
        )
    token = services.journey_share_link_create(journey=journey, actor=tenant.actor())
    request.session["new_share_url"] = request.build_absolute_uri(f"/share/journeys/{token}/")
    return redirect("journeys:detail", pk=pk)


@role_required(Role.EDITOR)
def journey_activate(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    journey = selectors.journey_get(organisation=tenant.organisation, pk=pk)
    if request.method != "POST":
        return redirect("journeys:detail", pk=pk)
    form = ActivateForm(request.POST)
    replace = (
        form.cleaned_data["replace_active"] if form.is_valid() and "confirm" in request.POST else ""
    )
    try:
        services.journey_activate(
            journey=journey,
            actor=tenant.actor(),
            version=journey.version,
            replace_active=replace,
        )
    except services.ActiveJourneyExists as exc:
        return render(
            request,
            "journeys/journey_activate_confirm.html",
            # A fresh form the first time: nothing was chosen yet, so no error to show.
            {
                "journey": journey,
                "active": exc.active,
                "form": form if "confirm" in request.POST else ActivateForm(),
            },
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("journeys:detail", pk=pk)
    messages.success(
        request,
        _("“%(name)s” is now the active journey of %(store)s.")
        % {"name": journey.name, "store": journey.store},
    )
    return redirect("journeys:detail", pk=pk)


@role_required(Role.EDITOR)
@require_POST
def journey_status(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    journey = selectors.journey_get(organisation=tenant.organisation, pk=pk)
    try:
        services.journey_set_status(
            journey=journey,
            actor=tenant.actor(),
            version=journey.version,
            status=request.POST.get("status", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("journeys:detail", pk=pk)


@role_required(Role.EDITOR)
@require_POST
def journey_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    journey = selectors.journey_get(organisation=tenant.organisation, pk=pk)
    services.journey_delete(journey=journey, actor=tenant.actor(), version=journey.version)
    messages.success(request, _("Journey “%(name)s” deleted.") % {"name": journey.name})
    return redirect("journeys:list")


def journey_shared(request: HttpRequest, token: str) -> HttpResponse:
    """Public, read-only view through a share link; an unknown or revoked token is a 404."""
    journey = selectors.journey_get_by_share_token(token=token)
    if journey is None:
        raise Http404
    response = render(request, "journeys/journey_shared.html", _map_context(journey))
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"  # no copy may outlive the link's revocation
    return response


# --- Personas


@role_required(Role.VIEWER)
def persona_list(request: HttpRequest) -> HttpResponse:
    personas = selectors.persona_list_with_journeys(organisation=tenant_of(request).organisation)
    return render(
        request, "journeys/persona_list.html", {"personas": personas, "form": PersonaForm()}
    )


def _persona_form(request: HttpRequest, persona: Persona | None) -> HttpResponse:
    """Add (persona None) or edit a persona; the same form page serves both."""
    tenant = tenant_of(request)
    initial = (
        {f: getattr(persona, f) for f in ("name", "description", "goals", "frustrations")}
        if persona is not None
        else None
    )
    form = PersonaForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if persona is None:
                saved = services.persona_create(
                    organisation=tenant.organisation, actor=tenant.actor(), **form.cleaned_data
                )
                message = _("Persona “%(name)s” added.")
            else:
                saved = services.persona_update(
                    persona=persona, actor=tenant.actor(), **form.cleaned_data
                )
                message = _("Persona “%(name)s” saved.")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, message % {"name": saved.name})
            return redirect("journeys:personas")
    return render(
        request,
        "journeys/persona_form.html",
        {"form": form, "persona": persona},
        status=400 if form.is_bound and form.errors else 200,
    )


@role_required(Role.EDITOR)
def persona_create(request: HttpRequest) -> HttpResponse:
    return _persona_form(request, None)


@role_required(Role.EDITOR)
def persona_edit(request: HttpRequest, pk: int) -> HttpResponse:
    persona = selectors.persona_get(organisation=tenant_of(request).organisation, pk=pk)
    return _persona_form(request, persona)


@role_required(Role.EDITOR)
def persona_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """A persona no journey uses goes at once; otherwise the page names the journeys that use
    it and asks to confirm (they lose the persona, nothing else)."""
    tenant = tenant_of(request)
    persona = selectors.persona_get(organisation=tenant.organisation, pk=pk)
    journeys = list(selectors.persona_journeys(persona=persona))
    if request.method == "POST" and (not journeys or request.POST.get("confirm")):
        services.persona_delete(persona=persona, actor=tenant.actor())
        messages.success(request, _("Persona “%(name)s” deleted.") % {"name": persona.name})
        return redirect("journeys:personas")
    return render(
        request,
        "journeys/persona_delete_confirm.html",
        {"persona": persona, "journeys": journeys},
    )


# --- Experiments


@role_required(Role.VIEWER)
@require_http_methods(["GET", "HEAD", "POST"])
def experiment_list(request: HttpRequest, pk: int) -> HttpResponse:
    """A store's experiments with their stored results; editors record new ones here."""
    tenant = tenant_of(request)
    store = store_get(organisation=tenant.organisation, pk=pk)
    can_edit = Role.at_least(tenant.role, Role.EDITOR)
    journey = Journey.objects.filter(store=store, status=Journey.Status.ACTIVE).first()
    form = ExperimentForm(
        request.POST if request.method == "POST" else None,
        journey=journey,
        initial={"started_on": None},
    )
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                experiment = services.experiment_create(
                    touchpoint=data.pop("touchpoint"), actor=tenant.actor(), **data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Recorded “%(title)s”. Its result is computed in the background.")
                    % {"title": experiment.title},
                )
                return redirect("journeys:experiments", pk=store.pk)
    experiments = list(selectors.experiment_list(organisation=tenant.organisation, store_id=pk))
    rows = [
        {
            "experiment": experiment,
            "verdict": verdict_text(experiment),
            "figures": result_rows(experiment),
            "overlapping": selectors.experiments_overlapping(experiment, experiments),
        }
        for experiment in experiments
    ]
    return render(
        request,
        "journeys/experiment_list.html",
        {
            "store": store,
            "journey": journey,
            "rows": rows,
            "form": form,
            "can_edit": can_edit,
            "form_open": request.method == "POST",
        },
    )


@role_required(Role.EDITOR)
@require_http_methods(["GET", "HEAD", "POST"])
def experiment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct an experiment (its dates, metric, windows or words); its result is computed
    again in the background."""
    tenant = tenant_of(request)
    experiment = selectors.experiment_get(organisation=tenant.organisation, pk=pk)
    initial = {name: getattr(experiment, name) for name in services.EXPERIMENT_FIELDS}
    form = ExperimentEditForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.experiment_update(
                experiment=experiment, actor=tenant.actor(), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Saved “%(title)s”. Its result is computed again in the background.")
                % {"title": form.cleaned_data["title"]},
            )
            url = reverse("journeys:experiments", kwargs={"pk": experiment.store_id})
            return redirect(f"{url}#experiment-{experiment.pk}")
    return render(
        request, "journeys/experiment_edit.html", {"experiment": experiment, "form": form}
    )


@role_required(Role.EDITOR)
@require_POST
def experiment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = tenant_of(request)
    experiment = selectors.experiment_get(organisation=tenant.organisation, pk=pk)
    store_id = experiment.store_id
    services.experiment_delete(experiment=experiment, actor=tenant.actor())
    messages.success(
        request, _("Deleted the experiment “%(title)s”.") % {"title": experiment.title}
    )
    return redirect("journeys:experiments", pk=store_id)
