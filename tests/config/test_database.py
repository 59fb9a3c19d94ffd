"""The database connection as production configures it: prepared statements, unless turned off."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from accounts.models import Organisation
from tests.config.test_production import production_env, run_python

SHOW_OPTIONS = """
import json
import config.settings as s
print(json.dumps(s.DATABASES["default"].get("OPTIONS", {})))
"""


@pytest.mark.django_db
def test_a_query_run_more_than_five_times_on_a_connection_is_prepared() -> None:
    for n in range(6):  # psycopg prepares it at its sixth run
        list(Organisation.objects.filter(name=f"Shop {n}"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    # One statement for every name: the parameter is sent apart from the SQL, as $1.
    assert [s for s in prepared if 'FROM "accounts_organisation"' in s and "$1" in s]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, {"server_side_binding": True, "prepare_threshold": 5}), ("false", {})],
)
def test_prepared_statements_can_be_turned_off_for_a_transaction_pooler(
    value: str | None, expected: dict[str, object]
) -> None:
    env = production_env()
    if value is not None:
        env["DATABASE_PREPARED_STATEMENTS"] = value
    result = run_python(SHOW_OPTIONS, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected
