"""Order numbers come from a PostgreSQL sequence (never a random string that can collide), and
order lines and events outlive a deleted product or user (ON DELETE SET NULL in the database).

This migration was first named plain "0007". `replaces` keeps the old name working: a database
that applied "0007" counts this one as applied, and a migration that depends on
("commerce", "0007") depends on this one."""

from django.db import migrations

from devskyy.migration_operations import ForeignKeyOnDeleteSetNull


class Migration(migrations.Migration):
    replaces = [("commerce", "0007")]

    dependencies = [("commerce", "0006_order_lines_and_events")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS orders_order_number_seq AS bigint START 1",
            "DROP SEQUENCE IF EXISTS orders_order_number_seq",
        ),
        ForeignKeyOnDeleteSetNull(model_name="orderline", field_name="product"),
        ForeignKeyOnDeleteSetNull(model_name="orderevent", field_name="actor"),
    ]
