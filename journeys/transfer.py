"""The lossless JSON format of a journey map: export, and import as a new draft.

A document round-trips: importing an export creates the same map (see the README's "Journey
export format"), and an invalid one creates nothing and lists every problem with its path.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Membership, Organisation, Store, User
from accounts.selectors import store_list
from accounts.services import Actor
from journeys.models import (
    EVENT_NAME,
    TEXT_LIMIT,
    Channel,
    Journey,
    JourneyChange,
    Moment,
    Persona,
    Stage,
    Touchpoint,
)

EXPORT_FORMAT = "momentmap.journey"
EXPORT_VERSION = 1


def journey_export(*, journey: Journey) -> dict[str, Any]:
    """Everything needed to recreate the journey; ids are left out, order is kept."""
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_VERSION,
        "journey": {
            "name": journey.name,
            "description": journey.description,
            "store": journey.store.name if journey.store else None,
            "personas": [
                {
                    "name": p.name,
                    "description": p.description,
                    "goals": p.goals,
                    "frustrations": p.frustrations,
                }
                for p in journey.personas.all()
            ],
            "stages": [
                {
                    "name": s.name,
                    "moment": s.moment,
                    "customer_goal": s.customer_goal,
                    "description": s.description,
                    "touchpoints": [
                        {
                            "name": t.name,
                            "channel": t.channel,
                            "is_moment_of_truth": t.is_moment_of_truth,
                            "emotion": t.emotion,
                            "pain_points": t.pain_points,
                            "opportunities": t.opportunities,
                            "owner": t.owner.email if t.owner else None,
                            "event_names": list(t.event_names),
                        }
                        for t in s.touchpoints.all()
                    ],
                }
                for s in journey.stages.all()
            ],
        },
    }


def _text(
    value: Any, path: str, errors: list[str], *, required: bool = False, limit: int = 0
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(_("%(path)s must be text.") % {"path": path})
        return ""
    if required and not value.strip():
        errors.append(_("%(path)s is required.") % {"path": path})
    if "\x00" in value:  # PostgreSQL's text cannot hold it
        errors.append(_("%(path)s contains a NUL character.") % {"path": path})
    if limit and len(value) > limit:
        errors.append(
            ngettext(
                "%(path)s is longer than %(limit)s character.",
                "%(path)s is longer than %(limit)s characters.",
                limit,
            )
            % {"path": path, "limit": limit}
        )
    return value


def _validate_import(data: Any, organisation: Organisation) -> tuple[dict[str, Any], list[str]]:
    """Check the whole document first and list every problem, before anything is written."""
    errors: list[str] = []
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        return {}, [
            _("This is not a MomentMap journey export (format “%(f)s” expected).")
            % {"f": EXPORT_FORMAT}
        ]
    if data.get("format_version") != EXPORT_VERSION:
        errors.append(
            _("Unsupported format_version %(v)s (this MomentMap reads %(ours)s).")
            % {"v": data.get("format_version"), "ours": EXPORT_VERSION}
        )
    journey = data.get("journey")
    if not isinstance(journey, dict):
        return {}, [*errors, _("“journey” must be an object.")]
    _text(journey.get("name"), "journey.name", errors, required=True, limit=160)
    _text(journey.get("description"), "journey.description", errors, limit=TEXT_LIMIT)
    store_name = journey.get("store")
    if store_name is not None and not isinstance(store_name, str):
        errors.append(_("journey.store must be a store name or null."))
    personas = journey.get("personas", [])
    if not isinstance(personas, list):
        errors.append(_("journey.personas must be a list."))
        personas = []
    for i, persona in enumerate(personas):
        path = f"journey.personas[{i}]"
        if not isinstance(persona, dict):
            errors.append(_("%(path)s must be an object.") % {"path": path})
            continue
        _text(persona.get("name"), f"{path}.name", errors, required=True, limit=120)
        for key in ("description", "goals", "frustrations"):
            _text(persona.get(key), f"{path}.{key}", errors, limit=TEXT_LIMIT)
    stages = journey.get("stages", [])
    if not isinstance(stages, list):
        errors.append(_("journey.stages must be a list."))
        stages = []
    seen_events: dict[str, int] = {}
    moments: list[str] = []
    emails = set(
        Membership.objects.filter(organisation=organisation).values_list("user__email", flat=True)
    )
    for i, stage in enumerate(stages):
        path = f"journey.stages[{i}]"
        if not isinstance(stage, dict):
            errors.append(_("%(path)s must be an object.") % {"path": path})
            continue
        _text(stage.get("name"), f"{path}.name", errors, required=True, limit=120)
        moment = stage.get("moment") or ""
        if moment and moment not in Moment.values:
            errors.append(
                _("%(path)s.moment: unknown code “%(code)s” (use %(codes)s or empty).")
                % {"path": path, "code": moment, "codes": ", ".join(Moment.values)}
            )
        elif moment:
            moments.append(moment)
        for key in ("customer_goal", "description"):
            _text(stage.get(key), f"{path}.{key}", errors, limit=TEXT_LIMIT)
        touchpoints = stage.get("touchpoints", [])
        if not isinstance(touchpoints, list):
            errors.append(_("%(path)s.touchpoints must be a list.") % {"path": path})
            continue
        for j, tp in enumerate(touchpoints):
            tpath = f"{path}.touchpoints[{j}]"
            if not isinstance(tp, dict):
                errors.append(_("%(path)s must be an object.") % {"path": tpath})
                continue
            _text(tp.get("name"), f"{tpath}.name", errors, required=True, limit=160)
            if tp.get("channel") not in Channel.values:
                errors.append(
                    _("%(path)s.channel: “%(value)s” is not one of %(choices)s.")
                    % {
                        "path": tpath,
                        "value": tp.get("channel"),
                        "choices": ", ".join(Channel.values),
                    }
                )
            emotion = tp.get("emotion", 0)
            if not isinstance(emotion, int) or isinstance(emotion, bool) or not -2 <= emotion <= 2:
                errors.append(
                    _("%(path)s.emotion must be a whole number from -2 to 2.") % {"path": tpath}
                )
            if not isinstance(tp.get("is_moment_of_truth", False), bool):
                errors.append(
                    _("%(path)s.is_moment_of_truth must be true or false.") % {"path": tpath}
                )
            for key in ("pain_points", "opportunities"):
                _text(tp.get(key), f"{tpath}.{key}", errors, limit=TEXT_LIMIT)
            owner = tp.get("owner")
            if owner is not None and owner not in emails:
                errors.append(
                    _("%(path)s.owner: %(email)s is not a member of this organisation.")
                    % {"path": tpath, "email": owner}
                )
            names = tp.get("event_names", [])
            if not isinstance(names, list):
                errors.append(_("%(path)s.event_names must be a list.") % {"path": tpath})
                continue
            for name in names:
                if not isinstance(name, str) or not EVENT_NAME.match(name):
                    errors.append(
                        _("%(path)s.event_names: “%(name)s” is not a valid event name.")
                        % {"path": tpath, "name": name}
                    )
                elif seen_events.get(name, i) != i:
                    errors.append(
                        _(
                            "%(path)s.event_names: “%(name)s” already signals stage %(n)s; "
                            "an event name can signal only one stage."
                        )
                        % {"path": tpath, "name": name, "n": seen_events[name] + 1}
                    )
                else:
                    seen_events[name] = i
    if len(moments) != len(set(moments)):
        errors.append(_("Each moment code can be used once per journey."))
    elif moments != sorted(moments, key=Moment.order):
        errors.append(
            _("Moments of truth must be in the order LZMOT, ZMOT, FMOT, SMOT, TMOT, UMOT.")
        )
    return journey, errors


@transaction.atomic
def journey_import(
    *,
    organisation: Organisation,
    actor: Actor,
    data: Any,
    template_label: str | Promise = "",
    into_store: Store | None = None,
) -> Journey:
    """Create a draft journey from an export, in one transaction; on any problem nothing is
    created and ValidationError lists every problem found. With `into_store` (a store's API
    key) the journey goes into that store, and a document naming another store is refused."""
    doc, errors = _validate_import(data, organisation)
    if not errors and into_store is not None and doc.get("store") not in (None, into_store.name):
        errors.append(
            _("journey.store must be %(store)s (this key's store) or null.")
            % {"store": into_store.name}
        )
    if errors:
        raise ValidationError(errors)
    store = into_store
    if doc.get("store") and store is None:
        store = store_list(organisation=organisation).filter(name=doc["store"]).first()
    personas = []
    for p in doc.get("personas", []):
        persona = Persona.objects.filter(organisation=organisation, name=p["name"].strip()).first()
        if persona is None:
            persona = Persona.objects.create(
                organisation=organisation,
                name=p["name"].strip(),
                description=p.get("description") or "",
                goals=p.get("goals") or "",
                frustrations=p.get("frustrations") or "",
            )
        personas.append(persona)
    owners = {u.email: u for u in User.objects.filter(memberships__organisation=organisation)}
    journey = Journey.objects.create(
        organisation=organisation,
        name=doc["name"].strip(),
        description=doc.get("description") or "",
        store=store,
        created_by=actor.user,
        updated_by=actor.user,
    )
    journey.personas.set(personas)
    touchpoints = []
    for i, s in enumerate(doc.get("stages", [])):
        stage = Stage.objects.create(
            journey=journey,
            position=i,
            name=s["name"].strip(),
            moment=s.get("moment") or "",
            customer_goal=s.get("customer_goal") or "",
            description=s.get("description") or "",
        )
        for j, t in enumerate(s.get("touchpoints", [])):
            touchpoints.append(
                Touchpoint(
                    stage=stage,
                    position=j,
                    name=t["name"].strip(),
                    channel=t["channel"],
                    is_moment_of_truth=bool(t.get("is_moment_of_truth", False)),
                    emotion=t.get("emotion", 0),
                    pain_points=t.get("pain_points") or "",
                    opportunities=t.get("opportunities") or "",
                    owner=owners.get(t.get("owner") or ""),
                    event_names=list(dict.fromkeys(t.get("event_names", []))),
                )
            )
    Touchpoint.objects.bulk_create(touchpoints)
    stage_count = len(doc.get("stages", []))

    def summary() -> str:
        # Translators: %(stages)s is "5 stages", %(touchpoints)s "17 touchpoints".
        text = (
            _("Created from the template “%(template)s” with %(stages)s and %(touchpoints)s")
            if template_label
            else _("Created from an export with %(stages)s and %(touchpoints)s")
        )
        return text % {
            "template": template_label,  # lazy: the label is translated here too
            "stages": ngettext("%(count)s stage", "%(count)s stages", stage_count)
            % {"count": stage_count},
            "touchpoints": ngettext(
                "%(count)s touchpoint", "%(count)s touchpoints", len(touchpoints)
            )
            % {"count": len(touchpoints)},
        }

    JourneyChange.objects.create(
        journey=journey,
        actor=actor.user,
        actor_label=actor.label,
        action="journey.imported",
        **JourneyChange.summary_texts(summary),
        version=journey.version,
    )
    return journey
