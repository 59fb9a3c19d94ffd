"""Survey results with exact numbers, from per-customer timelines declared in each test.

Wilson 95 % bounds below were worked out by hand (z = 1.96), e.g. for 4 of 6:
p = 0.6667, z²/n = 0.6403, centre = (p + z²/2n) / (1 + z²/n) = 0.9868 / 1.6403 = 0.6016,
margin = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n) = 1.96 · 0.2524 / 1.6403 = 0.3016,
so [0.3000, 0.9032].
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from accounts.models import Organisation, Store
from accounts.services import SYSTEM
from journeys import services as journey_services
from journeys.models import Journey
from surveys import selectors, services
from surveys.models import Invitation, Survey
from tests.factories import StoreFactory
from tests.surveys.factories import survey_texts

pytestmark = pytest.mark.django_db

START = datetime(2026, 5, 1, tzinfo=UTC)
END = datetime(2026, 6, 1, tzinfo=UTC)
IN = START + timedelta(days=3)  # inside the period

EVENT_NUMBERS = itertools.count()

QUESTIONS = {
    "rating": {"type": "rating", "text": {"lt": "Kaip vertinate?", "en": "How do you rate it?"}},
    "nps": {"type": "nps", "text": {"lt": "Ar rekomenduotumėte?", "en": "Would you recommend?"}},
    "ces": {"type": "ces", "text": {"lt": "Ar buvo lengva?", "en": "Was it easy?"}},
    "single": {
        "type": "single_choice",
        "text": {"lt": "Ar atitiko aprašymą?", "en": "As described?"},
        "choices": {"lt": ["Taip", "Iš dalies", "Ne"], "en": ["Yes", "Partly", "No"]},
    },
    "multi": {
        "type": "multiple_choice",
        "text": {"lt": "Ką pagerinti?", "en": "What to improve?"},
        "choices": {
            "lt": ["Greitį", "Pakuotę", "Sekimą"],
            "en": ["Speed", "Packaging", "Tracking"],
        },
    },
    "text": {"type": "free_text", "text": {"lt": "Komentaras", "en": "Comment"}},
}


def make_survey(
    store: Store,
    *,
    questions: list[str],
    moment: str = "TMOT",
    custom_stage: str = "",
    trigger: str = "",
    name: str = "Delivery",
) -> Survey:
    """An active survey with these questions (none required), in Lithuanian and English."""
    survey = services.survey_create(
        organisation=store.organisation,
        store=store,
        actor=SYSTEM,
        name=name,
        kind="csat",
        moment=moment,
        custom_stage=custom_stage,
        trigger_event=trigger or f"event-{next(EVENT_NUMBERS)}",  # one survey per event
        languages=["lt", "en"],
        default_language="lt",
        **survey_texts(["lt", "en"]),
    )
    for key in questions:
        services.question_create(survey=survey, actor=SYSTEM, required=False, **QUESTIONS[key])
    return services.survey_set_status(survey=survey, actor=SYSTEM, status="active")


@dataclass(frozen=True)
class Customer:
    """One invited customer: the invitation's state, and what they answered when."""

    email: str
    status: str = "sent"
    sent_at: datetime | None = IN
    answers: dict[str, Any] = field(default_factory=dict)  # question key (or "key#2") -> value
    answered_at: datetime = IN
    submit: bool = True
    language: str = "en"


