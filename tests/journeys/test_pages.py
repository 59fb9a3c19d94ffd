from __future__ import annotations

import csv
import io
import json
from typing import Any
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from journeys import services, transfer
from journeys.models import Journey, Touchpoint

pytestmark = pytest.mark.django_db


def test_list_page_searches_and_filters(
    client_as: Any, template_journey: Journey, actor: Any, organisation: Any
) -> None:
    services.journey_create(organisation=organisation, actor=actor, name="Returns journey")
    client = client_as(Role.VIEWER)

    everything = client.get("/journeys/")
    assert [j.name for j in everything.context["journeys"]] == [
        "Returns journey",
        "E-commerce journey with delivery",
    ]
    searched = client.get("/journeys/?q=returns")
    assert [j.name for j in searched.context["journeys"]] == ["Returns journey"]
    by_store = client.get(f"/journeys/?store={template_journey.store_id}&status=draft")
    assert [j.name for j in by_store.context["journeys"]] == ["E-commerce journey with delivery"]
    nothing = client.get("/journeys/?status=active")
    assert "No journey matches these filters." in nothing.content.decode()


def test_empty_list_says_what_to_do(client_as: Any) -> None:
    page = client_as(Role.EDITOR).get("/journeys/")
    assert "No journey maps yet. Start from a template" in page.content.decode()


def test_editor_creates_from_template_on_the_page(client_as: Any, store: Any) -> None:
    client = client_as(Role.EDITOR)
    response = client.post(
        "/journeys/new/", {"name": "", "store": store.pk, "template": "ecommerce-delivery"}
    )
    journey = Journey.objects.get()
    assert response.status_code == 302
    assert response.url == f"/journeys/{journey.pk}/"
    assert journey.name == "E-commerce journey with delivery"
    assert journey.store == store


def test_opening_the_create_url_shows_its_form(client_as: Any, template_journey: Journey) -> None:
    client = client_as(Role.EDITOR)
    assert '<details class="card" id="new-journey" >' in client.get("/journeys/").content.decode()

    response = client.get("/journeys/new/", follow=True)

    assert response.redirect_chain == [("/journeys/?new#new-journey", 302)]
    assert '<details class="card" id="new-journey" open>' in response.content.decode()
    assert client_as(Role.VIEWER).get("/journeys/new/").status_code == 403


def test_viewer_cannot_create_duplicate_or_import(
    client_as: Any, template_journey: Journey
) -> None:
    client = client_as(Role.VIEWER)
    assert client.post("/journeys/new/", {"name": "x"}).status_code == 403
    assert client.post(f"/journeys/{template_journey.pk}/duplicate/").status_code == 403
    assert client.get("/journeys/import/").status_code == 403
    assert Journey.objects.count() == 1


def test_detail_page_is_read_only_for_viewers(client_as: Any, template_journey: Journey) -> None:
    viewer_page = client_as(Role.VIEWER).get(f"/journeys/{template_journey.pk}/")
    html = viewer_page.content.decode()
    assert viewer_page.context["editor_config"]["canEdit"] is False
    assert 'data-can-edit="false"' in html
    assert "Activate" not in html
    assert "First product-page visit" in html


def test_user_text_is_escaped_on_the_map(
    client_as: Any, template_journey: Journey, actor: Any
) -> None:
    stage = template_journey.stages.first()
    services.touchpoint_create(
        stage=stage, actor=actor, version=1, name="<img src=x onerror=alert(1)>", channel="web"
    )
    html = client_as(Role.VIEWER).get(f"/journeys/{template_journey.pk}/").content.decode()
    assert "<img src=x onerror=alert(1)>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_import_page_lists_problems_and_creates_nothing(
    client_as: Any, template_journey: Journey
) -> None:
    client = client_as(Role.EDITOR)
    data = transfer.journey_export(journey=template_journey)
    data["journey"]["stages"][0]["touchpoints"][0]["emotion"] = 9
    upload = SimpleUploadedFile("j.json", json.dumps(data).encode(), "application/json")
    response = client.post("/journeys/import/", {"file": upload})
    assert response.status_code == 400
    assert response.context["problems"] == [
        "journey.stages[0].touchpoints[0].emotion must be a whole number from -2 to 2."
    ]
    assert Journey.objects.count() == 1
    broken = SimpleUploadedFile("j.json", b"{not json", "application/json")
    assert (
        "not valid JSON"
        in client.post("/journeys/import/", {"file": broken}).context["problems"][0]
    )


