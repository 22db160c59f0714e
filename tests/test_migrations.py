"""Every migration reverses: each app goes to zero and forward again on the real database."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests import catalog
from tests.seed_contract import SEED_TABLES

APP_TABLES = {
    "knowledge": ["rag_documents"],
    "agents_audit": [
        "llm_round_table_results",
        "agent_executions",
        "tool_executions",
        "projects",
        "tasks",
        "execution_logs",
        "artifacts",
        "events",
        "jobs",
        "job_type_pauses",
        "checkpoint_threads",
        "checkpoints",
        "checkpoint_blobs",
        "checkpoint_writes",
    ],
    # commerce holds the user model: reversing it also reverses everything that depends on it.
    "commerce": ["users", "products", "orders", "stock_movements"],
}


def migrate(*args: str) -> None:
    call_command("migrate", *args, verbosity=0, interactive=False)


@pytest.mark.django_db(transaction=True)
def test_each_app_migrates_to_zero_and_back_to_the_seed_schema():
    try:
        for app, tables in APP_TABLES.items():
            migrate(app, "zero")
            for table in tables:
                assert not catalog.table_exists(table), table
        assert not catalog.function_exists("update_updated_at_column")
        assert not catalog.table_exists("tool_executions")
    finally:
        migrate()

    for table, spec in SEED_TABLES.items():
        assert catalog.columns(table) == spec.all_columns
        assert catalog.foreign_keys(table) == spec.foreign_keys
        assert len(catalog.triggers(table)) == int(spec.updated_at_trigger)


@pytest.mark.django_db(transaction=True)
def test_every_migration_steps_back_one_at_a_time_and_forward_again():
    executor = MigrationExecutor(connection)
    leaves = [node for node in executor.loader.graph.leaf_nodes() if node[0] in APP_TABLES]
    try:
        for app_label, name in leaves:
            plan = executor.loader.graph.backwards_plan((app_label, name))
            own = [node for node in plan if node[0] == app_label]
            for node in own:
                parents = [
                    p for p in executor.loader.graph.node_map[node].parents if p.key[0] == app_label
                ]
                target = parents[0].key[1] if parents else "zero"
                migrate(app_label, target)
                migrate(app_label, node[1])
    finally:
        migrate()
    assert catalog.foreign_keys("orders") == SEED_TABLES["orders"].foreign_keys


@pytest.mark.django_db(transaction=True)
def test_the_trigger_function_survives_until_its_last_trigger_is_dropped():
    """Reversing one app must not drop the function that another app's triggers use."""
    try:
        migrate("knowledge", "zero")
        assert catalog.function_exists("update_updated_at_column")
        assert len(catalog.triggers("users")) == 1
    finally:
        migrate()
    assert len(catalog.triggers("rag_documents")) == 1


def _stock_movements() -> list[tuple[str, int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.sku, m.delta, m.kind FROM stock_movements m "
            "JOIN products p ON p.id = m.product_id ORDER BY p.sku"
        )
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_stock_held_before_the_ledger_gets_an_opening_movement_and_reversal_removes_it():
    try:
        migrate("commerce", "0008_product_version_stock_movements")
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO products (sku, name, price, inventory_quantity) "
                "VALUES ('A', 'a', 1, 7), ('B', 'b', 1, 0), ('C', 'c', 1, 2)"
            )

        migrate("commerce", "0009_stock_movements_opening_and_append_only")
        assert _stock_movements() == [("A", 7, "opening"), ("C", 2, "opening")]
        assert len(catalog.triggers("stock_movements")) == 1

        migrate("commerce", "0008_product_version_stock_movements")
        assert _stock_movements() == []
        assert catalog.triggers("stock_movements") == []
    finally:
        migrate()
    assert _stock_movements() == [("A", 7, "opening"), ("C", 2, "opening")]