def given(survey: Survey, customers: list[Customer]) -> None:
    """Invite each customer through the survey's trigger, then replay their timeline."""
    questions = list(survey.questions.order_by("position"))
    ids: dict[str, int] = {}
    for question in questions:
        key = next(k for k, q in QUESTIONS.items() if q["type"] == question.type)
        ids[key if key not in ids else f"{key}#2"] = question.pk
    for customer in customers:
        (invitation,) = services.invitations_trigger(
            store=survey.store,
            event_name=survey.trigger_event,
            occurred_at=START - timedelta(days=10),
            email=customer.email,
        )
        Invitation.objects.filter(pk=invitation.pk).update(
            status="sent" if customer.answers else customer.status, sent_at=customer.sent_at
        )
        if customer.answers:
            with mock.patch("django.utils.timezone.now", return_value=customer.answered_at):
                _response, errors = services.response_save(
                    invitation=invitation,
                    answers={ids[k]: v for k, v in customer.answers.items()},
                    language=customer.language,
                    submit=customer.submit,
                )
            assert errors == {}
            if not customer.submit:
                Invitation.objects.filter(pk=invitation.pk).update(status=customer.status)


@pytest.fixture
def survey(store: Store) -> Survey:
    return make_survey(store, questions=["rating", "nps", "ces", "single", "multi", "text"])


# Ratings in the period [5, 4, 4, 3, 1, 5]; NPS [10, 9, 8, 7, 6, 0, 10]; CES [2, 3, 5, 6, 7, 1, 3].
TIMELINE = [
    Customer(
        "ana@example.com",
        answers={
            "rating": 5,
            "nps": 10,
            "ces": 2,
            "single": 0,
            "multi": [0, 1],
            "text": "Greita ir tvarkinga",
        },
        answered_at=IN + timedelta(hours=1),
        language="lt",
    ),
    Customer(
        "ben@example.com", answers={"rating": 4, "nps": 9, "ces": 3, "single": 0, "multi": [1]}
    ),
    Customer("cit@example.com", answers={"rating": 4, "nps": 8, "ces": 5, "single": 1}),
    Customer(
        "dan@example.com",
        answers={
            "rating": 3,
            "nps": 7,
            "ces": 6,
            "single": 2,
            "multi": [0, 1, 2],
            "text": "Late parcel",
        },
        answered_at=IN + timedelta(hours=2),
    ),
    Customer("eve@example.com", answers={"rating": 1, "nps": 6, "ces": 7, "single": 2}),
    Customer("fay@example.com", answers={"nps": 0, "ces": 1}),
    Customer("gus@example.com", answers={"nps": 10, "ces": 3}),
    # Clicked 5 in the email and never finished: the answer counts, the response does not.
    Customer("jon@example.com", status="opened", answers={"rating": 5}, submit=False),
    # Delivered, no answer.
    Customer("kim@example.com", status="sent"),
    # Not delivered, whatever their sent_at says.
    Customer("lea@example.com", status="queued"),
    Customer("mia@example.com", status="capped"),
    Customer("ned@example.com", status="failed"),
    Customer("oli@example.com", status="bounced"),
    Customer("pia@example.com", status="unknown"),
    # Before the period: sent and answered in April.
    Customer(
        "hal@example.com",
        sent_at=START - timedelta(days=2),
        answers={"rating": 1, "nps": 0, "text": "Old complaint"},
        answered_at=START - timedelta(seconds=1),
    ),
    # Sent in the period, answered as it ended (the end is excluded): the answer falls after
    # the period, the delivered invitation's answer still counts for the response rate.
    Customer(
        "ivy@example.com", sent_at=END - timedelta(days=1), answers={"rating": 5}, answered_at=END
    ),
]


