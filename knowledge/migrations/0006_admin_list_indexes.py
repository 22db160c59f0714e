"""The sources list's order in the admin, by path (the pattern index cannot order rows).

Built and dropped CONCURRENTLY (no write lock on a big table), so this migration is not atomic.
"""

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("knowledge", "0005_chunk_search_columns_and_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="source",
            index=models.Index(
                fields=["source_path", "document_id"], name="rag_sources_path_order_idx"
            ),
        ),
    ]
