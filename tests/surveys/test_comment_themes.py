"""Comment themes with exact counts: answers written in each of the six survey languages, whose
inflected forms of one word count as one (simplemma 2.0.0's lemmas, stopwordsiso 0.7.1's stop
words, as the lock pins them), the phrases of two words, the mean scores per scale, the
newest examples, erasure, and the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from accounts.models import Organisation, Role, Store
from accounts.services import SYSTEM
from core.models import Task
from journeys.models import Stage
from surveys import selectors, services, tasks
from surveys.comment_themes import LANGUAGES, MIN_ANSWERS, stop_words, terms
from surveys.models import Answer, CommentThemeResult, Contact, Survey
from tests.factories import StoreFactory
from tests.metrics.test_funnel_api import STAGES, journey_for
from tests.surveys.factories import survey_texts
from tests.surveys.test_api import error, key_for
from tests.surveys.test_results import QUESTIONS, Customer, given

pytestmark = pytest.mark.django_db

# The frozen clock (tests/conftest.py `now`) is 2026-03-15 12:00 UTC; the store's zone is
# Europe/Vilnius, so its last 90 days start on 2025-12-16 at 00:00 there (22:00 UTC before).
DAY = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

# Per language, four answers written a day apart (oldest first), with the ratings 2, 1, 5, 3:
# the first three name the courier (or the parcel) in three different forms and the fourth in
# the first form again, next to the same verb as the first (in another form where the language
# has one). Then the themes, most answers first, then words before phrases, alphabetically.
RATINGS = [2, 1, 5, 3]
CASES: dict[str, tuple[list[str], list[tuple[str, int]]]] = {
    "lt": (
        [
            "Kurjeris vėlavo dvi dienas.",
            "Kurjerio teko laukti visą dieną!",
            "Ačiū kurjeriui, viskas laiku.",
            "Kurjeris vėluoja.",
        ],
        [("kurjeris", 4), ("diena", 2), ("vėluoti", 2), ("kurjeris vėluoti", 2)],
    ),
    "lv": (
        [
            "Paka pienāca vēlu.",
            "Pakas kaste bija saplēsta.",
            "Paku saņēmu laikā, paldies!",
            "Paka pienāks rīt.",
        ],
        [("paka", 4), ("pienākt", 2), ("paka pienākt", 2)],
    ),
    "et": (
        [
            "Kuller hilines kaks päeva.",
            "Kulleri pidin ootama terve päeva.",
            "Kullerit polnud kodus näha.",
            "Kuller hilineb jälle.",
        ],
        [("kuller", 4), ("hilinema", 2), ("päev", 2), ("kuller hilinema", 2)],
    ),
    "cs": (
        [
            "Kurýr přijel pozdě.",
            "Na kurýra jsem čekal celý den.",
            "Děkuji kurýrovi za rychlé doručení.",
            "Kurýr přijede pozdě.",
        ],
        [("kurýr", 4), ("přijet", 2), ("kurýr přijet", 2)],
    ),
    "ro": (
        [
            "Curierul a întârziat.",
            "Am așteptat curierul toată ziua.",
            "Mulțumesc curierului pentru livrarea rapidă.",
            "Curierii întârzie mereu.",
        ],
        [("curier", 4), ("întârzia", 2), ("curier întârzia", 2)],
    ),
    "en": (
        [
            "The courier was two days late.",
            "Couriers never call ahead!",
            "The courier's van blocked my drive.",
            "Another courier van blocked the street.",
        ],
        [("courier", 4), ("block", 2), ("van", 2), ("courier van", 2), ("van block", 2)],
    ),
}
# The mean rating of the answers that use each theme: all four (2, 1, 5, 3), the first and
# the last (2, 3), the first two (2, 1) or the last two (5, 3).
MEANS = {
    "lt": [2.75, 1.5, 2.5, 2.5],
    "lv": [2.75, 2.5, 2.5],
    "et": [2.75, 2.5, 1.5, 2.5],
    "cs": [2.75, 2.5, 2.5],
    "ro": [2.75, 2.5, 2.5],
    "en": [2.75, 4.0, 4.0, 4.0, 4.0],
}


def six_language_survey(
    store: Store, *, questions: list[str], moment: str = "TMOT", name: str = "Delivery"
) -> Survey:
    survey = services.survey_create(
        organisation=store.organisation,
        store=store,
        actor=SYSTEM,
        name=name,
        kind="csat",
        moment=moment,
        trigger_event=f"{name.lower()}-{moment.lower()}",
        languages=list(LANGUAGES),
        default_language="en",
        **survey_texts(list(LANGUAGES)),
    )
    for key in questions:
        text = QUESTIONS[key]["text"]["en"]
        question = {**QUESTIONS[key], "text": dict.fromkeys(LANGUAGES, text)}
        services.question_create(survey=survey, actor=SYSTEM, required=False, **question)
    return services.survey_set_status(survey=survey, actor=SYSTEM, status="active")


def comment(address: str, answers: dict[str, Any]) -> Customer:
    """A customer who answered in English on DAY."""
    return Customer(address, answers=answers, answered_at=DAY)


def email(language: str, index: int) -> str:
    return f"{language}{index}@example.com"


@pytest.fixture
def store(organisation: Organisation, now: datetime) -> Store:
    return StoreFactory(organisation=organisation, name="Baltic Goods LT")


@pytest.fixture
def answered(store: Store) -> Survey:
    """Every case's four answers to one TMOT survey (a rating and a comment), then computed."""
    survey = six_language_survey(store, questions=["rating", "text"])
    given(
        survey,
        [
            Customer(
                email(language, index),
                answers={"rating": rating, "text": text},
                answered_at=DAY + timedelta(days=index),
                language=language,
            )
            for language, (texts, _themes) in CASES.items()
            for index, (text, rating) in enumerate(zip(texts, RATINGS, strict=True))
        ],
    )
    services.comment_themes_compute(store_id=store.pk)
    return survey


