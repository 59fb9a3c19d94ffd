from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts.services import Actor
from journeys import services, transfer
from journeys.models import Journey, JourneyChange, Stage, Touchpoint
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _stage(journey: Journey, moment: str) -> Stage:
    return journey.stages.get(moment=moment)


def test_ecommerce_template_builds_the_delivery_journey(template_journey: Journey) -> None:
    stages = list(template_journey.stages.all())
    assert [s.moment for s in stages] == ["ZMOT", "FMOT", "SMOT", "TMOT", "UMOT"]
    assert [s.name for s in stages] == [
        "Researches",
        "First impression",
        "Buys and uses",
        "Delivery",
        "Shares and returns",
    ]
    marked = list(
        Touchpoint.objects.filter(stage__journey=template_journey, is_moment_of_truth=True)
        .order_by("stage__position", "position")
        .values_list("stage__moment", "name")
    )
    assert marked == [
        ("ZMOT", "Reviews on review sites"),
        ("FMOT", "First product-page visit"),
        ("SMOT", "After adding to cart"),
        ("TMOT", "Parcel arrival"),
        ("UMOT", "Follow-up email asking for a review"),
    ]
    events = {
        s.moment: sorted(e for t in s.touchpoints.all() for e in t.event_names) for s in stages
    }
    assert events == {
        "ZMOT": ["comparison_view", "review_read", "search"],
        "FMOT": ["page_view", "product_view"],
        "SMOT": ["add_to_cart", "checkout_start", "purchase"],
        "TMOT": ["delivered", "out_for_delivery", "return_requested", "shipped", "support_contact"],
        "UMOT": ["referral", "repeat_purchase", "review_posted"],
    }
    assert [p.name for p in template_journey.personas.all()] == ["Online shopper"]
    assert template_journey.status == Journey.Status.DRAFT


def test_five_moments_template_has_no_tmot(organisation: Any, actor: Actor) -> None:
    journey = services.journey_create_from_template(
        organisation=organisation, actor=actor, template="five-moments"
    )
    assert list(journey.stages.values_list("moment", flat=True)) == [
        "LZMOT",
        "ZMOT",
        "FMOT",
        "SMOT",
        "UMOT",
    ]
    assert journey.store is None


def test_each_write_bumps_the_version_and_is_recorded(
    template_journey: Journey, actor: Actor
) -> None:
    fmot = _stage(template_journey, "FMOT")
    assert template_journey.version == 1
    touchpoint = services.touchpoint_create(
        stage=fmot, actor=actor, version=1, name="Size guide", channel="web"
    )
    assert touchpoint.position == 2
    assert touchpoint.stage.journey.version == 2
    services.touchpoint_update(
        touchpoint=touchpoint, actor=actor, version=2, is_moment_of_truth=True
    )
    template_journey.refresh_from_db()
    assert template_journey.version == 3
    summaries = list(
        JourneyChange.objects.filter(journey=template_journey)
        .order_by("id")
        .values_list("version", "summary")
    )
    assert summaries[-2:] == [
        (2, "Added the touchpoint “Size guide” to “First impression”"),
        (3, "Marked “Size guide” as a moment of truth"),
    ]
    assert JourneyChange.objects.filter(journey=template_journey).last().actor_label == (
        "editor@example.com"
    )


def test_a_stale_version_saves_nothing(template_journey: Journey, actor: Actor) -> None:
    stage = _stage(template_journey, "FMOT")
    services.stage_update(stage=stage, actor=actor, version=1, name="First look")
    with pytest.raises(services.VersionConflict) as conflict:
        services.stage_update(stage=stage, actor=actor, version=1, name="Other name")
    assert conflict.value.current == 2
    assert conflict.value.given == 1
    stage.refresh_from_db()
    assert stage.name == "First look"
    with pytest.raises(services.VersionConflict):
        services.stage_update(stage=stage, actor=actor, version=None, name="No version")


