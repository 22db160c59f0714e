"""Order numbers come from a PostgreSQL sequence (never a random string that can collide), and
order lines and events outlive a deleted product or user (ON DELETE SET NULL in the database)."""

from django.db import migrations

from devskyy.migration_operations import ForeignKeyOnDeleteSetNull


class Migration(migrations.Migration):
    dependencies = [("commerce", "0006_order_lines_and_events")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS orders_order_number_seq AS bigint START 1",
            "DROP SEQUENCE IF EXISTS orders_order_number_seq",
        ),
        ForeignKeyOnDeleteSetNull(model_name="orderline", field_name="product"),
        ForeignKeyOnDeleteSetNull(model_name="orderevent", field_name="actor"),
    ]
