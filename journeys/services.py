"""Writes for journey maps.

Every write to a map locks the journey row, checks the version the caller based the change
on (a stale version raises VersionConflict, nothing is written), applies the change, bumps
the version and records one history entry. Rules checked here: moment codes unique and in
canonical order; an event name signals one stage only; an active journey has a store and a
store has one active journey.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.crypto import hash_token, new_token
from accounts.models import Membership, Organisation, Store
from accounts.services import Actor
from core.errors import DomainError
from core.ordering import positions_renumber
from journeys.models import (
    EVENT_NAME,
    Channel,
    Experiment,
    Journey,
    JourneyChange,
    Moment,
    Persona,
    Stage,
    Touchpoint,
)
from journeys.signals import experiment_saved
from journeys.transfer import journey_export, journey_import

JOURNEY_FIELDS = ("name", "description", "store")
STAGE_FIELDS = ("name", "moment", "customer_goal", "description")
TOUCHPOINT_FIELDS = (
    "name",
    "channel",
    "is_moment_of_truth",
    "emotion",
    "pain_points",
    "opportunities",
    "owner",
    "event_names",
)


class VersionConflict(DomainError):
    """The map changed since the caller loaded it; their change was not saved."""

    code = "version_conflict"

    def __init__(self, *, current: int, given: int | None) -> None:
        self.current = current
        self.given = given
        super().__init__(
            _(
                "Someone else changed this journey (it is now at version %(current)s, you "
                "loaded version %(given)s). Your change was not saved: reload to see theirs."
            )
            % {"current": current, "given": given},
            details={"current_version": current, "your_version": given},
        )


class ActiveJourneyExists(DomainError):
    """Activation would make a second active journey for the store; the caller must say what
    the current one becomes."""

    code = "active_journey_exists"

    def __init__(self, *, active: Journey) -> None:
        self.active = active
        super().__init__(
            _(
                "%(store)s already has an active journey, “%(name)s”. Confirm whether to "
                "archive it or turn it back into a draft."
            )
            % {"store": active.store, "name": active.name},
            details={"active_journey": {"id": active.pk, "name": active.name}},
        )


# --- Version, history


def _locked(journey: Journey, *, version: int | None) -> Journey:
    locked = Journey.objects.select_for_update().get(pk=journey.pk)
    if version is None or int(version) != locked.version:
        raise VersionConflict(current=locked.version, given=version)
    return locked


def _record(
    journey: Journey,
    *,
    actor: Actor,
    action: str,
    summary: Callable[[], str],
    details: dict | None = None,
) -> None:
    """Bump the version and add the history entry; `summary` builds its text in the active
    language and is called once per language (see JourneyChange.summary_texts)."""
    journey.version += 1
    journey.updated_by = actor.user
    journey.save(update_fields=["version", "updated_by", "updated_at"])
    JourneyChange.objects.create(
        journey=journey,
        actor=actor.user,
        actor_label=actor.label,
        action=action,
        **JourneyChange.summary_texts(summary),
        details=details or {},
        version=journey.version,
    )


# Fields whose model field has no translated name of its own, as a change's summary names
# them ("Changed the journey: name, store").
_FIELD_NAMES = {
    "store": gettext_lazy("store"),
    "personas": gettext_lazy("personas"),
    "owner": gettext_lazy("owner"),
    "event_names": gettext_lazy("event names"),
}


def _field_names(instance: Any, diff: dict[str, Any]) -> str:
    """The changed fields' translated names, for a change's summary (never the raw keys)."""
    names = []
    for key in diff:
        name = _FIELD_NAMES.get(key) or getattr(instance._meta.get_field(key), "verbose_name", None)
        names.append(str(name or key))
    return ", ".join(names)


def _changes(instance: Any, fields: dict[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    """Apply the allowed fields to the instance; return {field: {"from", "to"}} for the diff."""
    diff = {}
    for name in allowed:
        if name not in fields:
            continue
        old, new = getattr(instance, name), fields[name]
        if old != new:
            diff[name] = {"from": _plain(old), "to": _plain(new)}
            setattr(instance, name, new)
    return diff


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return str(value)
    return value


# --- Validation


def _check_moment_order(stages: list[Stage]) -> None:
    """`stages` in their order along the journey."""
    codes = [s.moment for s in stages if s.moment]
    if len(codes) != len(set(codes)):
        duplicate = next(c for c in codes if codes.count(c) > 1)
        raise ValidationError(
            {
                "moment": _("%(code)s is already used by another stage of this journey.")
                % {"code": duplicate}
            }
        )
    if codes != sorted(codes, key=Moment.order):
        raise ValidationError(
            {
                "moment": _(
                    "Moments of truth must follow their order along the journey: "
                    "LZMOT, ZMOT, FMOT, SMOT, TMOT, UMOT (this order has %(codes)s)."
                )
                % {"codes": " → ".join(codes)}
            }
        )


def _clean_event_names(names: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in names:
        name = str(raw).strip()
        if not name:
            continue
        if not EVENT_NAME.match(name):
            raise ValidationError(
                {
                    "event_names": _(
                        "“%(name)s” is not a valid event name: use letters, digits, "
                        "_ . : - and at most 64 characters."
                    )
                    % {"name": name[:80]}
                }
            )
        if name not in cleaned:
            cleaned.append(name)
    return cleaned


def _check_event_names(touchpoint: Touchpoint) -> None:
    """An event name may signal only one stage of a journey."""
    if not touchpoint.event_names:
        return
    clash = (
        Touchpoint.objects.filter(
            stage__journey_id=touchpoint.stage.journey_id,
            event_names__overlap=touchpoint.event_names,
        )
        .exclude(stage_id=touchpoint.stage_id)
        .exclude(pk=touchpoint.pk)
        .select_related("stage")
        .first()
    )
    if clash is not None:
        name = next(n for n in touchpoint.event_names if n in clash.event_names)
        raise ValidationError(
            {
                "event_names": _(
                    "The event “%(event)s” already signals the stage “%(stage)s” (touchpoint "
                    "“%(touchpoint)s”). An event name can signal only one stage of a journey."
                )
                % {"event": name, "stage": clash.stage.name, "touchpoint": clash.name}
            }
        )


def _check_touchpoint(touchpoint: Touchpoint, organisation: Organisation) -> None:
    if not touchpoint.name.strip():
        raise ValidationError({"name": _("Give the touchpoint a name.")})
    if touchpoint.channel not in Channel.values:
        raise ValidationError(
            {
                "channel": _("Choose a channel: %(choices)s.")
                % {"choices": ", ".join(Channel.values)}
            }
        )
    if not isinstance(touchpoint.emotion, int) or not -2 <= touchpoint.emotion <= 2:
        raise ValidationError(
            {"emotion": _("The designed emotion is a whole number from −2 to +2.")}
        )
    if (
        touchpoint.owner_id is not None
        and not Membership.objects.filter(
            organisation=organisation, user_id=touchpoint.owner_id
        ).exists()
    ):
        raise ValidationError({"owner": _("The owner must be a member of this organisation.")})
    touchpoint.event_names = _clean_event_names(touchpoint.event_names or [])
    _check_event_names(touchpoint)


def _check_store(store: Store | None, organisation: Organisation) -> None:
    if store is not None and store.organisation_id != organisation.pk:
        raise ValidationError({"store": _("Choose a store of this organisation.")})


def _check_stage(stage: Stage) -> None:
    if not stage.name.strip():
        raise ValidationError({"name": _("Give the stage a name.")})
    if stage.moment and stage.moment not in Moment.values:
        raise ValidationError(
            {"moment": _("Unknown moment code %(code)s.") % {"code": stage.moment}}
        )


# --- Journeys


@transaction.atomic
def journey_create(
    *,
    organisation: Organisation,
    actor: Actor,
    name: str,
    description: str = "",
    store: Store | None = None,
    personas: Iterable[Persona] = (),
) -> Journey:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the journey a name.")})
    _check_store(store, organisation)
    journey = Journey.objects.create(
        organisation=organisation,
        name=name,
        description=description,
        store=store,
        created_by=actor.user,
        updated_by=actor.user,
    )
    persona_list = list(personas)
    if any(p.organisation_id != organisation.pk for p in persona_list):
        raise ValidationError({"personas": _("Choose personas of this organisation.")})
    journey.personas.set(persona_list)
    JourneyChange.objects.create(
        journey=journey,
        actor=actor.user,
        actor_label=actor.label,
        action="journey.created",
        **JourneyChange.summary_texts(lambda: _("Created the journey “%(name)s”") % {"name": name}),
        version=journey.version,
    )
    return journey


@transaction.atomic
def journey_update(
    *, journey: Journey, actor: Actor, version: int | None, **fields: Any
) -> Journey:
    journey = _locked(journey, version=version)
    if "name" in fields:
        fields["name"] = str(fields["name"]).strip()
        if not fields["name"]:
            raise ValidationError({"name": _("Give the journey a name.")})
    if "store" in fields:
        _check_store(fields["store"], journey.organisation)
        if fields["store"] is None and journey.status == Journey.Status.ACTIVE:
            raise ValidationError({"store": _("An active journey needs a store.")})
        if (
            fields["store"] is not None
            and journey.status == Journey.Status.ACTIVE
            and fields["store"].pk != journey.store_id
        ):
            raise ValidationError(
                {"store": _("Make the journey a draft before moving it to another store.")}
            )
    diff = _changes(journey, fields, JOURNEY_FIELDS)
    if "personas" in fields:
        personas = list(fields["personas"])
        if any(p.organisation_id != journey.organisation_id for p in personas):
            raise ValidationError({"personas": _("Choose personas of this organisation.")})
        before = sorted(p.name for p in journey.personas.all())
        after = sorted(p.name for p in personas)
        if before != after:
            journey.personas.set(personas)
            diff["personas"] = {"from": before, "to": after}
    if diff:
        journey.save()
        _record(
            journey,
            actor=actor,
            action="journey.updated",
            summary=lambda: (
                _("Changed the journey: %(fields)s") % {"fields": _field_names(journey, diff)}
            ),
            details=diff,
        )
    return journey


@transaction.atomic
def journey_activate(
    *, journey: Journey, actor: Actor, version: int | None, replace_active: str = ""
) -> Journey:
    """Make the journey the store's active one. If another is active, the caller must say
    whether it becomes archived or a draft (`replace_active`), or ActiveJourneyExists."""
    # Lock order: the store, then the journey, as deleting a store does; the other order lets
    # an activation and a store's deletion wait on each other until PostgreSQL aborts one.
    store_id = Journey.objects.filter(pk=journey.pk).values_list("store_id", flat=True).first()
    locked = Store.objects.select_for_update().filter(pk=store_id).first() if store_id else None
    journey = _locked(journey, version=version)
    if journey.store_id is None:
        raise ValidationError({"store": _("Choose a store before activating the journey.")})
    if journey.status == Journey.Status.ACTIVE:
        return journey
    store = (
        locked
        if locked is not None and locked.pk == journey.store_id
        else Store.objects.select_for_update().get(pk=journey.store_id)  # moved meanwhile
    )
    if store.deletion_requested_at is not None:  # marked after the journey named it
        raise ValidationError({"store": _("This store is being deleted. Choose another store.")})
    current = Journey.objects.filter(store=store, status=Journey.Status.ACTIVE).first()
    if current is not None:
        if replace_active not in (Journey.Status.ARCHIVED, Journey.Status.DRAFT):
            raise ActiveJourneyExists(active=current)
        current = Journey.objects.select_for_update().get(pk=current.pk)
        current.status = replace_active
        current.save(update_fields=["status", "updated_at"])
        _record(
            current,
            actor=actor,
            action="journey.status_changed",
            summary=lambda: (
                (
                    _("Archived because “%(name)s” was activated for %(store)s")
                    if replace_active == Journey.Status.ARCHIVED
                    else _("Made a draft because “%(name)s” was activated for %(store)s")
                )
                % {"name": journey.name, "store": store.name}
            ),
            details={"status": {"from": "active", "to": replace_active}},
        )
    previous = journey.status
    journey.status = Journey.Status.ACTIVE
    journey.save(update_fields=["status", "updated_at"])
    _record(
        journey,
        actor=actor,
        action="journey.status_changed",
        summary=lambda: _("Activated for %(store)s") % {"store": store.name},
        details={"status": {"from": previous, "to": "active"}},
    )
    return journey


@transaction.atomic
def journey_set_status(
    *, journey: Journey, actor: Actor, version: int | None, status: str
) -> Journey:
    """Turn a journey into a draft or archive it (activation goes through journey_activate)."""
    if status not in (Journey.Status.DRAFT, Journey.Status.ARCHIVED):
        raise ValidationError(
            {
                "status": _(
                    "Make a journey active with the “Activate” button on its page, or with the "
                    "API's `activate` action."
                )
            }
        )
    journey = _locked(journey, version=version)
    if journey.status == status:
        return journey
    previous = journey.status
    journey.status = status
    journey.save(update_fields=["status", "updated_at"])
    _record(
        journey,
        actor=actor,
        action="journey.status_changed",
        summary=lambda: (
            _("Archived the journey")
            if status == Journey.Status.ARCHIVED
            else _("Made the journey a draft")
        ),
        details={"status": {"from": previous, "to": status}},
    )
    return journey


@transaction.atomic
def journey_delete(*, journey: Journey, actor: Actor, version: int | None) -> None:
    from accounts.services import audit_record

    journey = _locked(journey, version=version)
    audit_record(
        organisation=journey.organisation, actor=actor, action="journey.deleted", target=journey
    )
    journey.delete()


def _journey_detach_store(journey: Journey, *, store: Store, actor: Actor) -> None:
    details: dict[str, Any] = {"store": {"from": store.name, "to": None}}
    archived = journey.status == Journey.Status.ACTIVE
    if archived:
        journey.status = Journey.Status.ARCHIVED
        details["status"] = {"from": "active", "to": "archived"}
    journey.store = None
    journey.save(update_fields=["store", "status", "updated_at"])
    _record(
        journey,
        actor=actor,
        action="journey.updated",
        summary=lambda: (
            (
                _("Archived and kept without a store: %(store)s was deleted")
                if archived
                else _("Kept without a store: %(store)s was deleted")
            )
            % {"store": store.name}
        ),
        details=details,
    )


@transaction.atomic
def journeys_detach_store(*, store: Store, actor: Actor) -> list[Journey]:
    """The store is being deleted: its journeys stay, as the organisation's maps without a
    store; the active one is archived (an active journey needs a store), drafts and archived
    ones keep their status. Versioned and recorded in each journey's history."""
    journeys = list(Journey.objects.select_for_update().filter(store=store).order_by("pk"))
    for journey in journeys:
        _journey_detach_store(journey, store=store, actor=actor)
    return journeys