def test_exported_json_reimports_identically(client_as: Any, template_journey: Journey) -> None:
    client = client_as(Role.EDITOR)
    exported = client.get(f"/journeys/{template_journey.pk}/export.json")
    assert exported["Content-Disposition"] == (
        'attachment; filename="e-commerce-journey-with-delivery.json"'
    )
    upload = SimpleUploadedFile("j.json", exported.content, "application/json")
    response = client.post("/journeys/import/", {"file": upload})
    copy = Journey.objects.exclude(pk=template_journey.pk).get()
    assert response.url == f"/journeys/{copy.pk}/"
    assert transfer.journey_export(journey=copy) == json.loads(exported.content)


def test_csv_export_has_one_row_per_touchpoint(
    client_as: Any, template_journey: Journey, actor: Any
) -> None:
    stage = template_journey.stages.get(moment="FMOT")
    services.touchpoint_create(
        stage=stage, actor=actor, version=1, name='=HYPERLINK("x")', channel="web"
    )
    response = client_as(Role.VIEWER).get(f"/journeys/{template_journey.pk}/export.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "stage_position",
        "stage",
        "moment",
        "touchpoint_position",
        "touchpoint",
        "channel",
        "is_moment_of_truth",
        "emotion",
        "pain_points",
        "opportunities",
        "owner",
        "event_names",
    ]
    assert len(rows) == 1 + 18
    assert rows[5][:8] == [
        "2",
        "First impression",
        "FMOT",
        "2",
        "First product-page visit",
        "web",
        "yes",
        "1",
    ]
    assert rows[5][11] == "product_view"
    assert rows[6][4] == '\'=HYPERLINK("x")'  # never a live formula in a spreadsheet


def test_svg_export_is_a_valid_picture_of_the_map(
    client_as: Any, template_journey: Journey
) -> None:
    response = client_as(Role.VIEWER).get(f"/journeys/{template_journey.pk}/export.svg")
    assert response["Content-Type"] == "image/svg+xml"
    root = ElementTree.fromstring(response.content)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    texts = [t.text for t in root.iterfind(".//svg:text", ns)]
    assert "★ First product-page visit" in texts
    assert "TMOT" in texts
    points = root.find(".//svg:polyline", ns).get("points").split()
    assert len(points) == Touchpoint.objects.filter(stage__journey=template_journey).count()


def test_share_link_is_shown_once_and_revocable(client_as: Any, template_journey: Journey) -> None:
    client = client_as(Role.EDITOR)
    client.post(f"/journeys/{template_journey.pk}/share/")
    first = client.get(f"/journeys/{template_journey.pk}/")
    url = first.context["share_url"]
    assert url.startswith("http://testserver/share/journeys/")
    assert client.get(f"/journeys/{template_journey.pk}/").context["share_url"] is None
    path = url.removeprefix("http://testserver")
    client.logout()
    assert client.get(path).status_code == 200
    editor = client_as(Role.EDITOR)
    editor.post(f"/journeys/{template_journey.pk}/share/", {"action": "revoke"})
    editor.logout()
    assert editor.get(path).status_code == 404


