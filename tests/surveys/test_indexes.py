"""The indexes of the tables an answer writes to: each is written on every submission (the
invitation's status update is not a HOT update), so none may be there twice."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db

EXPECTED = {
    "surveys_answer": {
        "surveys_answer_pkey",
        "one_answer_per_question",  # (response_id, question_id): also the response's index
        "surveys_ans_questio_1bf047_idx",  # (question_id, answered_at): also the question's
    },
    "surveys_invitation": {
        "surveys_invitation_pkey",
        "one_invitation_per_trigger",  # (survey_id, ...): also the survey's index
        "one_invitation_per_token",
        "surveys_inv_contact_4af0e3_idx",  # (contact_id, sent_at): also the contact's
        "surveys_inv_status_037990_idx",
        "reminder_candidates",
    },
    "surveys_response": {
        "surveys_response_pkey",
        "surveys_response_invitation_id_key",
        "surveys_res_survey__1681e4_idx",  # (survey_id, submitted_at): also the survey's
        "surveys_response_store_id_159ae667",
    },
}


def _indexes() -> dict[str, set[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname FROM pg_indexes WHERE tablename = ANY(%s)",
            [list(EXPECTED)],
        )
        found: dict[str, set[str]] = {table: set() for table in EXPECTED}
        for table, index in cursor.fetchall():
            found[table].add(index)
    return found


def test_no_index_is_covered_by_another() -> None:
    assert _indexes() == EXPECTED


@pytest.mark.django_db(transaction=True)
def test_the_migration_that_dropped_them_can_be_undone_and_done_again() -> None:
    call_command("migrate", "surveys", "0002", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'surveys_invitation'")
        before = {name for (name,) in cursor.fetchall()}
    assert {"surveys_invitation_survey_id_d0534764", "surveys_invitation_token_hash_key"} <= before
    # Every app: going back in surveys also took back the apps built on it (events).
    call_command("migrate", verbosity=0)
    assert _indexes() == EXPECTED
