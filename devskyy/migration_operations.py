"""Migration operations for what Django 5.2's schema editor does not express.

- ``UpdatedAtTrigger``: the seed's ``update_updated_at_column()`` trigger on a table.
- ``ForeignKeyOnDeleteSetNull``: turn a Django foreign key constraint into ``ON DELETE SET NULL``
  in the database (Django 5.2 emulates ``SET_NULL`` in Python only; raw SQL deletes would fail).
- ``ForeignKeyOnDeleteCascade``: the same for ``ON DELETE CASCADE`` (rows that are part of their
  parent, e.g. a task's execution steps, go with it, also for a raw SQL delete).
- ``AppendOnlyTrigger``: a trigger that refuses ``UPDATE`` and ``DELETE`` on a ledger table.

All are reversible and change nothing in Django's model state, so ``makemigrations`` stays clean.
All emit their SQL through ``schema_editor.execute`` and read nothing from the database to build
it, so ``manage.py sqlmigrate`` prints it for deployers to review, also for a database that has
no tables yet.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

UPDATED_AT_FUNCTION = "update_updated_at_column"

CREATE_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {UPDATED_AT_FUNCTION}()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = CURRENT_TIMESTAMP;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# The function is shared by every table's trigger, so it is dropped with the last trigger only.
DROP_FUNCTION_IF_UNUSED_SQL = """
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE p.proname = 'update_updated_at_column'
    ) THEN
        DROP FUNCTION IF EXISTS update_updated_at_column();
    END IF;
END $$;
"""


class UpdatedAtTrigger(Operation):
    """Create ``update_<table>_updated_at`` BEFORE UPDATE trigger (and the shared function)."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, table: str) -> None:
        self.table = table

    @property
    def trigger_name(self) -> str:
        return f"update_{self.table}_updated_at"

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        qn = schema_editor.quote_name
        schema_editor.execute(CREATE_FUNCTION_SQL)
        schema_editor.execute(
            f"CREATE TRIGGER {qn(self.trigger_name)} BEFORE UPDATE ON {qn(self.table)} "
            f"FOR EACH ROW EXECUTE FUNCTION {UPDATED_AT_FUNCTION}()"
        )

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        qn = schema_editor.quote_name
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {qn(self.trigger_name)} ON {qn(self.table)}")
        schema_editor.execute(DROP_FUNCTION_IF_UNUSED_SQL)

    def describe(self) -> str:
        return f"Create the updated_at trigger on {self.table}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.table}_updated_at_trigger"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [], {"table": self.table})


class ForeignKeyOnDeleteSetNull(Operation):
    """Recreate the foreign key constraint of ``model_name.field_name`` with ON DELETE SET NULL.

    The model field should use ``on_delete=models.DO_NOTHING`` so that the ORM leaves the work to
    the database (one DELETE, however many rows point at the deleted one). An ``AlterField`` of
    that field in a later migration recreates Django's plain constraint: repeat this operation
    after it (the schema tests catch a forgotten one).
    """

    reversible = True
    reduces_to_sql = True
    on_delete_sql = "ON DELETE SET NULL"

    def __init__(self, model_name: str, field_name: str) -> None:
        self.model_name = model_name
        self.field_name = field_name

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass

    def _recreate(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        state: ProjectState,
        on_delete: str,
    ) -> None:
        model = state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.field_name)
        target = field.remote_field.model
        qn = schema_editor.quote_name
        # The name Django gave the constraint is a function of the table, column and target
        # (what its own AlterField uses to find it), so the SQL needs no look at the database.
        name = str(
            schema_editor._fk_constraint_name(  # type: ignore[attr-defined]
                model, field, "_fk_%(to_table)s_%(to_column)s"
            )
        ).strip('"')
        if not schema_editor.collect_sql:
            # Running for real: say clearly if the database's constraint is not that one.
            found = schema_editor._constraint_names(  # type: ignore[attr-defined]
                model, [field.column], foreign_key=True
            )
            if found != [name]:
                raise ValueError(
                    f"expected the foreign key {name} on {model._meta.db_table}.{field.column}, "
                    f"found {sorted(found)}"
                )
        table = qn(model._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {qn(name)}")
        action = f" {on_delete}" if on_delete else ""
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {qn(name)} FOREIGN KEY ({qn(field.column)}) "
            f"REFERENCES {qn(target._meta.db_table)} ({qn(target._meta.pk.column)}){action} "
            "DEFERRABLE INITIALLY DEFERRED"
        )

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._recreate(app_label, schema_editor, to_state, self.on_delete_sql)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._recreate(app_label, schema_editor, to_state, "")

    def describe(self) -> str:
        return f"Make {self.model_name}.{self.field_name} {self.on_delete_sql} in the database"

    @property
    def migration_name_fragment(self) -> str:
        action = self.on_delete_sql.lower().replace(" ", "_")
        return f"{self.model_name.lower()}_{self.field_name}_{action}"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (
            self.__class__.__qualname__,
            [],
            {"model_name": self.model_name, "field_name": self.field_name},
        )


class ForeignKeyOnDeleteCascade(ForeignKeyOnDeleteSetNull):
    """Recreate the foreign key constraint of ``model_name.field_name`` with ON DELETE CASCADE.

    As for SET NULL, the model field uses ``on_delete=models.DO_NOTHING``: the database deletes
    the dependent rows in the parent's DELETE statement, whoever issues it.
    """

    on_delete_sql = "ON DELETE CASCADE"