def language_of(themes: dict[str, Any], language: str, stage: int = 0) -> dict[str, Any]:
    (group,) = [g for g in themes["stages"][stage]["languages"] if g["language"] == language]
    return group


# --- What one answer contributes


def test_stop_words_numbers_and_punctuation_are_dropped() -> None:
    assert terms("The courier did not call, the parcel was 2 days late!!", "en") == {
        "courier",  # "did", "not", "call", "the", "was" are stop words; "2" a number
        "parcel",
        "day",
        "late",
        "parcel day",  # the number between them does not part them
        "day late",
    }
    # A comma ends a clause: no "courier parcel".
    assert "courier parcel" not in terms("The courier, the parcel.", "en")


def test_a_negation_ends_a_phrase() -> None:
    assert terms("Kurjeris nepaskambino ir ne atvežė.", "lt") == {
        "kurjeris",
        "nepaskambino",
        "kurjeris nepaskambino",
        "atvežti",  # "ne" stands between: no "nepaskambino atvežti"
    }
    assert terms("Curierul nu a sunat.", "ro") == {"curier", "suna"}


def test_the_packaged_stop_word_lists_as_read() -> None:
    # Lithuanian: the words stopwordsiso ships mis-encoded (`dël`, `að`) are read as meant.
    assert {"dėl", "aš", "iš"} <= stop_words("lt")
    assert not {"dël", "að"} & stop_words("lt")
    # Romanian: the cedilla the list is written with is read as the comma below.
    assert {"și", "acești"} <= stop_words("ro") and "şi" not in stop_words("ro")
    assert terms("Curierul şi coletul", "ro") == {"curier", "colet", "curier colet"}
    # What the lists lack and is added: "to be" in Lithuanian, pronouns in Latvian, Estonian's
    # function words, numbers written as words.
    assert {"buvo", "yra", "du"} <= stop_words("lt")
    assert {"viņš", "tas", "divi"} <= stop_words("lv")
    assert {"väga", "ka", "kaks"} <= stop_words("et")
    assert terms("Siuntinys buvo labai geras", "lt") == {"siuntinys", "geras", "siuntinys geras"}


def test_an_answer_counts_once_for_a_word_it_repeats() -> None:
    assert terms("Kurjeris, kurjeris, kurjerio!", "lt") == {"kurjeris"}
    assert terms("courier courier", "en") == {"courier"}  # a word twice is no phrase