@transaction.atomic
def journey_duplicate(*, journey: Journey, actor: Actor, store: Store | None = None) -> Journey:
    """A draft copy with the same personas, stages and touchpoints, no share link, and no
    store unless `store` is given (a store's API key keeps the copy in its store)."""
    data = journey_export(journey=journey)
    data["journey"]["name"] = _("Copy of %(name)s") % {"name": journey.name}
    data["journey"]["store"] = None
    return journey_import(
        organisation=journey.organisation, actor=actor, data=data, into_store=store
    )


# --- Stages


@transaction.atomic
def stage_create(
    *,
    journey: Journey,
    actor: Actor,
    version: int | None,
    position: int | None = None,
    **fields: Any,
) -> Stage:
    journey = _locked(journey, version=version)
    stages = list(journey.stages.order_by("position", "id"))
    stage = Stage(journey=journey, **{k: v for k, v in fields.items() if k in STAGE_FIELDS})
    stage.name = stage.name.strip()
    _check_stage(stage)
    index = len(stages) if position is None else max(0, min(int(position), len(stages)))
    stages.insert(index, stage)
    _check_moment_order(stages)
    stage.position = index
    stage.save()
    positions_renumber(stages)
    _record(
        journey,
        actor=actor,
        action="stage.created",
        summary=lambda: _("Added the stage “%(name)s”") % {"name": stage.name},
        details={"stage": stage.pk},
    )
    return stage