def test_survey_results_in_a_period(survey: Survey) -> None:
    given(survey, TIMELINE)

    results = selectors.survey_results(survey=survey, start=START, end=END)

    # Delivered: ana..gus (7), jon (opened), kim (sent), ivy (answered) = 10; 8 of them answered.
    assert results["delivered"] == 10
    assert results["responses"] == 7  # submitted in the period: ana..gus
    assert results["response_rate"] == {
        "successes": 8,
        "total": 10,
        "value": 0.8,
        "low": 0.4902,
        "high": 0.9433,
    }
    rating, nps, ces, single, multi, text = results["questions"]
    assert rating["csat"] == {
        "share": {"successes": 4, "total": 6, "value": 0.6667, "low": 0.3000, "high": 0.9032},
        "mean": 3.67,
        "sd": 1.5055,  # √((34/3) / 5): squared deviations from 22/6 sum to 34/3
        "count": 6,
    }
    assert nps["nps"] == {
        "score": 14.3,  # round(100 * (3 - 2) / 7, 1)
        "promoters": {"successes": 3, "total": 7, "value": 0.4286, "low": 0.1582, "high": 0.7495},
        "passives": {"successes": 2, "total": 7, "value": 0.2857, "low": 0.0822, "high": 0.6411},
        "detractors": {"successes": 2, "total": 7, "value": 0.2857, "low": 0.0822, "high": 0.6411},
        "count": 7,
    }
    # 27 / 7; sd √((133 − 27²/7) / 6) = √(202/42), 133 the sum of the squares.
    assert ces["ces"] == {"mean": 3.86, "sd": 2.1931, "count": 7}
    assert single["count"] == 5
    assert [(c["label"], c["count"], c["share"]["value"]) for c in single["choices"]] == [
        ("Taip", 2, 0.4),
        ("Iš dalies", 1, 0.2),
        ("Ne", 2, 0.4),
    ]
    assert single["choices"][1]["share"] == {
        "successes": 1,
        "total": 5,
        "value": 0.2,
        "low": 0.0362,
        "high": 0.6245,
    }
    assert multi["count"] == 3
    assert [(c["index"], c["label"], c["count"]) for c in multi["choices"]] == [
        (0, "Greitį", 2),
        (1, "Pakuotę", 3),
        (2, "Sekimą", 1),
    ]
    assert multi["choices"][2]["share"]["low"] == 0.0615
    assert text["count"] == 2
    assert text["answers"] == [
        {
            "text": "Late parcel",
            "language": "en",
            "answered_at": IN + timedelta(hours=2),
            "touchpoint": "",
        },
        {
            "text": "Greita ir tvarkinga",
            "language": "lt",
            "answered_at": IN + timedelta(hours=1),
            "touchpoint": "",
        },
    ]
    assert [q["text"] for q in results["questions"]][:2] == [
        "Kaip vertinate?",
        "Ar rekomenduotumėte?",
    ]
    # The headline: each scale's first question.
    assert results["csat"] == rating["csat"]
    assert results["nps"] == nps["nps"]
    assert results["ces"] == ces["ces"]


def test_answers_count_in_the_period_of_their_submission(survey: Survey) -> None:
    given(survey, TIMELINE)

    april = selectors.survey_results(survey=survey, start=START - timedelta(days=30), end=START)
    june = selectors.survey_results(survey=survey, start=END, end=END + timedelta(days=30))
    everything = selectors.survey_results(survey=survey)

    assert (april["delivered"], april["responses"]) == (1, 1)
    assert april["csat"]["share"]["total"] == 1
    assert april["nps"]["score"] == -100.0
    assert april["questions"][5]["answers"][0]["text"] == "Old complaint"
    assert (june["delivered"], june["responses"]) == (0, 1)
    assert june["response_rate"] == {
        "successes": 0,
        "total": 0,
        "value": None,
        "low": None,
        "high": None,
    }
    assert june["csat"]["share"]["successes"] == 1
    assert everything["csat"]["count"] == 8  # 6 in May, hal's 1, ivy's 5
    assert everything["delivered"] == 11


def test_the_touchpoint_is_named_beside_free_text_answers(
    survey: Survey, organisation: Organisation
) -> None:
    journey = journey_services.journey_create_from_template(
        organisation=organisation, actor=SYSTEM, template="ecommerce-delivery"
    )
    touchpoint = journey.stages.get(moment="TMOT").touchpoints.first()
    assert touchpoint is not None
    services.survey_update(survey=survey, actor=SYSTEM, touchpoint=touchpoint)
    given(survey, [Customer("ana@example.com", answers={"text": "Fine"})])

    (answer,) = selectors.survey_results(survey=survey)["questions"][5]["answers"]

    assert answer["touchpoint"] == touchpoint.name