# --- Themes of each language, exact


@pytest.mark.parametrize("language", list(CASES))
def test_inflected_forms_count_as_one_word_in_each_language(
    answered: Survey, store: Store, language: str
) -> None:
    texts, expected = CASES[language]

    themes = selectors.comment_themes(store=store, stage=("TMOT", ""))

    group = language_of(themes, language)
    assert group["answers"] == 4
    assert group["scores"] == {"csat": {"count": 4, "mean": 2.75}, "nps": None, "ces": None}
    assert [(t["phrase"], t["answers"]) for t in group["themes"]] == expected
    assert [t["words"] for t in group["themes"]] == [p.count(" ") + 1 for p, _n in expected]
    assert [t["scores"]["csat"]["mean"] for t in group["themes"]] == MEANS[language]
    assert [t["scores"]["csat"]["count"] for t in group["themes"]] == [n for _p, n in expected]
    word = group["themes"][0]
    assert word["share"]["successes"] == 4 and word["share"]["total"] == 4
    assert word["share"]["value"] == 1.0
    assert group["themes"][1]["share"]["value"] == 0.5
    # Three examples at most, newest first: the fourth answer, the third, the second.
    assert [e["text"] for e in word["examples"]] == [texts[3], texts[2], texts[1]]
    assert {e["language"] for e in word["examples"]} == {language}
    # Used once only, nothing is a theme: every theme has MIN_ANSWERS or more.
    assert min(t["answers"] for t in group["themes"]) == MIN_ANSWERS


def test_every_language_and_both_periods_are_stored(answered: Survey, store: Store) -> None:
    rows = CommentThemeResult.objects.filter(store=store)
    assert sorted(rows.values_list("period", "moment", "language")) == sorted(
        (period, "TMOT", language) for period in ("all_time", "last_90") for language in LANGUAGES
    )
    last_90 = rows.get(period="last_90", language="lt")
    assert last_90.start == datetime(2025, 12, 15, 22, 0, tzinfo=UTC)  # Vilnius midnight
    assert last_90.computed_at == datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    assert rows.get(period="all_time", language="lt").start is None
    # The languages with the most answers first; equal ones by code.
    themes = selectors.comment_themes(store=store)
    assert [g["language"] for g in themes["stages"][0]["languages"]] == sorted(LANGUAGES)
    assert themes["stages"][0]["label"] == "Third moment"


def test_the_last_90_days_and_all_time(answered: Survey, store: Store) -> None:
    given(
        answered,
        [
            Customer(
                "old@example.com",
                answers={"rating": 1, "text": "Kurjeris vėl vėlavo."},
                answered_at=datetime(2025, 12, 15, 21, 59, tzinfo=UTC),  # 23:59 in Vilnius
                language="lt",
            )
        ],
    )
    services.comment_themes_compute(store_id=store.pk)

    recent = language_of(selectors.comment_themes(store=store), "lt")
    ever = language_of(selectors.comment_themes(store=store, period="all_time"), "lt")

    assert (recent["answers"], ever["answers"]) == (4, 5)
    assert recent["themes"][0] == {**recent["themes"][0], "phrase": "kurjeris", "answers": 4}
    assert [(t["phrase"], t["answers"]) for t in ever["themes"]] == [
        ("kurjeris", 5),
        ("vėluoti", 3),
        ("kurjeris vėluoti", 3),
        ("diena", 2),
    ]
    assert ever["themes"][1]["scores"]["csat"] == {"count": 3, "mean": 2.0}  # 2, 3 and 1
    assert ever["themes"][1]["share"]["value"] == 0.6


