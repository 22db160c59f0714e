"""Indexes for the API's filters: orders by status/user with keyset order; products by category,
price, tags (GIN) and trigram search over sku, name and description.

Indexes are built and dropped CONCURRENTLY (no write lock on a big table), so this migration is
not atomic; new composites are built before the single-column ones they replace are dropped.
"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.postgres.operations import (
    AddIndexConcurrently,
    RemoveIndexConcurrently,
    TrigramExtension,
)
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("commerce", "0003_api_keys")]

    operations = [
        TrigramExtension(),
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(fields=["status", "created_at"], name="orders_status_created_idx"),
        ),
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(fields=["user", "created_at"], name="orders_user_created_idx"),
        ),
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(fields=["created_at"], name="orders_created_idx"),
        ),
        AddIndexConcurrently(
            model_name="product",
            index=models.Index(fields=["category"], name="products_category_idx"),
        ),
        AddIndexConcurrently(
            model_name="product",
            index=models.Index(fields=["price"], name="products_price_idx"),
        ),
        AddIndexConcurrently(
            model_name="product",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["tags"], name="products_tags_gin"
            ),
        ),
        AddIndexConcurrently(
            model_name="product",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("sku"), name="gin_trgm_ops"
                ),
                name="products_sku_trgm",
            ),
        ),
        AddIndexConcurrently(
            model_name="product",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("name"), name="gin_trgm_ops"
                ),
                name="products_name_trgm",
            ),
        ),
        AddIndexConcurrently(
            model_name="product",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("description"), name="gin_trgm_ops"
                ),
                name="products_description_trgm",
            ),
        ),
        RemoveIndexConcurrently(
            model_name="order",
            name="orders_status_idx",
        ),
        migrations.AlterField(
            model_name="order",
            name="user",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="orders",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
