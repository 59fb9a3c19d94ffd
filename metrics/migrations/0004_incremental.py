"""What the incremental recompute keeps with each stored result: the converters' seconds to
convert (lz4, like the entered customers) and the basis the figures were computed for. Rows
stored before have an empty basis: the next recompute of their store is a full one."""

from django.db import migrations, models

SECONDS_LZ4 = """
DO $$
BEGIN
    ALTER TABLE metrics_funnelresult ALTER COLUMN seconds SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available: seconds stays compressed with pglz';
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("metrics", "0003_entered_lz4")]

    operations = [
        migrations.AddField(
            model_name="funnelresult",
            name="seconds",
            field=models.BinaryField(default=b""),
        ),
        migrations.AddField(
            model_name="funnelresult",
            name="basis",
            field=models.CharField(db_default="", default="", max_length=64),
        ),
        migrations.RunSQL(
            SECONDS_LZ4,
            reverse_sql="ALTER TABLE metrics_funnelresult ALTER COLUMN seconds SET COMPRESSION "
            "DEFAULT;",
        ),
    ]