def test_scales_are_never_mixed(store: Store) -> None:
    """A stage asked with a CSAT survey and a CES survey: each comment's response has a score
    on one of the scales; the theme has a mean on each, of the answers scored on it."""
    csat = six_language_survey(store, questions=["rating", "text"], moment="SMOT", name="After")
    ces = six_language_survey(store, questions=["ces", "text"], moment="SMOT", name="Checkout")
    given(csat, [comment("a@example.com", {"rating": 1, "text": "Slow courier"})])
    given(csat, [comment("b@example.com", {"rating": 4, "text": "Courier was fine"})])
    given(ces, [comment("c@example.com", {"ces": 7, "text": "Quick courier"})])
    given(ces, [comment("d@example.com", {"text": "Couriers!"})])  # no score
    services.comment_themes_compute(store_id=store.pk)

    group = language_of(selectors.comment_themes(store=store, stage=("SMOT", "")), "en")

    assert group["scores"] == {
        "csat": {"count": 2, "mean": 2.5},
        "nps": None,
        "ces": {"count": 1, "mean": 7.0},
    }
    (courier,) = group["themes"]
    assert (courier["phrase"], courier["answers"]) == ("courier", 4)
    assert courier["scores"] == group["scores"]


def test_a_custom_stage_and_a_survey_of_no_stage(store: Store) -> None:
    survey = services.survey_create(
        organisation=store.organisation,
        store=store,
        actor=SYSTEM,
        name="Showroom",
        kind="csat",
        custom_stage="Showroom visit",
        trigger_event="showroom",
        languages=["en"],
        default_language="en",
        **survey_texts(["en"]),
    )
    services.question_create(survey=survey, actor=SYSTEM, required=False, **QUESTIONS["text"])
    services.survey_set_status(survey=survey, actor=SYSTEM, status="active")
    given(
        survey,
        [comment(f"s{i}@example.com", {"text": "Lovely showroom"}) for i in range(2)],
    )
    services.comment_themes_compute(store_id=store.pk)

    (stage,) = selectors.comment_themes(store=store, stage=("", "Showroom visit"))["stages"]

    assert (stage["moment"], stage["custom_stage"], stage["label"]) == (
        "",
        "Showroom visit",
        "Showroom visit",
    )
    assert [(t["phrase"], t["answers"]) for t in stage["languages"][0]["themes"]] == [
        ("lovely", 2),
        ("showroom", 2),
        ("lovely showroom", 2),
    ]
    assert stage["languages"][0]["scores"] == {"csat": None, "nps": None, "ces": None}


# --- Erasure


def test_an_erased_contacts_answer_is_never_an_example_and_leaves_at_the_next_computation(
    answered: Survey, store: Store, on_commit: Any
) -> None:
    erased = Contact.objects.get(store=store, email=email("lt", 3))  # "Kurjeris vėluoja."

    with on_commit() as queued:
        services.contact_erase(contact=erased, actor=SYSTEM)

    # Before the computation: the counts are those stored, the examples are read now.
    before = language_of(selectors.comment_themes(store=store), "lt")
    assert before["themes"][0]["answers"] == 4
    assert [e["text"] for e in before["themes"][0]["examples"]] == [
        CASES["lt"][0][2],
        CASES["lt"][0][1],
    ]
    pair = next(t for t in before["themes"] if t["phrase"] == "kurjeris vėluoti")
    assert [e["text"] for e in pair["examples"]] == [CASES["lt"][0][0]]

    # The erasure queued the computation when it committed: it runs (eagerly here).
    assert len(queued) == 1
    queued[0]()

    after = language_of(selectors.comment_themes(store=store), "lt")
    assert after["answers"] == 3
    assert [(t["phrase"], t["answers"]) for t in after["themes"]] == [
        ("kurjeris", 3),
        ("diena", 2),
    ]
    assert after["themes"][0]["scores"]["csat"] == {"count": 3, "mean": 2.67}
    stored = {
        theme["phrase"]
        for themes in CommentThemeResult.objects.filter(language="lt").values_list(
            "themes", flat=True
        )
        for theme in themes
    }
    assert stored == {"kurjeris", "diena"}  # in both periods


def test_a_computation_that_started_before_a_later_one_keeps_the_later_results(
    answered: Survey, store: Store, monkeypatch: Any
) -> None:
    from core import clock

    later = clock.now()
    monkeypatch.setattr(clock, "now", lambda: later - timedelta(minutes=5))

    result = services.comment_themes_compute(store_id=store.pk)

    assert result == {"comments": 24, "results": 0, "themes": 0}
    assert set(CommentThemeResult.objects.values_list("computed_at", flat=True)) == {later}