@transaction.atomic
def stage_update(*, stage: Stage, actor: Actor, version: int | None, **fields: Any) -> Stage:
    journey = _locked(stage.journey, version=version)
    stage = Stage.objects.get(pk=stage.pk)
    if "name" in fields:
        fields["name"] = str(fields["name"]).strip()
    diff = _changes(stage, fields, STAGE_FIELDS)
    _check_stage(stage)
    if "moment" in diff:
        stages = [
            s if s.pk != stage.pk else stage for s in journey.stages.order_by("position", "id")
        ]
        _check_moment_order(stages)
    if diff:
        stage.save()
        _record(
            journey,
            actor=actor,
            action="stage.updated",
            summary=lambda: (
                _("Changed the stage “%(name)s”: %(fields)s")
                % {"name": stage.name, "fields": _field_names(stage, diff)}
            ),
            details={"stage": stage.pk, **diff},
        )
    stage.journey = journey
    return stage


@transaction.atomic
def stage_delete(*, stage: Stage, actor: Actor, version: int | None) -> Journey:
    journey = _locked(stage.journey, version=version)
    name = stage.name
    touchpoints = stage.touchpoints.count()
    stage.delete()
    positions_renumber(list(journey.stages.order_by("position", "id")))
    _record(
        journey,
        actor=actor,
        action="stage.deleted",
        summary=lambda: (
            ngettext(
                "Deleted the stage “%(name)s” with %(count)s touchpoint",
                "Deleted the stage “%(name)s” with %(count)s touchpoints",
                touchpoints,
            )
            % {"name": name, "count": touchpoints}
        ),
    )
    return journey


