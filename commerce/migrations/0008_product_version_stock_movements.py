"""Products get a version (optimistic locking of the editable record); stock gets its ledger,
``stock_movements``, whose order and actor outlive a deleted order or user (ON DELETE SET NULL in
the database, like order_events.actor)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import devskyy.models
from devskyy.migration_operations import ForeignKeyOnDeleteSetNull


class Migration(migrations.Migration):
    dependencies = [
        ("commerce", "0007_order_number_sequence_and_set_null"),
    ]

    operations = [
        migrations.CreateModel(
            name="StockMovement",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "created_at",
                    models.DateTimeField(db_default=devskyy.models.DatabaseNow(), editable=False),
                ),
                (
                    "delta",
                    models.IntegerField(help_text="Units added (positive) or removed (negative)."),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("opening", "Opening stock"),
                            ("order_placed", "Order placed"),
                            ("order_cancelled", "Order cancelled"),
                            ("adjustment", "Adjustment"),
                        ],
                        max_length=20,
                    ),
                ),
                ("reason", models.TextField(blank=True, db_default="", default="")),
            ],
            options={
                "db_table": "stock_movements",
                "ordering": ["id"],
            },
        ),
        migrations.AddField(
            model_name="product",
            name="version",
            field=models.IntegerField(db_default=1, default=1),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(("version__gte", 1)), name="products_version_positive"
            ),
        ),
        migrations.AddField(
            model_name="stockmovement",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="stockmovement",
            name="order",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="stock_movements",
                to="commerce.order",
            ),
        ),
        migrations.AddField(
            model_name="stockmovement",
            name="product",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="stock_movements",
                to="commerce.product",
            ),
        ),
        migrations.AddIndex(
            model_name="stockmovement",
            index=models.Index(fields=["product", "id"], name="stock_movements_product_idx"),
        ),
        migrations.AddConstraint(
            model_name="stockmovement",
            constraint=models.CheckConstraint(
                condition=models.Q(("delta", 0), _negated=True),
                name="stock_movements_delta_not_zero",
            ),
        ),
        migrations.AddConstraint(
            model_name="stockmovement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("kind__in", ["opening", "order_placed", "order_cancelled", "adjustment"])
                ),
                name="stock_movements_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="stockmovement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("kind", "adjustment"),
                    models.Q(("delta__lt", 0), ("kind", "order_placed")),
                    models.Q(("delta__gt", 0), ("kind", "order_cancelled")),
                    models.Q(("delta__gt", 0), ("kind", "opening")),
                    _connector="OR",
                ),
                name="stock_movements_delta_sign_matches_kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="stockmovement",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind", "adjustment"), ("reason", ""), _negated=True),
                name="stock_movements_adjustment_has_reason",
            ),
        ),
        ForeignKeyOnDeleteSetNull(model_name="stockmovement", field_name="order"),
        ForeignKeyOnDeleteSetNull(model_name="stockmovement", field_name="actor"),
    ]
