"""Writes for surveys, by subject: surveys and questions (surveys.py), contacts and privacy
(contacts.py), invitations and sending (sending.py), buyers' answers (answers.py), comment
themes computed from their free-text answers (themes.py). Reads,
including the public pages' token lookup, are in surveys/selectors.py.

The package re-exports each module's public services, so that callers write
`services.survey_create(...)` whatever the module.
"""

from surveys.services.answers import (
    MAX_TEXT_ANSWER,
    invitation_mark_opened,
    response_save,
)
from surveys.services.contacts import (
    contact_erase,
    contact_export_audited,
    contact_suppress,
    contact_unsubscribe,
    contact_upsert,
    survey_responses_export,
)
from surveys.services.sending import (
    SendSummary,
    event_trigger,
    invitation_resend,
    invitation_send,
    invitations_due,
    invitations_mark_stuck,
    invitations_send_batch,
    invitations_trigger,
    reminder_send,
    reminders_due,
    survey_send_to_contacts,
    trigger_event_names,
)
from surveys.services.surveys import (
    question_create,
    question_delete,
    question_update,
    questions_reorder,
    store_survey_settings,
    store_survey_settings_update,
    survey_create,
    survey_create_from_template,
    survey_set_status,
    survey_update,
    surveys_close_for_store,
)
from surveys.services.themes import comment_themes_compute

__all__ = [
    "MAX_TEXT_ANSWER",
    "SendSummary",
    "comment_themes_compute",
    "contact_erase",
    "contact_export_audited",
    "contact_suppress",
    "contact_unsubscribe",
    "contact_upsert",
    "event_trigger",
    "invitation_mark_opened",
    "invitation_resend",
    "invitation_send",
    "invitations_due",
    "invitations_mark_stuck",
    "invitations_send_batch",
    "invitations_trigger",
    "question_create",
    "question_delete",
    "question_update",
    "questions_reorder",
    "reminder_send",
    "reminders_due",
    "response_save",
    "store_survey_settings",
    "store_survey_settings_update",
    "survey_create",
    "survey_create_from_template",
    "survey_responses_export",
    "survey_send_to_contacts",
    "survey_set_status",
    "survey_update",
    "surveys_close_for_store",
    "trigger_event_names",
]