def test_an_event_name_signals_only_one_stage(template_journey: Journey, actor: Actor) -> None:
    smot = _stage(template_journey, "SMOT")
    with pytest.raises(ValidationError) as error:
        services.touchpoint_create(
            stage=smot,
            actor=actor,
            version=1,
            name="Quick view",
            channel="web",
            event_names=["product_view"],
        )
    assert error.value.message_dict["event_names"] == [
        "The event “product_view” already signals the stage “First impression” (touchpoint "
        "“First product-page visit”). An event name can signal only one stage of a journey."
    ]
    # The same stage may list it again.
    fmot = _stage(template_journey, "FMOT")
    services.touchpoint_create(
        stage=fmot,
        actor=actor,
        version=1,
        name="Quick view",
        channel="web",
        event_names=["product_view", " product_view", ""],
    )
    assert fmot.touchpoints.get(name="Quick view").event_names == ["product_view"]


def test_moving_a_touchpoint_keeps_the_event_rule(template_journey: Journey, actor: Actor) -> None:
    fmot, smot = _stage(template_journey, "FMOT"), _stage(template_journey, "SMOT")
    product_page = fmot.touchpoints.get(name="First product-page visit")
    services.touchpoint_create(
        stage=fmot,
        actor=actor,
        version=1,
        name="Product video",
        channel="web",
        event_names=["product_view"],
    )
    with pytest.raises(ValidationError, match="already signals the stage"):
        services.touchpoint_move(
            touchpoint=product_page, actor=actor, version=2, stage=smot, position=0
        )
    assert Touchpoint.objects.get(pk=product_page.pk).stage_id == fmot.pk


def test_move_across_stages_renumbers_both(template_journey: Journey, actor: Actor) -> None:
    smot, tmot = _stage(template_journey, "SMOT"), _stage(template_journey, "TMOT")
    using = smot.touchpoints.get(name="Using the product")
    services.touchpoint_move(touchpoint=using, actor=actor, version=1, stage=tmot, position=1)
    assert list(smot.touchpoints.values_list("name", "position")) == [
        ("After adding to cart", 0),
        ("Checkout", 1),
        ("Order confirmation", 2),
    ]
    assert list(tmot.touchpoints.values_list("name", "position")) == [
        ("Shipped email with tracking link", 0),
        ("Using the product", 1),
        ("Out for delivery email", 2),
        ("Parcel arrival", 3),
        ("Support contact", 4),
    ]
    services.touchpoint_move(touchpoint=using, actor=actor, version=2, stage=tmot, position=99)
    assert list(tmot.touchpoints.values_list("name", flat=True))[-1] == "Using the product"


def test_moment_codes_are_unique_and_in_canonical_order(
    template_journey: Journey, actor: Actor
) -> None:
    with pytest.raises(ValidationError, match="already used by another stage"):
        services.stage_create(
            journey=template_journey, actor=actor, version=1, name="X", moment="FMOT"
        )
    with pytest.raises(ValidationError, match=r"ZMOT → FMOT → SMOT → LZMOT"):
        services.stage_create(
            journey=template_journey,
            actor=actor,
            version=1,
            name="Need",
            moment="LZMOT",
            position=3,
        )
    stage = services.stage_create(
        journey=template_journey, actor=actor, version=1, name="Need", moment="LZMOT", position=0
    )
    assert stage.position == 0
    assert list(template_journey.stages.values_list("moment", "position")) == [
        ("LZMOT", 0),
        ("ZMOT", 1),
        ("FMOT", 2),
        ("SMOT", 3),
        ("TMOT", 4),
        ("UMOT", 5),
    ]
    ids = list(template_journey.stages.values_list("id", flat=True))
    with pytest.raises(ValidationError, match="must follow their order"):
        services.stages_reorder(
            journey=template_journey, actor=actor, version=2, order=list(reversed(ids))
        )
    custom = services.stage_create(
        journey=template_journey, actor=actor, version=2, name="Onboarding call", moment=""
    )
    order = [custom.pk, *ids]  # custom stages may stand anywhere
    services.stages_reorder(journey=template_journey, actor=actor, version=3, order=order)
    assert list(template_journey.stages.values_list("id", flat=True)) == order


def test_a_store_has_one_active_journey(
    template_journey: Journey, organisation: Any, store: Any, actor: Actor
) -> None:
    services.journey_activate(journey=template_journey, actor=actor, version=1)
    second = services.journey_create_from_template(
        organisation=organisation, actor=actor, template="five-moments", store=store
    )
    with pytest.raises(services.ActiveJourneyExists) as exists:
        services.journey_activate(journey=second, actor=actor, version=1)
    assert exists.value.active == template_journey
    services.journey_activate(journey=second, actor=actor, version=1, replace_active="draft")
    template_journey.refresh_from_db()
    second.refresh_from_db()
    assert (template_journey.status, second.status) == ("draft", "active")
    assert template_journey.version == 3


