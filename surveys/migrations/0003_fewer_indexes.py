"""Drop the indexes that other indexes already cover, and the LIKE index of token_hash.

Django's own SQL for these state changes would drop and re-add the foreign keys (validating
every row under a lock) and rebuild the token's unique index; this drops the six indexes and
renames the unique constraint instead, which is instant on a table of any size.
"""

import django.db.models.deletion
from django.db import migrations, models

# Each index dropped: (table, column), and above it the index that covers it.
REDUNDANT = {
    # (question_id, answered_at)
    "surveys_answer_question_id_c0166f3c": ("surveys_answer", "question_id"),
    # one_answer_per_question (response_id, question_id)
    "surveys_answer_response_id_5416c873": ("surveys_answer", "response_id"),
    # (contact_id, sent_at)
    "surveys_invitation_contact_id_d710f6eb": ("surveys_invitation", "contact_id"),
    # one_invitation_per_trigger (survey_id, ...)
    "surveys_invitation_survey_id_d0534764": ("surveys_invitation", "survey_id"),
    # (survey_id, submitted_at)
    "surveys_response_survey_id_907701cf": ("surveys_response", "survey_id"),
}

FORWARD = [
    *(f'DROP INDEX IF EXISTS "{name}"' for name in REDUNDANT),
    'DROP INDEX IF EXISTS "surveys_invitation_token_hash_d83d6826_like"',
    'ALTER TABLE "surveys_invitation" RENAME CONSTRAINT "surveys_invitation_token_hash_key" '
    'TO "one_invitation_per_token"',
]
BACKWARD = [
    'ALTER TABLE "surveys_invitation" RENAME CONSTRAINT "one_invitation_per_token" '
    'TO "surveys_invitation_token_hash_key"',
    'CREATE INDEX IF NOT EXISTS "surveys_invitation_token_hash_d83d6826_like" ON '
    '"surveys_invitation" ("token_hash" varchar_pattern_ops)',
    *(
        f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")'
        for name, (table, column) in REDUNDANT.items()
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0002_contact_email_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD, reverse_sql=BACKWARD)],
            state_operations=[
                migrations.AlterField(
                    model_name="answer",
                    name="question",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="answers",
                        to="surveys.question",
                    ),
                ),
                migrations.AlterField(
                    model_name="answer",
                    name="response",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="answers",
                        to="surveys.response",
                    ),
                ),
                migrations.AlterField(
                    model_name="invitation",
                    name="contact",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="invitations",
                        to="surveys.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="invitation",
                    name="survey",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="invitations",
                        to="surveys.survey",
                    ),
                ),
                migrations.AlterField(
                    model_name="invitation",
                    name="token_hash",
                    field=models.CharField(max_length=64),
                ),
                migrations.AlterField(
                    model_name="response",
                    name="survey",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="responses",
                        to="surveys.survey",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="invitation",
                    constraint=models.UniqueConstraint(
                        fields=("token_hash",), name="one_invitation_per_token"
                    ),
                ),
            ],
        ),
    ]