@transaction.atomic
def stages_reorder(
    *, journey: Journey, actor: Actor, version: int | None, order: list[int]
) -> Journey:
    journey = _locked(journey, version=version)
    stages = {s.pk: s for s in journey.stages.all()}
    if sorted(order) != sorted(stages):
        raise ValidationError(
            {"order": _("List every stage of this journey exactly once, in the new order.")}
        )
    ordered = [stages[pk] for pk in order]
    _check_moment_order(ordered)
    positions_renumber(ordered)
    _record(
        journey,
        actor=actor,
        action="stage.reordered",
        summary=lambda: (
            _("Reordered the stages: %(names)s") % {"names": " → ".join(s.name for s in ordered)}
        ),
        details={"order": order},
    )
    return journey


# --- Touchpoints


@transaction.atomic
def touchpoint_create(
    *,
    stage: Stage,
    actor: Actor,
    version: int | None,
    position: int | None = None,
    **fields: Any,
) -> Touchpoint:
    journey = _locked(stage.journey, version=version)
    stage = Stage.objects.get(pk=stage.pk)
    stage.journey = journey
    fields.setdefault("channel", Channel.WEB)
    touchpoint = Touchpoint(
        stage=stage, **{k: v for k, v in fields.items() if k in TOUCHPOINT_FIELDS}
    )
    touchpoint.name = touchpoint.name.strip()
    _check_touchpoint(touchpoint, journey.organisation)
    siblings = list(stage.touchpoints.order_by("position", "id"))
    index = len(siblings) if position is None else max(0, min(int(position), len(siblings)))
    touchpoint.position = index
    touchpoint.save()
    siblings.insert(index, touchpoint)
    positions_renumber(siblings)
    _record(
        journey,
        actor=actor,
        action="touchpoint.created",
        summary=lambda: (
            _("Added the touchpoint “%(name)s” to “%(stage)s”")
            % {"name": touchpoint.name, "stage": stage.name}
        ),
        details={"touchpoint": touchpoint.pk},
    )
    return touchpoint