# --- When it is computed


def test_the_refresh_takes_the_stores_with_new_comments(
    answered: Survey, store: Store, monkeypatch: Any, now: datetime
) -> None:
    quiet = StoreFactory(organisation=store.organisation)
    since = now - timedelta(days=1)
    # All computed: nothing new.
    assert selectors.stores_with_new_comments(since=since) == []
    given(
        answered,
        [
            Customer(
                "new@example.com",
                answers={"text": "Kurjeris puikus"},
                answered_at=now - timedelta(seconds=30),  # while the computation ran
                language="lt",
            )
        ],
    )
    assert selectors.stores_with_new_comments(since=since) == [store.pk]
    assert quiet.pk not in selectors.stores_with_comment_themes()

    computed: list[int] = []
    monkeypatch.setattr(
        tasks.comment_themes_compute, "delay", lambda **kwargs: computed.append(kwargs)
    )
    assert tasks.comment_themes_refresh() == [store.pk]
    assert computed == [{"store_id": store.pk}]
    assert tasks.comment_themes_refresh_all() == 1


def test_the_computation_reads_nothing_from_elsewhere(
    answered: Survey, store: Store, monkeypatch: Any
) -> None:
    """Everything runs in this process: a socket opened while computing fails the test."""
    import socket

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("no network while counting comments")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    # The database connection is open already; the lemmatiser and stop words need nothing more.
    assert services.comment_themes_compute(store_id=store.pk)["comments"] == 24


# --- The API

URL = "/api/v1/stores/{}/comment-themes/"


def test_members_read_the_themes_without_who_wrote_them(
    answered: Survey, store: Store, api_as: Any
) -> None:
    response = api_as(Role.VIEWER).get(URL.format(store.pk), {"moment": "TMOT"})

    assert response.status_code == 200
    body = response.json()
    assert (body["store"], body["period"], body["computed_at"]) == (
        store.pk,
        "last_90",
        "2026-03-15T12:00:00Z",
    )
    assert body["start"] == "2025-12-15T22:00:00Z"
    (stage,) = body["stages"]
    lt = next(g for g in stage["languages"] if g["language"] == "lt")
    assert lt["themes"][0] == {
        "phrase": "kurjeris",
        "words": 1,
        "answers": 4,
        "share": {"successes": 4, "total": 4, "value": 1.0, "low": 0.5101, "high": 1.0},
        "scores": {"csat": {"count": 4, "mean": 2.75}, "nps": None, "ces": None},
        "examples": [
            {"text": "Kurjeris vėluoja.", "answered_at": "2026-03-04T10:00:00Z", "language": "lt"},
            {
                "text": "Ačiū kurjeriui, viskas laiku.",
                "answered_at": "2026-03-03T10:00:00Z",
                "language": "lt",
            },
            {
                "text": "Kurjerio teko laukti visą dieną!",
                "answered_at": "2026-03-02T10:00:00Z",
                "language": "lt",
            },
        ],
    }
    text = response.content.decode()
    assert "@example.com" not in text and "contact" not in text and "email" not in text


def test_a_stage_by_its_id_and_every_stage_without_one(
    answered: Survey, store: Store, api_as: Any
) -> None:
    journey_for(store, STAGES)
    tmot = Stage.objects.get(journey__store=store, moment="TMOT")
    fmot = Stage.objects.get(journey__store=store, moment="FMOT")
    api = api_as(Role.VIEWER)

    by_id = api.get(URL.format(store.pk), {"stage": tmot.pk, "period": "all_time"}).json()
    empty = api.get(URL.format(store.pk), {"stage": fmot.pk}).json()
    every = api.get(URL.format(store.pk)).json()

    assert by_id["period"] == "all_time" and by_id["start"] is None
    assert [s["moment"] for s in by_id["stages"]] == ["TMOT"]
    assert (empty["stages"], empty["computed_at"]) == ([], "2026-03-15T12:00:00Z")
    assert [s["moment"] for s in every["stages"]] == ["TMOT"]


