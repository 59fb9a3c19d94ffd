"""A journey's change history reads in the reader's language, whoever made the change and in
whatever language they worked."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext, ngettext

from accounts.models import Role
from accounts.services import Actor
from journeys import services, transfer
from journeys.blueprints import TEMPLATES
from journeys.models import Journey, JourneyChange

pytestmark = pytest.mark.django_db

TEMPLATE = "ecommerce-delivery"
CREATED = "Created from the template “%(template)s” with %(stages)s and %(touchpoints)s"
CHANGED_STAGE = "Changed the stage “%(name)s”: %(fields)s"
DELETED_STAGE = (
    "Deleted the stage “%(name)s” with %(count)s touchpoint",
    "Deleted the stage “%(name)s” with %(count)s touchpoints",
)


def _expected(language: str, *, stage: str) -> list[str]:
    """The two entries' summaries in `language`, newest first, from the catalogue."""
    with translation.override(language):
        return [
            gettext(CHANGED_STAGE) % {"name": stage, "fields": gettext("customer goal")},
            gettext(CREATED)
            % {
                "template": str(TEMPLATES[TEMPLATE]["label"]),
                "stages": ngettext("%(count)s stage", "%(count)s stages", 5) % {"count": 5},
                "touchpoints": ngettext("%(count)s touchpoint", "%(count)s touchpoints", 17)
                % {"count": 17},
            },
        ]


@pytest.fixture
def written_in_lithuanian(organisation: Any, store: Any, actor: Actor) -> Journey:
    """A journey created from a template and changed by someone working in Lithuanian."""
    with translation.override("lt"):
        journey = services.journey_create_from_template(
            organisation=organisation, actor=actor, template=TEMPLATE, store=store
        )
        stage = journey.stages.get(moment="TMOT")
        services.stage_update(stage=stage, actor=actor, version=1, customer_goal="Laiku")
    return journey


def _history_page(client: Any, journey: Journey) -> str:
    return client.get(f"/journeys/{journey.pk}/history/").content.decode()


def _history_api(api: Any, journey: Journey, **headers: str) -> list[str]:
    results = api.get(f"/api/v1/journeys/{journey.pk}/history/", **headers).json()["results"]
    return [h["summary"] for h in results]


def test_a_czech_reader_reads_a_change_made_in_lithuanian_in_czech(
    written_in_lithuanian: Journey, client: Any, member_factory: Any, organisation: Any
) -> None:
    stage = written_in_lithuanian.stages.get(moment="TMOT").name
    czech, english, lithuanian = (_expected(c, stage=stage) for c in ("cs", "en", "lt"))
    assert all(c != e and c != lt for c, e, lt in zip(czech, english, lithuanian, strict=True))

    client.force_login(member_factory(organisation, Role.VIEWER, language="cs"))
    html = _history_page(client, written_in_lithuanian)
    for summary in czech:
        assert summary in html
    for summary in english + lithuanian:
        assert summary not in html


def test_the_api_gives_the_summary_in_the_request_language(
    written_in_lithuanian: Journey, api_as: Any, member_factory: Any, organisation: Any
) -> None:
    from rest_framework.test import APIClient

    stage = written_in_lithuanian.stages.get(moment="TMOT").name
    # A person's own language setting, as on the pages.
    api = APIClient()
    api.force_login(member_factory(organisation, Role.VIEWER, language="cs"))
    assert _history_api(api, written_in_lithuanian) == _expected("cs", stage=stage)
    # No setting: the request's Accept-Language.
    browser = api_as(Role.VIEWER)
    assert _history_api(browser, written_in_lithuanian, HTTP_ACCEPT_LANGUAGE="cs") == _expected(
        "cs", stage=stage
    )
    assert _history_api(browser, written_in_lithuanian) == _expected("en", stage=stage)


def test_an_english_reader_reads_english_and_summary_keeps_the_default_language(
    written_in_lithuanian: Journey, client: Any, member_factory: Any, organisation: Any
) -> None:
    stage = written_in_lithuanian.stages.get(moment="TMOT").name
    english = _expected("en", stage=stage)
    client.force_login(member_factory(organisation, Role.VIEWER, language="en"))
    html = _history_page(client, written_in_lithuanian)
    for summary in english:
        assert summary in html
    stored = list(written_in_lithuanian.changes.values_list("summary", flat=True))
    assert stored == english
    entry = written_in_lithuanian.changes.first()
    assert entry is not None
    assert set(entry.summaries) == {"en", "lt", "lv", "et", "cs", "ro"}


def test_an_entry_written_before_summaries_shows_its_stored_summary(
    template_journey: Journey, client: Any, api_as: Any, member_factory: Any, organisation: Any
) -> None:
    JourneyChange.objects.create(
        journey=template_journey,
        actor_label="old@example.com",
        action="stage.updated",
        summary="Pakeistas etapas „Pristatymas“: kliento tikslas",
        version=1,
    )
    client.force_login(member_factory(organisation, Role.VIEWER, language="cs"))
    assert "Pakeistas etapas „Pristatymas“: kliento tikslas" in _history_page(
        client, template_journey
    )
    api = api_as(Role.VIEWER)
    assert _history_api(api, template_journey, HTTP_ACCEPT_LANGUAGE="cs")[0] == (
        "Pakeistas etapas „Pristatymas“: kliento tikslas"
    )


def test_plural_pieces_take_each_language_own_form(
    template_journey: Journey, organisation: Any, actor: Actor
) -> None:
    doc = transfer.journey_export(journey=template_journey)
    touchpoint = doc["journey"]["stages"][0]["touchpoints"][0] | {"event_names": []}
    stages = doc["journey"]["stages"][:3]
    for stage, count in zip(stages, (1, 2, 10), strict=True):
        stage["touchpoints"] = [touchpoint | {"name": f"T{i}"} for i in range(count)]
    doc["journey"] |= {"stages": stages, "store": None, "name": "Plurals"}
    journey = transfer.journey_import(organisation=organisation, actor=actor, data=doc)

    with translation.override("lt"):
        created = gettext("Created from an export with %(stages)s and %(touchpoints)s") % {
            "stages": ngettext("%(count)s stage", "%(count)s stages", 3) % {"count": 3},
            "touchpoints": ngettext("%(count)s touchpoint", "%(count)s touchpoints", 13)
            % {"count": 13},
        }
    entry = journey.changes.get()
    assert entry.summaries["lt"] == created
    assert entry.summary == "Created from an export with 3 stages and 13 touchpoints"

    lithuanian = []
    for version, stage in enumerate(journey.stages.order_by("position"), start=1):
        count = stage.touchpoints.count()
        services.stage_delete(stage=stage, actor=actor, version=version)
        with translation.override("lt"):
            expected = ngettext(*DELETED_STAGE, count) % {"name": stage.name, "count": count}
        assert journey.changes.first().summaries["lt"] == expected  # type: ignore[union-attr]
        lithuanian.append(expected.replace(f" {count} ", " N "))
    assert len(set(lithuanian)) == 3  # lt's three plural forms: 1, 2 and 10