@transaction.atomic
def touchpoint_update(
    *, touchpoint: Touchpoint, actor: Actor, version: int | None, **fields: Any
) -> Touchpoint:
    journey = _locked(touchpoint.stage.journey, version=version)
    touchpoint = Touchpoint.objects.select_related("stage").get(pk=touchpoint.pk)
    if "name" in fields:
        fields["name"] = str(fields["name"]).strip()
    if "event_names" in fields:
        fields["event_names"] = _clean_event_names(fields["event_names"] or [])
    diff = _changes(touchpoint, fields, TOUCHPOINT_FIELDS)
    _check_touchpoint(touchpoint, journey.organisation)
    if diff:
        touchpoint.save()

        def summary() -> str:
            if set(diff) == {"is_moment_of_truth"}:
                return (
                    _("Marked “%(name)s” as a moment of truth")
                    if touchpoint.is_moment_of_truth
                    else _("Unmarked “%(name)s” as a moment of truth")
                ) % {"name": touchpoint.name}
            return _("Changed the touchpoint “%(name)s”: %(fields)s") % {
                "name": touchpoint.name,
                "fields": _field_names(touchpoint, diff),
            }

        _record(
            journey,
            actor=actor,
            action="touchpoint.updated",
            summary=summary,
            details={"touchpoint": touchpoint.pk, **diff},
        )
    touchpoint.stage.journey = journey
    return touchpoint


