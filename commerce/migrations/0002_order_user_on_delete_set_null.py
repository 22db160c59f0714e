"""Guest orders outlive a deleted user, also for a raw `DELETE FROM users`.

Django 5.2 emulates SET_NULL in Python only; this makes it the database's job, so a raw SQL
delete works and the ORM deletes a user with one statement however many rows point at it.
Separate from 0001 because Django creates foreign keys at the end of a migration.
"""

from django.db import migrations

from devskyy.migration_operations import ForeignKeyOnDeleteSetNull


class Migration(migrations.Migration):
    dependencies = [("commerce", "0001_initial")]

    operations = [ForeignKeyOnDeleteSetNull(model_name="order", field_name="user")]
