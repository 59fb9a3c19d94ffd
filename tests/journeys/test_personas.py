"""The personas page and the journey page's "Journey details" form."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import Role
from accounts.services import SYSTEM
from journeys import services
from journeys.models import Journey, JourneyChange, Persona
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

PERSONAS = "/journeys/personas/"


def _persona(organisation: Any, name: str = "Loyal regular", **fields: Any) -> Persona:
    return Persona.objects.create(organisation=organisation, name=name, **fields)


def _details(journey: Journey, **changes: Any) -> dict[str, Any]:
    """The details form as the page renders it for `journey`, with `changes` typed in."""
    return {
        "name": journey.name,
        "description": journey.description,
        "store": journey.store_id or "",
        "personas": [p.pk for p in journey.personas.all()],
        "version": journey.version,
        **changes,
    }


def _state(journey: Journey) -> tuple[str, str, int | None, list[str], int]:
    journey = Journey.objects.get(pk=journey.pk)
    personas = sorted(p.name for p in journey.personas.all())
    return journey.name, journey.description, journey.store_id, personas, journey.version


# --- Personas page


def test_viewer_sees_personas_and_where_they_are_used_but_no_write_controls(
    client_as: Any, template_journey: Journey, organisation: Any
) -> None:
    _persona(organisation, goals="Reorder in two clicks")

    page = client_as(Role.VIEWER).get(PERSONAS)

    html = page.content.decode()
    assert page.status_code == 200
    assert [p.name for p in page.context["personas"]] == ["Loyal regular", "Online shopper"]
    assert "Reorder in two clicks" in html
    assert (
        f'<a href="/journeys/{template_journey.pk}/">E-commerce journey with delivery</a>' in html
    )
    assert "Not used in any journey yet." in html
    assert "/journeys/personas/new/" not in html
    assert "/edit/" not in html and "/delete/" not in html


def test_empty_personas_page_says_what_a_persona_is_for(client_as: Any) -> None:
    html = client_as(Role.VIEWER).get(PERSONAS).content.decode()
    assert "No personas yet." in html
    assert "A persona is a typical customer" in html
    assert "Ask an editor to add one." in html


def test_journey_list_links_to_the_personas_page(client_as: Any) -> None:
    html = client_as(Role.VIEWER).get("/journeys/").content.decode()
    assert f'href="{PERSONAS}"' in html


def test_personas_page_queries_do_not_grow_with_personas(
    client_as: Any, organisation: Any, template_journey: Journey, django_assert_num_queries: Any
) -> None:
    client = client_as(Role.EDITOR)
    for i in range(6):
        template_journey.personas.add(_persona(organisation, f"Persona {i}"))
    client.get(PERSONAS)
    # session, user, membership, switchers (organisations, stores); personas,
    # their journeys
    with django_assert_num_queries(7):
        page = client.get(PERSONAS)
    assert len(page.context["personas"]) == 7


def test_editor_creates_edits_and_deletes_a_persona(client_as: Any, organisation: Any) -> None:
    client = client_as(Role.EDITOR)

    created = client.post(
        "/journeys/personas/new/",
        {
            "name": "  First-time buyer ",
            "description": "Found us through an ad",
            "goals": "Trust the shop",
            "frustrations": "Unclear returns",
        },
    )
    persona = Persona.objects.get()
    assert created.status_code == 302 and created.url == PERSONAS
    assert (persona.organisation, persona.name, persona.description) == (
        organisation,
        "First-time buyer",
        "Found us through an ad",
    )
    assert (persona.goals, persona.frustrations) == ("Trust the shop", "Unclear returns")

    form = client.get(f"/journeys/personas/{persona.pk}/edit/")
    assert form.context["form"]["name"].value() == "First-time buyer"
    edited = client.post(
        f"/journeys/personas/{persona.pk}/edit/",
        {"name": "Returning buyer", "description": "", "goals": "Reorder fast", "frustrations": ""},
    )
    persona.refresh_from_db()
    assert edited.status_code == 302 and edited.url == PERSONAS
    assert (persona.name, persona.description, persona.goals, persona.frustrations) == (
        "Returning buyer",
        "",
        "Reorder fast",
        "",
    )

    deleted = client.post(f"/journeys/personas/{persona.pk}/delete/", follow=True)
    assert deleted.redirect_chain == [(PERSONAS, 302)]
    assert "Persona “Returning buyer” deleted." in deleted.content.decode()
    assert not Persona.objects.exists()


def test_persona_without_a_name_is_refused_next_to_the_field(client_as: Any) -> None:
    response = client_as(Role.EDITOR).post("/journeys/personas/new/", {"name": "  "})
    assert response.status_code == 400
    assert response.context["form"].errors == {"name": ["This field is required."]}
    assert not Persona.objects.exists()


def test_viewer_cannot_write_personas(client_as: Any, organisation: Any) -> None:
    persona = _persona(organisation)
    client = client_as(Role.VIEWER)
    edit, delete = (
        f"/journeys/personas/{persona.pk}/edit/",
        f"/journeys/personas/{persona.pk}/delete/",
    )

    assert client.get("/journeys/personas/new/").status_code == 403
    assert client.post("/journeys/personas/new/", {"name": "Sneaky"}).status_code == 403
    assert client.get(edit).status_code == 403
    assert client.post(edit, {"name": "Renamed"}).status_code == 403
    assert client.post(delete, {"confirm": "1"}).status_code == 403
    assert list(Persona.objects.values_list("name", flat=True)) == ["Loyal regular"]


def test_deleting_a_used_persona_names_its_journeys_and_waits_for_confirmation(
    client_as: Any, organisation: Any, template_journey: Journey, actor: Any
) -> None:
    shopper = template_journey.personas.get()
    other = services.journey_create(
        organisation=organisation, actor=actor, name="Returns journey", personas=[shopper]
    )
    client = client_as(Role.EDITOR)
    url = f"/journeys/personas/{shopper.pk}/delete/"

    asked = client.post(url)

    html = asked.content.decode()
    assert asked.status_code == 200
    assert [j.name for j in asked.context["journeys"]] == [
        "E-commerce journey with delivery",
        "Returns journey",
    ]
    assert "It is used by these 2 journeys" in html
    assert f'<a href="/journeys/{other.pk}/">Returns journey</a>' in html
    assert Persona.objects.filter(pk=shopper.pk).exists()

    confirmed = client.post(url, {"confirm": "1"})

    assert confirmed.status_code == 302 and confirmed.url == PERSONAS
    assert not Persona.objects.filter(pk=shopper.pk).exists()
    assert list(template_journey.personas.all()) == []
    assert Journey.objects.count() == 2


def test_another_organisations_persona_is_not_found(
    client_as: Any, other_organisation: Any
) -> None:
    theirs = _persona(other_organisation, "Their persona")
    client = client_as(Role.OWNER)

    assert client.get(f"/journeys/personas/{theirs.pk}/edit/").status_code == 404
    assert client.post(f"/journeys/personas/{theirs.pk}/edit/", {"name": "x"}).status_code == 404
    assert (
        client.post(f"/journeys/personas/{theirs.pk}/delete/", {"confirm": "1"}).status_code == 404
    )
    assert "Their persona" not in client.get(PERSONAS).content.decode()
    assert Persona.objects.get(pk=theirs.pk).name == "Their persona"


# --- Journey details form


def test_details_form_is_for_editors_and_shows_the_saved_values(
    client_as: Any, template_journey: Journey, organisation: Any
) -> None:
    _persona(organisation)
    shopper = template_journey.personas.get()

    editor_page = client_as(Role.EDITOR).get(f"/journeys/{template_journey.pk}/")

    html = editor_page.content.decode()
    form = editor_page.context["details_form"]
    assert f'action="/journeys/{template_journey.pk}/details/"' in html
    assert '<details class="card journey-details" id="journey-details">' in html  # closed
    assert form["name"].value() == "E-commerce journey with delivery"
    assert form["store"].value() == template_journey.store_id
    assert form["personas"].value() == [shopper.pk]
    assert '<input type="hidden" name="version" value="1"' in html
    regular = Persona.objects.get(name="Loyal regular")
    assert f'value="{regular.pk}" id="journey-details-personas_0">' in html
    assert f'value="{shopper.pk}" id="journey-details-personas_1" checked>' in html

    viewer_page = client_as(Role.VIEWER).get(f"/journeys/{template_journey.pk}/")
    assert viewer_page.context["details_form"] is None
    assert "/details/" not in viewer_page.content.decode()


def test_details_form_updates_the_journey_and_bumps_the_version(
    client_as: Any, template_journey: Journey, organisation: Any
) -> None:
    regular = _persona(organisation)
    new_store = StoreFactory(organisation=organisation, name="Baltic Goods LV")
    client = client_as(Role.EDITOR)

    response = client.post(
        f"/journeys/{template_journey.pk}/details/",
        _details(
            template_journey,
            name="Delivery journey 2025",
            description="Latvia first",
            store=new_store.pk,
            personas=[regular.pk],
        ),
        follow=True,
    )

    assert response.redirect_chain == [(f"/journeys/{template_journey.pk}/", 302)]
    assert "Journey details saved." in response.content.decode()
    assert _state(template_journey) == (
        "Delivery journey 2025",
        "Latvia first",
        new_store.pk,
        ["Loyal regular"],
        2,
    )
    change = JourneyChange.objects.filter(journey=template_journey).first()
    assert change is not None
    assert (change.action, change.version) == ("journey.updated", 2)
    assert change.details["personas"] == {"from": ["Online shopper"], "to": ["Loyal regular"]}
    # The page after the redirect offers the new version, for the next save.
    assert response.context["details_form"]["version"].value() == 2


def test_unchanged_details_save_nothing(client_as: Any, template_journey: Journey) -> None:
    response = client_as(Role.EDITOR).post(
        f"/journeys/{template_journey.pk}/details/", _details(template_journey), follow=True
    )
    assert "Nothing to save: the journey details are unchanged." in response.content.decode()
    assert _state(template_journey)[4] == 1


def test_stale_version_shows_the_conflict_keeps_the_typed_values_and_changes_nothing(
    client_as: Any, template_journey: Journey, actor: Any
) -> None:
    client = client_as(Role.EDITOR)
    typed = _details(template_journey, name="My new name", description="Typed by me", personas=[])
    # Someone else renames the journey after the page was loaded at version 1.
    services.journey_update(journey=template_journey, actor=actor, version=1, name="Their name")
    before = _state(template_journey)

    response = client.post(f"/journeys/{template_journey.pk}/details/", typed)

    html = response.content.decode()
    form = response.context["details_form"]
    assert response.status_code == 409
    assert "Someone else changed this journey" in html
    assert "Your change was not saved." in html
    assert '<details class="card journey-details" id="journey-details" open>' in html
    assert (form["name"].value(), form["description"].value()) == ("My new name", "Typed by me")
    assert form["personas"].value() == []
    assert form["version"].value() == "2"  # saving again is now a deliberate overwrite
    assert '<h1 id="journey-title">Their name</h1>' in html
    assert (
        _state(template_journey)
        == before
        == (
            "Their name",
            template_journey.description,
            template_journey.store_id,
            ["Online shopper"],
            2,
        )
    )


def test_details_validation_errors_are_shown_next_to_the_fields(
    client_as: Any, template_journey: Journey, actor: Any
) -> None:
    journey = services.journey_activate(journey=template_journey, actor=actor, version=1)
    client = client_as(Role.EDITOR)
    url = f"/journeys/{journey.pk}/details/"
    before = _state(journey)

    blank = client.post(url, _details(journey, name=""))
    assert blank.status_code == 400
    assert blank.context["details_form"].errors == {"name": ["This field is required."]}

    no_store = client.post(url, _details(journey, store=""))
    assert no_store.status_code == 400
    assert no_store.context["details_form"].errors == {
        "store": ["An active journey needs a store."]
    }
    html = no_store.content.decode()
    assert "The details were not saved: correct the fields marked below." in html
    assert 'id="journey-details-store_error"' in html
    assert _state(journey) == before


def test_details_refuse_another_organisations_persona_and_journey(
    client_as: Any, template_journey: Journey, other_organisation: Any
) -> None:
    theirs = _persona(other_organisation, "Their persona")
    their_journey = services.journey_create(
        organisation=other_organisation, actor=SYSTEM, name="Their journey"
    )
    client = client_as(Role.OWNER)
    before = _state(template_journey)

    foreign_persona = client.post(
        f"/journeys/{template_journey.pk}/details/",
        _details(template_journey, personas=[theirs.pk]),
    )
    assert foreign_persona.status_code == 400
    assert foreign_persona.context["details_form"].errors == {
        "personas": [f"Select a valid choice. {theirs.pk} is not one of the available choices."]
    }
    assert _state(template_journey) == before

    foreign_journey = client.post(
        f"/journeys/{their_journey.pk}/details/", _details(their_journey, name="Hijacked")
    )
    assert foreign_journey.status_code == 404
    assert Journey.objects.get(pk=their_journey.pk).name == "Their journey"


def test_viewer_cannot_save_details(client_as: Any, template_journey: Journey) -> None:
    response = client_as(Role.VIEWER).post(
        f"/journeys/{template_journey.pk}/details/", _details(template_journey, name="Viewer's")
    )
    assert response.status_code == 403
    assert _state(template_journey)[0] == "E-commerce journey with delivery"


def test_details_page_only_takes_posts(client_as: Any, template_journey: Journey) -> None:
    assert (
        client_as(Role.EDITOR).get(f"/journeys/{template_journey.pk}/details/").status_code == 405
    )