@transaction.atomic
def touchpoint_move(
    *, touchpoint: Touchpoint, actor: Actor, version: int | None, stage: Stage, position: int
) -> Touchpoint:
    """Move a touchpoint to `position` in `stage` (the same stage or another of the journey)."""
    journey = _locked(touchpoint.stage.journey, version=version)
    if stage.journey_id != journey.pk:
        raise ValidationError({"stage": _("Move touchpoints only within their journey.")})
    touchpoint = Touchpoint.objects.select_related("stage").get(pk=touchpoint.pk)
    source = touchpoint.stage
    remaining = [t for t in source.touchpoints.order_by("position", "id") if t.pk != touchpoint.pk]
    if stage.pk != source.pk:
        touchpoint.stage = stage
        _check_event_names(touchpoint)
        positions_renumber(remaining)
        targets = list(stage.touchpoints.order_by("position", "id"))
    else:
        targets = remaining
    index = max(0, min(int(position), len(targets)))
    if stage.pk == source.pk and index == touchpoint.position:
        return touchpoint  # already there: no new version, no history entry
    targets.insert(index, touchpoint)
    touchpoint.save(update_fields=["stage"])
    positions_renumber(targets)
    _record(
        journey,
        actor=actor,
        action="touchpoint.moved",
        summary=lambda: (
            _("Moved “%(name)s” to “%(stage)s”, position %(position)s")
            % {"name": touchpoint.name, "stage": stage.name, "position": index + 1}
        ),
        details={
            "touchpoint": touchpoint.pk,
            "from_stage": source.pk,
            "to_stage": stage.pk,
            "position": index,
        },
    )
    touchpoint.stage.journey = journey
    return touchpoint


@transaction.atomic
def touchpoint_delete(*, touchpoint: Touchpoint, actor: Actor, version: int | None) -> Journey:
    journey = _locked(touchpoint.stage.journey, version=version)
    stage = touchpoint.stage
    name = touchpoint.name
    touchpoint.delete()
    positions_renumber(list(stage.touchpoints.order_by("position", "id")))
    _record(
        journey,
        actor=actor,
        action="touchpoint.deleted",
        summary=lambda: _("Deleted the touchpoint “%(name)s”") % {"name": name},
    )
    return journey


# --- Personas


@transaction.atomic
def persona_create(*, organisation: Organisation, actor: Actor, **fields: Any) -> Persona:
    persona = Persona(organisation=organisation, **fields)
    persona.name = persona.name.strip()
    if not persona.name:
        raise ValidationError({"name": _("Give the persona a name.")})
    persona.save()
    return persona


@transaction.atomic
def persona_update(*, persona: Persona, actor: Actor, **fields: Any) -> Persona:
    for name in ("name", "description", "goals", "frustrations"):
        if name in fields:
            setattr(persona, name, fields[name])
    persona.name = persona.name.strip()
    if not persona.name:
        raise ValidationError({"name": _("Give the persona a name.")})
    persona.save()
    return persona


