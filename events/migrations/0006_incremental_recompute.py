"""What the metrics' incremental recompute needs from the events: marks that say when events
were moved or removed rather than added (`full_recompute`), and an index of the raw rows by session
hash (the compact form's session id), to find every customer of a session a batch touched.
On the hash, which is how the compact form and the bounce rate tell sessions apart; not
partial, so that the planner has the expression's statistics (it ignores a partial index's
and, guessing, scanned every partition: 1 s instead of 20 ms at 10 million events), with the
customer in it (no visit to the rows). And an index of the anonymous ids linked to a customer,
which every compaction leaves out."""

from django.db import migrations, models

SESSION_INDEX = """
CREATE INDEX IF NOT EXISTS events_event_session_hash
    ON events_event (store_id, hashtextextended(session_id, 0)) INCLUDE (customer_id);
"""


class Migration(migrations.Migration):
    dependencies = [("events", "0005_customer_contact_partial")]

    operations = [
        migrations.AddField(
            model_name="recomputemark",
            name="full_recompute",
            field=models.BooleanField(default=False, db_default=False),
        ),
        migrations.RunSQL(
            SESSION_INDEX, reverse_sql="DROP INDEX IF EXISTS events_event_session_hash;"
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("identified_as__isnull", False)),
                fields=["store", "id"],
                name="customer_linked",
            ),
        ),
    ]