class AppendOnlyTrigger(Operation):
    """Make a table append-only: a BEFORE UPDATE OR DELETE trigger raises, so rows once inserted
    stay as written, whoever connects (the ORM, psql, another service).

    ``set_null_columns`` are foreign keys whose constraint is ON DELETE SET NULL: the database's
    own nulling of them (a referenced order or user is deleted) is the one UPDATE let through, and
    only when it changes nothing else. ``TRUNCATE`` is not a row operation and is not refused (it
    needs the table owner's privilege; the test database's flush uses it).
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, table: str, set_null_columns: list[str] | None = None) -> None:
        self.table = table
        self.set_null_columns = list(set_null_columns or [])

    @property
    def function_name(self) -> str:
        return f"{self.table}_append_only"

    def _function_sql(self, schema_editor: BaseDatabaseSchemaEditor) -> str:
        qn = schema_editor.quote_name
        nulled = " AND ".join(
            f"(NEW.{qn(c)} IS NULL OR NEW.{qn(c)} IS NOT DISTINCT FROM OLD.{qn(c)})"
            for c in self.set_null_columns
        )
        columns = ", ".join(f"'{c}'" for c in self.set_null_columns)
        allow = (
            f"""
    IF TG_OP = 'UPDATE' AND {nulled}
       AND to_jsonb(NEW) - ARRAY[{columns}]::text[] = to_jsonb(OLD) - ARRAY[{columns}]::text[]
    THEN
        RETURN NEW;  -- ON DELETE SET NULL of a referenced row
    END IF;"""
            if self.set_null_columns
            else ""
        )
        return f"""
CREATE OR REPLACE FUNCTION {qn(self.function_name)}()
RETURNS TRIGGER AS $$
BEGIN{allow}
    RAISE EXCEPTION USING
        MESSAGE = TG_OP || ' on ' || TG_TABLE_NAME || ': the table is append-only',
        ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        qn = schema_editor.quote_name
        schema_editor.execute(self._function_sql(schema_editor))
        schema_editor.execute(
            f"CREATE TRIGGER {qn(self.function_name)} BEFORE UPDATE OR DELETE ON {qn(self.table)} "
            f"FOR EACH ROW EXECUTE FUNCTION {qn(self.function_name)}()"
        )

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        qn = schema_editor.quote_name
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {qn(self.function_name)} ON {qn(self.table)}"
        )
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {qn(self.function_name)}()")

    def describe(self) -> str:
        return f"Make {self.table} append-only (UPDATE and DELETE refused by a trigger)"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.table}_append_only"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"table": self.table}
        if self.set_null_columns:
            kwargs["set_null_columns"] = self.set_null_columns
        return (self.__class__.__qualname__, [], kwargs)


class ReplaceCheckConstraint(Operation):
    """Replace a CHECK constraint by a new one of the same name without holding a table lock
    through a scan of the table (e.g. a longer list of allowed values on a big, growing table).

    ``ALTER TABLE ... ADD CONSTRAINT ... CHECK`` scans every row under an ACCESS EXCLUSIVE lock.
    This drops the old constraint and adds the new one ``NOT VALID`` in one short transaction
    (new rows are checked from then on; there is no moment without a constraint), then
    ``VALIDATE CONSTRAINT`` checks the existing rows in its own transaction under a SHARE UPDATE
    EXCLUSIVE lock, which lets reads and writes go on. The migration using it must say
    ``atomic = False`` (otherwise both steps share one transaction and its lock).
    Reversible: backwards puts the previous constraint back the same way.
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, constraint: Any) -> None:
        self.model_name = model_name
        self.constraint = constraint

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (
            self.__class__.__name__,
            [],
            {"model_name": self.model_name, "constraint": self.constraint},
        )

    def describe(self) -> str:
        return f"Replace CHECK constraint {self.constraint.name} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"replace_{self.constraint.name}"

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        model_key = self.model_name.lower()
        state.remove_constraint(app_label, model_key, self.constraint.name)
        state.add_constraint(app_label, model_key, self.constraint)

    def _current(self, app_label: str, state: ProjectState) -> Any:
        options = state.models[app_label, self.model_name.lower()].options
        return next(c for c in options["constraints"] if c.name == self.constraint.name)

    def _replace(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        state: ProjectState,
        constraint: Any,
    ) -> None:
        from django.db import transaction

        model = state.apps.get_model(app_label, self.model_name)
        qn = schema_editor.quote_name
        table = qn(model._meta.db_table)
        swap = [
            f"ALTER TABLE {table} DROP CONSTRAINT {qn(constraint.name)}",
            f"ALTER TABLE {table} ADD {constraint.constraint_sql(model, schema_editor)} NOT VALID",
        ]
        if schema_editor.collect_sql:
            for statement in swap:
                schema_editor.execute(statement)
        else:
            with transaction.atomic(using=schema_editor.connection.alias):
                for statement in swap:
                    schema_editor.execute(statement)
        schema_editor.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {qn(constraint.name)}")

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._replace(app_label, schema_editor, to_state, self.constraint)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._replace(app_label, schema_editor, to_state, self._current(app_label, to_state))
