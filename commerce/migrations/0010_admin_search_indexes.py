"""Trigram indexes behind the admin's word searches on users (username, email, full name) and
API key names (issue 11).

Built and dropped CONCURRENTLY (no write lock on a big table), so this migration is not atomic.
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("commerce", "0009_stock_movements_opening_and_append_only"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="user",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("username"), name="gin_trgm_ops"
                ),
                name="users_username_trgm",
            ),
        ),
        AddIndexConcurrently(
            model_name="user",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("email"), name="gin_trgm_ops"
                ),
                name="users_email_trgm",
            ),
        ),
        AddIndexConcurrently(
            model_name="user",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("full_name"), name="gin_trgm_ops"
                ),
                name="users_full_name_trgm",
            ),
        ),
        AddIndexConcurrently(
            model_name="userapikey",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("name"), name="gin_trgm_ops"
                ),
                name="user_api_keys_name_trgm",
            ),
        ),
    ]