def test_an_active_journey_needs_a_store(organisation: Any, actor: Actor, store: Any) -> None:
    journey = services.journey_create(organisation=organisation, actor=actor, name="No store")
    with pytest.raises(ValidationError, match="Choose a store"):
        services.journey_activate(journey=journey, actor=actor, version=1)
    journey = services.journey_update(journey=journey, actor=actor, version=1, store=store)
    services.journey_activate(journey=journey, actor=actor, version=2)
    with pytest.raises(ValidationError, match="needs a store"):
        services.journey_update(journey=journey, actor=actor, version=3, store=None)


def test_a_store_of_another_organisation_is_refused(
    organisation: Any, other_organisation: Any, actor: Actor
) -> None:
    foreign = StoreFactory(organisation=other_organisation)
    with pytest.raises(ValidationError, match="Choose a store of this organisation"):
        services.journey_create(organisation=organisation, actor=actor, name="J", store=foreign)


def test_owner_must_be_a_member_and_emotion_in_range(
    template_journey: Journey, actor: Actor, other_organisation: Any, member_factory: Any
) -> None:
    stranger = member_factory(other_organisation, "editor")
    fmot = _stage(template_journey, "FMOT")
    with pytest.raises(ValidationError, match="must be a member"):
        services.touchpoint_create(
            stage=fmot, actor=actor, version=1, name="X", channel="web", owner=stranger
        )
    with pytest.raises(ValidationError, match="from −2 to \\+2"):
        services.touchpoint_create(
            stage=fmot, actor=actor, version=1, name="X", channel="web", emotion=3
        )
    with pytest.raises(ValidationError, match="not a valid event name"):
        services.touchpoint_create(
            stage=fmot, actor=actor, version=1, name="X", channel="web", event_names=["a b"]
        )


def test_export_then_import_gives_an_identical_journey(
    template_journey: Journey, actor: Actor, organisation: Any, editor: Any
) -> None:
    fmot = _stage(template_journey, "FMOT")
    tp = fmot.touchpoints.first()
    services.touchpoint_update(
        touchpoint=tp,
        actor=actor,
        version=1,
        owner=editor,
        pain_points="Ąžuolas „quotes“ <b>",
    )
    template_journey = Journey.objects.get(pk=template_journey.pk)
    exported = transfer.journey_export(journey=template_journey)
    copy = transfer.journey_import(organisation=organisation, actor=actor, data=exported)
    again = transfer.journey_export(journey=copy)
    assert again == exported
    assert copy.status == "draft"
    assert copy.pk != template_journey.pk


def test_import_lists_every_problem_and_creates_nothing(
    organisation: Any, actor: Actor, template_journey: Journey
) -> None:
    data = transfer.journey_export(journey=template_journey)
    stages = data["journey"]["stages"]
    stages[0]["moment"] = "XMOT"
    stages[1]["touchpoints"][0]["channel"] = "telepathy"
    stages[1]["touchpoints"][0]["emotion"] = 7
    stages[2]["touchpoints"][0]["event_names"] = ["search"]
    stages[3]["touchpoints"][0]["owner"] = "nobody@example.com"
    before = Journey.objects.count()
    with pytest.raises(ValidationError) as error:
        transfer.journey_import(organisation=organisation, actor=actor, data=data)
    assert error.value.messages == [
        "journey.stages[0].moment: unknown code “XMOT” (use LZMOT, ZMOT, FMOT, SMOT, TMOT, "
        "UMOT or empty).",
        "journey.stages[1].touchpoints[0].channel: “telepathy” is not one of web, email, ad, "
        "social, search, review_site, marketplace, store, phone, chat, delivery, packaging, other.",
        "journey.stages[1].touchpoints[0].emotion must be a whole number from -2 to 2.",
        "journey.stages[2].touchpoints[0].event_names: “search” already signals stage 1; an "
        "event name can signal only one stage.",
        "journey.stages[3].touchpoints[0].owner: nobody@example.com is not a member of this "
        "organisation.",
    ]
    assert Journey.objects.count() == before