def test_bad_queries(answered: Survey, store: Store, api_as: Any, organisation: Any) -> None:
    api = api_as(Role.VIEWER)
    sister = StoreFactory(organisation=organisation)
    journey_for(sister, STAGES)
    theirs = Stage.objects.get(journey__store=sister, moment="TMOT")

    both = api.get(URL.format(store.pk), {"stage": 1, "moment": "TMOT"})
    other_stage = api.get(URL.format(store.pk), {"stage": theirs.pk})
    period = api.get(URL.format(store.pk), {"period": "last_7"})

    assert error(both)["details"] == {"moment": ["Give the stage or the moment."]}
    assert error(other_stage)["details"] == {
        "stage": ["No stage of the store's active journey has this id."]
    }
    assert period.status_code == 400 and "period" in error(period)["details"]


def test_another_organisations_store_is_not_found(
    answered: Survey, store: Store, api_as: Any, other_organisation: Organisation
) -> None:
    theirs = api_as(Role.OWNER, other_organisation)
    sister = StoreFactory(organisation=store.organisation)

    assert theirs.get(URL.format(store.pk)).status_code == 404
    assert theirs.post(URL.format(store.pk) + "compute/").status_code == 404
    # A store's secret key reads its own store only.
    assert key_for(store).get(URL.format(store.pk)).status_code == 200
    assert key_for(sister).get(URL.format(store.pk)).status_code == 404


def test_computing_on_request(answered: Survey, store: Store, api_as: Any, on_commit: Any) -> None:
    url = URL.format(store.pk) + "compute/"
    Answer.objects.filter(text="Kurjeris vėluoja.").update(text="Kurjeris pavėlavo.")

    assert api_as(Role.VIEWER).post(url).status_code == 403
    with on_commit(execute=True):
        response = api_as(Role.EDITOR).post(url)

    assert response.status_code == 202
    task = Task.objects.get(pk=response.json()["task"])
    assert response["Location"] == response.json()["task_url"] == f"/api/v1/tasks/{task.pk}/"
    assert (task.kind, task.state, task.store_id) == ("surveys.comment_themes", "done", store.pk)
    # 22 themes in each period (4 + 3 + 4 + 3 + 3 + 5), less Lithuanian's "vėluoti" and
    # "kurjeris vėluoti", now written in one answer only.
    assert task.result == {"comments": 24, "results": 12, "themes": 40}
    lt = language_of(selectors.comment_themes(store=store), "lt")
    assert [(t["phrase"], t["answers"]) for t in lt["themes"]] == [("kurjeris", 4), ("diena", 2)]


def test_reading_takes_the_same_queries_whatever_the_themes(
    answered: Survey, store: Store, api_as: Any, django_assert_num_queries: Any
) -> None:
    api = api_as(Role.VIEWER)
    api.get(URL.format(store.pk))  # the first request stores the current organisation
    # session, user, membership, store; the last computation, the rows, the examples
    with django_assert_num_queries(7):
        assert api.get(URL.format(store.pk)).status_code == 200


def test_the_schema_documents_the_endpoints(client: Any) -> None:
    schema = client.get("/api/schema/?format=json").json()
    read = schema["paths"]["/api/v1/stores/{store_id}/comment-themes/"]["get"]
    compute = schema["paths"]["/api/v1/stores/{store_id}/comment-themes/compute/"]["post"]
    parameters = {p["name"] for p in read["parameters"]}

    assert parameters == {"store_id", "stage", "moment", "period"}
    assert set(read["responses"]) >= {"200", "400", "401", "403", "404"}
    assert set(compute["responses"]) >= {"202", "401", "403", "404"}
    component = schema["components"]["schemas"]["CommentTheme"]
    assert set(component["properties"]) == {
        "phrase",
        "words",
        "answers",
        "share",
        "scores",
        "examples",
    }
    assert "email" not in json.dumps(schema["components"]["schemas"]["ThemeExample"])


def test_nothing_stored_yet(store: Store, api_as: Any) -> None:
    body = api_as(Role.VIEWER).get(URL.format(store.pk)).json()
    assert body == {
        "store": store.pk,
        "period": "last_90",
        "start": None,
        "computed_at": None,
        "stages": [],
    }
