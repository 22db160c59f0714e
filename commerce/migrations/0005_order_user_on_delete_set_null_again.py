"""0004's AlterField of Order.user (dropping its single-column index) made Django recreate the
foreign key constraint without ON DELETE SET NULL; restore it (see ForeignKeyOnDeleteSetNull)."""

from django.db import migrations

from devskyy.migration_operations import ForeignKeyOnDeleteSetNull


class Migration(migrations.Migration):
    dependencies = [("commerce", "0004_order_product_indexes")]

    operations = [ForeignKeyOnDeleteSetNull(model_name="order", field_name="user")]