def test_a_new_share_link_says_first_that_the_current_one_stops_working(
    client_as: Any, template_journey: Journey
) -> None:
    client = client_as(Role.EDITOR)
    page = f"/journeys/{template_journey.pk}/"
    share = f"/journeys/{template_journey.pk}/share/"
    warning = "The current link stops working at once:"
    # No link yet: made at once, nothing to replace.
    assert 'action="' + share + '"' in client.get(page).content.decode()
    client.post(share)
    first = client.get(page).context["share_url"].removeprefix("http://testserver")
    before = Journey.objects.get(pk=template_journey.pk).share_token_hash

    # Now the button is a link to the question, and a POST without confirm only asks it.
    html = client.get(page).content.decode()
    assert f'<a class="button small secondary" href="{share}">New share link…</a>' in html
    asked = client.get(share)
    assert warning in asked.content.decode()
    assert 'name="confirm" value="1">Replace the link</button>' in asked.content.decode()
    assert warning in client.post(share).content.decode()
    assert Journey.objects.get(pk=template_journey.pk).share_token_hash == before
    assert client.get(first).status_code == 200

    replaced = client.post(share, {"confirm": "1"}, follow=True)
    second = replaced.context["share_url"].removeprefix("http://testserver")
    assert second != first
    client.logout()
    assert (client.get(first).status_code, client.get(second).status_code) == (404, 200)
    assert client_as(Role.VIEWER).get(share).status_code == 403


def test_activation_page_asks_for_confirmation(
    client_as: Any, template_journey: Journey, organisation: Any, store: Any, actor: Any
) -> None:
    services.journey_activate(journey=template_journey, actor=actor, version=1)
    other = services.journey_create(organisation=organisation, actor=actor, name="New", store=store)
    client = client_as(Role.EDITOR)
    ask = client.post(f"/journeys/{other.pk}/activate/")
    assert ask.status_code == 200
    assert "already has an active journey" in ask.content.decode()
    assert "This field is required." not in ask.content.decode()
    assert Journey.objects.get(pk=other.pk).status == "draft"
    done = client.post(
        f"/journeys/{other.pk}/activate/", {"replace_active": "draft", "confirm": "1"}
    )
    assert done.status_code == 302
    assert Journey.objects.get(pk=other.pk).status == "active"
    assert Journey.objects.get(pk=template_journey.pk).status == "draft"


def test_history_page_shows_who_changed_what(
    client_as: Any, template_journey: Journey, actor: Any
) -> None:
    stage = template_journey.stages.get(moment="UMOT")
    services.stage_update(stage=stage, actor=actor, version=1, name="Advocacy")
    page = client_as(Role.VIEWER).get(f"/journeys/{template_journey.pk}/history/")
    html = page.content.decode()
    assert "editor@example.com" in html
    assert "Changed the stage “Advocacy”: name" in html


def test_javascript_catalog_is_served_and_loaded_before_the_editor(
    client_as: Any, template_journey: Journey
) -> None:
    client = client_as(Role.VIEWER)
    catalog = client.get("/jsi18n/")
    assert catalog.status_code == 200
    assert catalog["Content-Type"].startswith("text/javascript")
    script = catalog.content.decode()
    for name in ("gettext", "ngettext", "interpolate"):
        assert f"globals.{name} = django.{name};" in script

    html = client.get(f"/journeys/{template_journey.pk}/").content.decode()
    # A classic script (not a module, not deferred): it runs before the editor module.
    catalog_tag = html.find('<script src="/jsi18n/?language=en&amp;v=')
    editor_tag = html.find("js/journey-editor/main.js")
    assert catalog_tag != -1
    assert editor_tag != -1
    assert catalog_tag < editor_tag


def test_the_editor_reads_measured_figures_for_a_stores_active_journey_only(
    client_as: Any, template_journey: Journey, store: Any
) -> None:
    client = client_as(Role.VIEWER)
    config = client.get(f"/journeys/{template_journey.pk}/").context["editor_config"]
    assert "funnelUrl" not in config  # a draft measures nothing
    Journey.objects.filter(pk=template_journey.pk).update(store=store, status="active")
    config = client.get(f"/journeys/{template_journey.pk}/").context["editor_config"]
    assert config["funnelUrl"] == f"/api/v1/stores/{store.pk}/funnel/"
    assert config["stageUrl"] == f"/stores/{store.pk}/dashboard/stages/0/"
