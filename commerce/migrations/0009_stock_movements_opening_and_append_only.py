"""Every product that holds stock gets an ``opening`` movement for it, so that from here on the
sum of a product's movements is its stock; then ``stock_movements`` becomes append-only.

One ``INSERT ... SELECT``: no rows travel through Python, however big the catalogue. Reversing
drops the trigger first, then deletes exactly the movements this migration wrote (recognised by
their reason).
"""

from django.db import migrations

from devskyy.migration_operations import AppendOnlyTrigger

OPENING_REASON = "Stock on hand when the stock ledger started (migration 0009)."

OPENING_MOVEMENTS_SQL = """
INSERT INTO stock_movements (product_id, delta, kind, reason)
SELECT id, inventory_quantity, 'opening', %s
FROM products
WHERE inventory_quantity <> 0
ORDER BY id
"""

DELETE_OPENING_MOVEMENTS_SQL = """
DELETE FROM stock_movements WHERE kind = 'opening' AND reason = %s
"""


class Migration(migrations.Migration):
    dependencies = [("commerce", "0008_product_version_stock_movements")]

    operations = [
        migrations.RunSQL(
            [(OPENING_MOVEMENTS_SQL, [OPENING_REASON])],
            [(DELETE_OPENING_MOVEMENTS_SQL, [OPENING_REASON])],
        ),
        AppendOnlyTrigger(table="stock_movements", set_null_columns=["order_id", "actor_id"]),
    ]