def test_import_refuses_nul_characters_instead_of_failing_in_the_database(
    organisation: Any, actor: Actor, template_journey: Journey
) -> None:
    data = transfer.journey_export(journey=template_journey)
    data["journey"]["name"] = "Kelionė\x00"
    before = Journey.objects.count()
    with pytest.raises(ValidationError) as error:
        transfer.journey_import(organisation=organisation, actor=actor, data=data)
    assert error.value.messages == ["journey.name contains a NUL character."]
    assert Journey.objects.count() == before


def test_import_refuses_what_is_not_an_export(organisation: Any, actor: Actor) -> None:
    with pytest.raises(ValidationError, match="not a MomentMap journey export"):
        transfer.journey_import(organisation=organisation, actor=actor, data=[1, 2])


def test_duplicate_is_a_draft_copy_without_store(template_journey: Journey, actor: Actor) -> None:
    copy = services.journey_duplicate(journey=template_journey, actor=actor)
    assert copy.name == "Copy of E-commerce journey with delivery"
    assert copy.store is None
    assert copy.stages.count() == 5
    assert Touchpoint.objects.filter(stage__journey=copy).count() == 17


def test_share_link_stores_only_a_hash(
    template_journey: Journey, actor: Actor, client: Any
) -> None:
    token = services.journey_share_link_create(journey=template_journey, actor=actor)
    template_journey.refresh_from_db()
    assert token not in template_journey.share_token_hash
    page = client.get(f"/share/journeys/{token}/")
    assert page.status_code == 200
    assert "First product-page visit" in page.content.decode()
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    services.journey_share_link_revoke(journey=template_journey, actor=actor)
    assert client.get(f"/share/journeys/{token}/").status_code == 404
    assert client.get("/share/journeys/made-up-token/").status_code == 404


def test_moving_a_touchpoint_to_where_it_is_changes_nothing(
    template_journey: Journey, actor: Actor
) -> None:
    fmot = _stage(template_journey, "FMOT")
    product_page = fmot.touchpoints.get(name="First product-page visit")
    services.touchpoint_move(
        touchpoint=product_page, actor=actor, version=1, stage=fmot, position=1
    )
    template_journey.refresh_from_db()
    assert template_journey.version == 1
    assert JourneyChange.objects.filter(journey=template_journey).count() == 1


def test_deleting_a_persona_versions_the_journeys_that_had_it(
    template_journey: Journey, actor: Actor
) -> None:
    persona = template_journey.personas.get()
    services.persona_delete(persona=persona, actor=actor)
    template_journey.refresh_from_db()
    assert template_journey.version == 2
    assert list(template_journey.personas.all()) == []
    assert template_journey.changes.first().summary == "The persona “Online shopper” was deleted"


@pytest.mark.django_db(transaction=True)
def test_activation_locks_the_store_before_the_journey_as_store_deletion_does(
    template_journey: Any, store: Any, actor: Actor
) -> None:
    """Deleting a store locks the store, then its journeys. Activation must take the same
    order: were it to lock the journey first and then wait for the store, the two would wait
    on each other until PostgreSQL aborted one of them. Here the store is held: activation
    waits for it without holding the journey, which the holder can still lock."""
    import threading

    from django.db import connection, transaction

    from accounts.models import Store
    from tests.locks import wait_for_a_lock_wait

    outcome: dict[str, Any] = {}

    def activate() -> None:
        try:
            outcome["journey"] = services.journey_activate(
                journey=Journey.objects.get(pk=template_journey.pk),
                actor=actor,
                version=template_journey.version,
            )
        except Exception as exc:  # reported by the assertion below
            outcome["journey"] = exc
        finally:
            connection.close()

    with transaction.atomic():
        Store.objects.select_for_update(no_key=True).get(pk=store.pk)
        thread = threading.Thread(target=activate)
        thread.start()
        if not wait_for_a_lock_wait():
            pytest.fail("activation never waited for the store")
        # Raises DatabaseError ("could not obtain lock") if activation holds the journey.
        Journey.objects.select_for_update(nowait=True).get(pk=template_journey.pk)
    thread.join(10)

    assert isinstance(outcome["journey"], Journey), outcome["journey"]
    assert Journey.objects.get(pk=template_journey.pk).status == Journey.Status.ACTIVE