@transaction.atomic
def persona_delete(*, persona: Persona, actor: Actor) -> None:
    """Delete the persona; each journey that had it gets a new version and a history entry,
    so an editor with the map open learns of it on the next save."""
    journeys = list(Journey.objects.select_for_update().filter(personas=persona).order_by("pk"))
    name = persona.name
    persona.delete()
    for journey in journeys:
        _record(
            journey,
            actor=actor,
            action="journey.updated",
            summary=lambda: _("The persona “%(name)s” was deleted") % {"name": name},
            details={"personas": {"removed": name}},
        )


# --- Share links


@transaction.atomic
def journey_share_link_create(*, journey: Journey, actor: Actor) -> str:
    """A new read-only link (any previous one stops working). Returns the token, shown once."""
    from accounts.services import audit_record

    token = new_token(24)
    Journey.objects.filter(pk=journey.pk).update(share_token_hash=hash_token(token))
    journey.share_token_hash = hash_token(token)
    audit_record(
        organisation=journey.organisation,
        actor=actor,
        action="journey.share_link_created",
        target=journey,
    )
    return token


@transaction.atomic
def journey_share_link_revoke(*, journey: Journey, actor: Actor) -> None:
    from accounts.services import audit_record

    Journey.objects.filter(pk=journey.pk).update(share_token_hash=None)
    journey.share_token_hash = None
    audit_record(
        organisation=journey.organisation,
        actor=actor,
        action="journey.share_link_revoked",
        target=journey,
    )


@transaction.atomic
def journey_create_from_template(
    *,
    organisation: Organisation,
    actor: Actor,
    template: str,
    name: str = "",
    store: Store | None = None,
) -> Journey:
    import copy

    from journeys.blueprints import TEMPLATES

    if template not in TEMPLATES:
        raise ValidationError(
            {
                "template": _("Unknown template; choose one of %(keys)s.")
                % {"keys": ", ".join(TEMPLATES)}
            }
        )
    _check_store(store, organisation)
    data = copy.deepcopy(TEMPLATES[template]["data"])
    if name.strip():
        data["journey"]["name"] = name.strip()
    journey = journey_import(
        organisation=organisation,
        actor=actor,
        data=data,
        template_label=TEMPLATES[template]["label"],
        into_store=store,
    )
    return journey


# --- Experiments
#
# An experiment is listed in its journey's change history, but it does not change the map: its
# history entry carries the journey's current version, which stays as it is, so an editor who
# has the map open saves their next change without a conflict.

EXPERIMENT_FIELDS = ("title", "change", "started_on", "ended_on", "metric", "window_days")


def _experiment_check(experiment: Experiment) -> None:
    experiment.title = experiment.title.strip()
    if not experiment.title:
        raise ValidationError({"title": _("Give the experiment a title.")})
    if experiment.metric not in Experiment.Metric.values:
        raise ValidationError({"metric": _("Choose one of the metrics listed.")})
    if not Experiment.WINDOW_DAYS_MIN <= experiment.window_days <= Experiment.WINDOW_DAYS_MAX:
        raise ValidationError(
            {"window_days": _("The windows before and after are 7 to 90 days long.")}
        )
    if experiment.ended_on is not None and experiment.ended_on < experiment.started_on:
        raise ValidationError({"ended_on": _("An experiment cannot end before it went live.")})
    touchpoint = experiment.touchpoint
    if experiment.metric == Experiment.Metric.CONVERSION and touchpoint is not None:
        first = Stage.objects.filter(journey_id=touchpoint.stage.journey_id).order_by(
            "position", "id"
        )[:1]
        if first and first[0].pk == touchpoint.stage_id:
            raise ValidationError(
                {
                    "metric": _(
                        "The journey's first stage has no stage before it to convert from: "
                        "choose another metric, or a touchpoint of a later stage."
                    )
                }
            )