def test_a_survey_without_answers_has_empty_results(survey: Survey) -> None:
    results = selectors.survey_results(survey=survey, start=START, end=END)

    assert results["delivered"] == results["responses"] == 0
    assert results["csat"] == {
        "share": {"successes": 0, "total": 0, "value": None, "low": None, "high": None},
        "mean": None,
        "sd": None,
        "count": 0,
    }
    assert results["nps"]["score"] is None
    assert results["ces"] == {"mean": None, "sd": None, "count": 0}
    assert [c["count"] for c in results["questions"][3]["choices"]] == [0, 0, 0]
    assert results["questions"][5] | {"id": 0} == {
        "id": 0,
        "position": 5,
        "type": "free_text",
        "text": "Komentaras",
        "count": 0,
        "answers": [],
    }


def test_a_survey_without_a_scale_has_no_headline(store: Store) -> None:
    survey = make_survey(store, questions=["text"])
    results = selectors.survey_results(survey=survey)
    assert (results["csat"], results["nps"], results["ces"]) == (None, None, None)


def _answered(n: int, start: int = 0) -> list[Customer]:
    return [
        Customer(
            f"c{i}@example.com",
            answers={
                "rating": 1 + i % 5,
                "nps": i % 11,
                "ces": 1 + i % 7,
                "single": i % 3,
                "multi": [i % 3],
                "text": f"Comment {i}",
            },
        )
        for i in range(start, start + n)
    ]


ALL_TYPES = ["rating", "nps", "ces", "single", "multi", "text"]


@pytest.mark.parametrize(
    ("questions", "customers"),
    [(ALL_TYPES, 2), (ALL_TYPES * 2, 30)],
    ids=["6-questions-2-responses", "12-questions-30-responses"],
)
def test_survey_results_take_six_queries_whatever_the_size(
    store: Store, questions: list[str], customers: int, django_assert_num_queries: Any
) -> None:
    survey = make_survey(store, questions=questions)
    given(survey, _answered(customers))
    survey = Survey.objects.get(pk=survey.pk)

    with django_assert_num_queries(6):
        results = selectors.survey_results(survey=survey, start=START, end=END)

    assert results["responses"] == customers
    assert sum(c["count"] for c in results["questions"][4]["choices"]) == customers


# --- Per moment of truth


