"""The JavaScript catalogue: in the page's language, cached for a year on a versioned URL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from babel.messages.pofile import read_po

from accounts.models import Role, User
from core.catalogues import LOCALE_DIR
from core.javascript_catalogue import catalogue_version
from tests.journeys.factories import JourneyFactory

pytestmark = pytest.mark.django_db


def test_the_versioned_catalogue_is_in_its_language_and_cached(client_as: Any) -> None:
    client = client_as(Role.VIEWER)
    url = f"/jsi18n/?language=cs&v={catalogue_version()}"
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    with (LOCALE_DIR / "cs" / "LC_MESSAGES" / "djangojs.po").open("rb") as handle:
        expected = read_po(handle).get("Not saved: %(reason)s").string
    assert expected and expected != "Not saved: %(reason)s"
    assert json.dumps(expected) in response.content.decode()
    cache = response["Cache-Control"]
    assert "public" in cache and "max-age=31536000" in cache and "immutable" in cache
    assert "no-store" not in cache


def test_an_old_version_or_no_language_is_not_cached(client: Any) -> None:
    response = client.get("/jsi18n/?language=lt&v=old")
    assert "public" not in response.get("Cache-Control", "")
    response = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="ro")
    assert response.status_code == 200
    assert "public" not in response.get("Cache-Control", "")


def test_the_journey_editor_loads_the_catalogue_of_the_persons_language(
    client_as: Any, store: Any
) -> None:
    client = client_as(Role.EDITOR)
    User.objects.update(language="lv")
    journey = JourneyFactory(store=store)
    html = client.get(f"/journeys/{journey.pk}/").content.decode()
    assert f'src="/jsi18n/?language=lv&amp;v={catalogue_version()}"' in html