def _experiment_history(
    experiment: Experiment,
    *,
    actor: Actor,
    action: str,
    summary: Callable[[], str],
    details: dict,
) -> None:
    """A history entry at the journey's current version (the map is unchanged), and the audit
    log's entry. `summary` builds the entry's text in the active language (see _record)."""
    from accounts.services import audit_record

    if experiment.journey_id is not None:
        version = Journey.objects.filter(pk=experiment.journey_id).values_list(
            "version", flat=True
        )[0]
        JourneyChange.objects.create(
            journey_id=experiment.journey_id,
            actor=actor.user,
            actor_label=actor.label,
            action=action,
            **JourneyChange.summary_texts(summary),
            details={"experiment": experiment.pk, **details},
            version=version,
        )
    audit_record(
        organisation=experiment.store.organisation,
        actor=actor,
        action=action,
        target=experiment,
        details=details,
    )


def _experiment_compute_soon(experiment: Experiment) -> None:
    experiment_id = experiment.pk
    transaction.on_commit(
        lambda: experiment_saved.send(sender=Experiment, experiment_id=experiment_id),
        robust=True,
    )


@transaction.atomic
def experiment_create(*, touchpoint: Touchpoint, actor: Actor, **fields: Any) -> Experiment:
    """Record a change made to a touchpoint of a store's active journey; its result is
    computed in the background once this commits."""
    touchpoint = Touchpoint.objects.select_related("stage__journey__store").get(pk=touchpoint.pk)
    stage = touchpoint.stage
    journey = stage.journey
    if journey.status != Journey.Status.ACTIVE or journey.store is None:
        raise ValidationError({"touchpoint": _("Choose a touchpoint of a store's active journey.")})
    experiment = Experiment(
        store=journey.store,
        journey=journey,
        touchpoint=touchpoint,
        stage_id_saved=stage.pk,
        stage_moment=stage.moment,
        stage_name=stage.name,
        touchpoint_name=touchpoint.name,
        created_by=actor.user,
        **{k: v for k, v in fields.items() if k in EXPERIMENT_FIELDS},
    )
    _experiment_check(experiment)
    experiment.save()
    _experiment_history(
        experiment,
        actor=actor,
        action="experiment.created",
        summary=lambda: (
            _("Recorded the experiment “%(title)s” on “%(touchpoint)s”")
            % {"title": experiment.title, "touchpoint": touchpoint.name}
        ),
        details={
            "touchpoint": touchpoint.pk,
            "metric": experiment.metric,
            "started_on": experiment.started_on.isoformat(),
        },
    )
    _experiment_compute_soon(experiment)
    return experiment


@transaction.atomic
def experiment_update(*, experiment: Experiment, actor: Actor, **fields: Any) -> Experiment:
    experiment = (
        Experiment.objects.select_for_update().select_related("store").get(pk=experiment.pk)
    )
    diff = _changes(experiment, fields, EXPERIMENT_FIELDS)
    _experiment_check(experiment)
    if not diff:
        return experiment
    experiment.save()
    _experiment_history(
        experiment,
        actor=actor,
        action="experiment.updated",
        summary=lambda: (
            _("Changed the experiment “%(title)s”: %(fields)s")
            % {"title": experiment.title, "fields": _field_names(experiment, diff)}
        ),
        details={k: {"from": str(v["from"]), "to": str(v["to"])} for k, v in diff.items()},
    )
    _experiment_compute_soon(experiment)
    return experiment


@transaction.atomic
def experiment_delete(*, experiment: Experiment, actor: Actor) -> None:
    _experiment_history(
        experiment,
        actor=actor,
        action="experiment.deleted",
        summary=lambda: _("Deleted the experiment “%(title)s”") % {"title": experiment.title},
        details={"title": experiment.title},
    )
    experiment.delete()


def experiment_result_save(*, experiment_id: int, result: dict[str, Any], computed_at: Any) -> None:
    """The metrics app's result, written without touching the rest of the row (an editor's
    change made meanwhile stays, and queues its own computation)."""
    Experiment.objects.filter(pk=experiment_id).update(
        result=result, result_computed_at=computed_at
    )