def test_results_by_moment_group_by_moment_code_in_journey_order(store: Store) -> None:
    umot = make_survey(store, questions=["nps"], moment="UMOT", name="NPS")
    smot_csat = make_survey(store, questions=["rating", "rating"], moment="SMOT", name="Checkout")
    smot_ces = make_survey(store, questions=["ces"], moment="SMOT", name="Ease")
    unboxing = make_survey(store, questions=["rating"], moment="", custom_stage="Unboxing")
    after = make_survey(store, questions=["rating"], moment="", custom_stage="after-sales")
    make_survey(store, questions=["rating"], moment="TMOT", name="Not asked yet")
    other_store = make_survey(StoreFactory(organisation=store.organisation), questions=["rating"])

    given(
        umot,
        [
            Customer("u1@example.com", answers={"nps": 10}),
            Customer("u2@example.com", answers={"nps": 3}),
            Customer("u3@example.com", answers={"nps": 9}),
            Customer("u4@example.com", status="sent"),
        ],
    )
    # Only each survey's first rating question makes its CSAT: the second one's 1s are left out.
    given(
        smot_csat,
        [
            Customer("s1@example.com", answers={"rating": 5, "rating#2": 1}),
            Customer("s2@example.com", answers={"rating": 2, "rating#2": 1}),
            Customer("s3@example.com", answers={"rating": 4}, answered_at=END),  # after
        ],
    )
    given(smot_ces, [Customer("e1@example.com", answers={"ces": 6})])
    given(unboxing, [Customer("b1@example.com", answers={"rating": 4})])
    given(after, [Customer("a1@example.com", status="failed")])
    given(other_store, [Customer("x@example.com", answers={"rating": 1})])

    moments = selectors.results_by_moment(store=store, start=START, end=END)

    assert [(m["moment"], m["custom_stage"], m["label"], m["surveys"]) for m in moments] == [
        ("SMOT", "", "Second moment", 2),
        ("TMOT", "", "Third moment", 1),
        ("UMOT", "", "Ultimate moment", 1),
        ("", "after-sales", "after-sales", 1),
        ("", "Unboxing", "Unboxing", 1),
    ]
    smot, tmot, ultimate, after_sales, unboxed = moments
    assert (smot["delivered"], smot["responses"]) == (4, 3)  # s3 answered after the period
    assert smot["response_rate"]["successes"] == 4
    assert smot["csat"]["share"] | {"low": 0, "high": 0} == {
        "successes": 1,
        "total": 2,
        "value": 0.5,
        "low": 0,
        "high": 0,
    }
    assert smot["csat"]["mean"] == 3.5
    assert smot["ces"] == {"mean": 6.0, "sd": None, "count": 1}  # one answer: no deviation
    assert smot["nps"]["count"] == 0
    assert (tmot["delivered"], tmot["responses"], tmot["csat"]["count"]) == (0, 0, 0)
    assert ultimate["nps"]["score"] == 33.3  # 2 promoters, 1 detractor of 3
    assert ultimate["response_rate"] == {
        "successes": 3,
        "total": 4,
        "value": 0.75,
        "low": 0.3006,
        "high": 0.9544,
    }
    assert (after_sales["delivered"], after_sales["responses"]) == (0, 0)
    assert unboxed["csat"]["share"]["value"] == 1.0


def test_results_by_moment_survive_the_journey_being_replaced(
    store: Store, organisation: Organisation
) -> None:
    journey = journey_services.journey_create_from_template(
        organisation=organisation, actor=SYSTEM, template="ecommerce-delivery", store=store
    )
    survey = make_survey(store, questions=["rating"], moment="TMOT")
    touchpoint = journey.stages.get(moment="TMOT").touchpoints.first()
    services.survey_update(survey=survey, actor=SYSTEM, touchpoint=touchpoint)
    given(survey, [Customer("t@example.com", answers={"rating": 4})])
    before = selectors.results_by_moment(store=store)

    Journey.objects.filter(pk=journey.pk).delete()
    journey_services.journey_create_from_template(
        organisation=organisation, actor=SYSTEM, template="five-moments", store=store
    )

    assert selectors.results_by_moment(store=store) == before
    assert [(m["moment"], m["csat"]["count"]) for m in before] == [("TMOT", 1)]


def test_a_survey_with_no_moment_comes_last(store: Store) -> None:
    make_survey(store, questions=["rating"], moment="", name="Loose")
    make_survey(store, questions=["rating"], moment="LZMOT", name="Ads")

    moments = selectors.results_by_moment(store=store)

    assert [(m["moment"], m["custom_stage"], m["label"]) for m in moments] == [
        ("LZMOT", "", "Less-than-zero moment"),
        ("", "", "No moment of truth"),
    ]


@pytest.mark.parametrize("size", [1, 4], ids=["1-survey-each", "4-surveys-each"])
def test_results_by_moment_take_five_queries_whatever_the_size(
    store: Store, size: int, django_assert_num_queries: Any
) -> None:
    for index in range(size):
        for moment in ("SMOT", "TMOT", "UMOT"):
            survey = make_survey(store, questions=ALL_TYPES, moment=moment, name=f"{moment}{index}")
            given(survey, _answered(size, start=100 * index))

    with django_assert_num_queries(5):
        moments = selectors.results_by_moment(store=store, start=START, end=END)

    assert [m["responses"] for m in moments] == [size * size] * 3
